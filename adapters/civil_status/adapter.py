"""Civil-status acts (DABS): find the act, check who may have which form, fetch its PDF.

The act document is sealed by the back end already; the hub seals it again as the delivering
municipality (the pipeline does that) and never re-renders it.
"""

from __future__ import annotations

from adapters.civil_status.client import FETCH, SEARCH, SERVICES, fetch_inhoud, search_inhoud
from adapters.civil_status.errors import ActNotFound
from adapters.civil_status.mapping import (
    ActRules,
    act_document,
    acts_of,
    decide_before_search,
    decide_entitlement,
    load_rules,
    not_in_any_act,
    pick_act,
    synopses_from_inhoud,
)
from adapters.magda import ContextAudit
from adapters.magda.adapter import MagdaAdapter
from adapters.magda.xop import document_bytes
from hub.documents.names import safe_file_name
from hub.errors import ConfigurationError, NotFound
from hub.policy import LISTED_RIGHT as POLICY_LISTED_RIGHT
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
        asked = f"civil-status {act_id} {form} (product {job.product_id})" + (
            f": {job.purpose}" if job.purpose else "")
        audit = ContextAudit(
            context,
            client_identification=services.profile.identity.client_identification,
            purpose=asked,
        )
        requester = job.requester
        persons = {requester.identifier} if requester.capacity == "person" else set()
        if requester.acting_person:
            persons.add(requester.acting_person)
        # After an employee approved the request, the employee decided who may have it.
        # Otherwise everything the job alone decides comes first: DABS is asked nothing for a
        # relation that is refused or goes to an employee (mappings/civil-status.toml).
        granted = "approved" if context.journal.get("approved") else decide_before_search(
            form, requester_persons=persons, subject=job.subject.identifier,
            declared_relationship=job.parameters.get("relationship"),
            listed_right=context.decided_by.startswith(f"{POLICY_LISTED_RIGHT}:"),
            rules=self._rules,
        )
        search_audit = audit if granted else ContextAudit(
            context,
            client_identification=services.profile.identity.client_identification,
            purpose=f"entitlement check: does the requester appear in the act? ({asked})",
        )
        # MAGDA's search has no reference criterion: the subject's acts of this type are
        # searched, and with an act_reference the one with that reference is taken.
        try:
            found = await services.client(SEARCH).call(
                search_inhoud(document_type=self._rules.code_of(act_id),
                              insz=job.subject.identifier,
                              nis_code=context.tenant.nis_code, language=language),
                referte=context.reference(SEARCH.name), audit=search_audit,
            )
        except NotFound as exc:
            if not granted:
                raise not_in_any_act(form, self._rules) from exc
            raise ActNotFound("no civil-status act matches the request",
                              details=exc.details) from exc
        synopses = synopses_from_inhoud(found.inhoud)
        if not granted:
            # What the search found is only for a requester who appears in it: the acts, their
            # number and their state never reach anyone else.
            synopses = acts_of(synopses, persons)
            if not synopses:
                raise not_in_any_act(form, self._rules)
        wanted = job.parameters.get("act_reference")
        if wanted:
            synopses = tuple(s for s in synopses if s.reference == wanted)
        act = pick_act(synopses, self._rules)
        assert act.reference is not None  # pick_act refuses an act without one
        if not granted:
            decide_entitlement(
                act, form, requester_persons=persons,
                declared_relationship=job.parameters.get("relationship"), rules=self._rules,
            )
        fetched = await services.client(FETCH).call(
            fetch_inhoud(reference=act.reference, form=form, model=act.type_code,
                         nis_code=context.tenant.nis_code, language=language),
            referte=context.reference(FETCH.name), audit=audit,
        )
        delivered = act_document(fetched.inhoud, form=form, reference=act.reference)
        content = document_bytes(delivered.document, fetched.attachments)
        word = self._rules.acts[act_id][1]
        # DABS gives no file name: ours is the act's word, the form and the reference.
        kind = "uittreksel" if form == "extract" else "afschrift"
        file_name = safe_file_name(word, kind, act.reference, ext="pdf")
        return AdapterAnswer(
            backend_document=BackendDocument(
                kind=f"civil-status-{form}", file_name=file_name, content=content
            ),
            backend_reference=fetched.request_reference,
        )
