"""Civil-status acts (DABS): find the act, check who may have which form, fetch its PDF.

The act document is sealed by the back end already; the hub seals it again as the delivering
municipality (the pipeline does that) and never re-renders it.
"""

from __future__ import annotations

from adapters.civil_status.client import FETCH, SEARCH, SERVICES, fetch_inhoud, search_inhoud
from adapters.civil_status.errors import ActNotFound
from adapters.civil_status.mapping import (
    ActRules,
    decide_entitlement,
    load_rules,
    pick_act,
    synopses_from_inhoud,
)
from adapters.magda import ContextAudit
from adapters.magda.adapter import MagdaAdapter
from adapters.magda.xmlread import text
from adapters.magda.xop import document_bytes
from hub.errors import ConfigurationError, NotFound
from hub.ports import AdapterAnswer, BackendDocument, CallContext

__all__ = ["CivilStatusAdapter"]


class CivilStatusAdapter(MagdaAdapter):
    name = "civil-status"
    job_types = frozenset({"civil-status.act"})
    SERVICES = SERVICES

    @property
    def _rules(self) -> ActRules:
        return load_rules()  # read once from mappings/ (cached), and checked by check_config

    def check_config(self) -> list[str]:
        try:
            load_rules()
        except ConfigurationError as exc:
            return [exc.message, *super().check_config()]
        return super().check_config()

    async def handle(self, context: CallContext) -> AdapterAnswer:
        job = context.job
        act_id = job.parameters["act"]
        form = job.parameters.get("form", "extract")
        language = job.parameters.get("language", "nl")
        services = self._services.for_tenant(job.tenant)
        audit = ContextAudit(
            context,
            client_identification=services.profile.identity.client_identification,
            purpose=f"civil-status {act_id} {form} (product {job.product_id})"
            + (f": {job.purpose}" if job.purpose else ""),
        )
        try:
            found = await services.client(SEARCH).call(
                search_inhoud(document_type=self._rules.code_of(act_id),
                              insz=job.subject.identifier,
                              nis_code=context.tenant.nis_code, language=language),
                referte=context.reference(SEARCH.name), audit=audit,
            )
        except NotFound as exc:
            raise ActNotFound("no civil-status act matches the request",
                              details=exc.details) from exc
        acts = synopses_from_inhoud(found.inhoud)
        if job.parameters.get("act_reference"):
            acts = tuple(a for a in acts if a.reference == job.parameters["act_reference"])
        act = pick_act(acts, self._rules)
        requester = job.requester
        persons = {requester.identifier} if requester.capacity == "person" else set()
        if requester.acting_person:
            persons.add(requester.acting_person)
        if not context.journal.get("approved"):
            # After an employee approved the request, the entitlement rule has been applied.
            decide_entitlement(
                act, form, requester_persons=persons,
                declared_relationship=job.parameters.get("relationship"), rules=self._rules,
            )
        fetched = await services.client(FETCH).call(
            fetch_inhoud(reference=act.reference, form=form, model=act.type_code,
                         nis_code=context.tenant.nis_code, language=language),
            referte=context.reference(FETCH.name), audit=audit,
        )
        body = fetched.inhoud.find("Uittreksel" if form == "extract" else "Afschrift") \
            if fetched.inhoud is not None else None
        content = document_bytes(body.find("Document") if body is not None else None,
                                 fetched.attachments)
        word = self._rules.acts[act_id][1]
        file_name = (text(body, "Bestandsnaam") if body is not None else None) or (
            f"{word}-{'uittreksel' if form == 'extract' else 'afschrift'}-{act.reference}.pdf"
        )
        return AdapterAnswer(
            backend_document=BackendDocument(
                kind=f"civil-status-{form}", file_name=file_name, content=content
            ),
            backend_reference=fetched.request_reference,
        )
