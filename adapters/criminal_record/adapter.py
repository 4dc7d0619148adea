"""Criminal-record extracts: request, poll the status through the hub's delayed queues, fetch.

Each run of :meth:`handle` does one step and says what comes next: the first run asks for the
extract and returns a :class:`Continuation` with the identification number in the journal; each
poll asks the status; when the extract is ready, the PDF (an MTOM attachment) is fetched and
handed back to be sealed. Nothing sleeps, and a restart resumes from the stored journal.
"""

from __future__ import annotations

import datetime as dt

from adapters.criminal_record.client import (
    EXTRACT,
    SERVICES,
    STATUS,
    fetch_inhoud,
    request_inhoud,
    status_inhoud,
)
from adapters.criminal_record.errors import ExtractRefused, ExtractTimedOut
from adapters.criminal_record.mapping import (
    READY,
    REFUSED,
    ModelRule,
    check_request,
    extract_from_inhoud,
    load_models,
    next_poll_s,
    status_of,
)
from adapters.magda import ContextAudit
from adapters.magda.adapter import MagdaAdapter
from adapters.magda.wssecurity import ReplySignatureInvalid
from adapters.magda.xop import document_bytes
from hub.documents.names import safe_file_name, safe_given_name
from hub.errors import ConfigurationError, MappingError
from hub.ports import AdapterAnswer, BackendDocument, CallContext, Continuation

__all__ = ["SIGNATURE_REFUSALS", "CriminalRecordAdapter"]

# How often a poll or fetch may come back with a reply signature that does not verify before
# the job is refused: each is repeated safely (status and fetch by Identificatienummer).
SIGNATURE_REFUSALS = 3


class CriminalRecordAdapter(MagdaAdapter):
    name = "criminal-record"
    job_types = frozenset({"criminal-record.extract"})
    SERVICES = SERVICES

    @property
    def _models(self) -> dict[str, ModelRule]:
        return load_models()  # read once from mappings/ (cached), and checked by check_config

    def check_config(self) -> list[str]:
        try:
            load_models()
        except ConfigurationError as exc:
            return [exc.message, *super().check_config()]
        return super().check_config()

    async def handle(self, context: CallContext) -> AdapterAnswer | Continuation:
        job = context.job
        rule = self._models[job.parameters["model"]]
        services = self._services.for_tenant(job.tenant)
        audit = ContextAudit(
            context,
            client_identification=services.profile.identity.client_identification,
            purpose=f"criminal-record extract {rule.model} (product {job.product_id})"
            + (f": {job.purpose}" if job.purpose else ""),
        )
        journal = context.journal
        if not journal:
            check_request(job, rule)
            inhoud = request_inhoud(job, rule, nis_code=context.tenant.nis_code)
            try:
                answer = await services.client(EXTRACT).call(
                    inhoud, referte=context.reference(EXTRACT.name, "request"), audit=audit,
                )
            except ReplySignatureInvalid as refused:
                # The source has the request; its answer cannot be trusted, so there is no
                # number. The error is permanent (never a second request); the reference we
                # sent finds the extract in GeefStatusUittrekselStrafregister (Referentie).
                refused.details["requested_with_reference"] = inhoud["Criteria"]["Referentie"]
                raise
            requested = extract_from_inhoud(answer.inhoud)
            if requested.number is None:
                raise MappingError("the extract request answered no Identificatienummer")
            return self._wait(rule, requested.number, polls=0,
                              requested_at=dt.datetime.now(dt.UTC).isoformat())
        number = str(journal["number"])
        refusals = int(str(journal.get("signature_refusals", 0)))
        try:
            return await self._poll_or_fetch(context, rule, audit, number, refusals)
        except ReplySignatureInvalid as refused:
            refused.details["number"] = number
            refusals += 1
            if refusals >= SIGNATURE_REFUSALS:
                raise
            # Permanent for the hub (no job retry), but here repeating is known to be safe:
            # the retry of a later step is that step again, the status and the fetch by
            # Identificatienummer, never the request (which would make a second extract).
            # So the job waits for its next poll, a bounded number of times.
            polls = int(str(journal.get("polls", 0))) + 1
            return self._wait(rule, number, polls=polls, requested_at=str(journal["requested_at"]),
                              signature_refusals=refusals)

    async def _poll_or_fetch(
        self, context: CallContext, rule: ModelRule, audit: ContextAudit, number: str,
        refusals: int,
    ) -> AdapterAnswer | Continuation:
        job, journal = context.job, context.journal
        services = self._services.for_tenant(job.tenant)
        polls = int(str(journal.get("polls", 0))) + 1
        requested_at = dt.datetime.fromisoformat(str(journal["requested_at"]))
        nis_code = context.tenant.nis_code
        status_answer = await services.client(STATUS).call(
            status_inhoud(job, nis_code=nis_code),
            referte=context.reference(STATUS.name, f"poll-{polls}"), audit=audit,
        )
        status = status_of(status_answer.inhoud, number)
        if status == READY:
            # A fetch repeated after a refused signature is a new question: its own reference.
            step = f"fetch-{refusals}" if refusals else "fetch"
            fetched = await services.client(EXTRACT).call(
                fetch_inhoud(job, number, nis_code=nis_code),
                referte=context.reference(EXTRACT.name, step), audit=audit,
            )
            extract = extract_from_inhoud(fetched.inhoud)
            if extract.document is not None:
                content = document_bytes(extract.document, fetched.attachments)
                return AdapterAnswer(
                    backend_document=BackendDocument(
                        kind=f"criminal-record-extract-{rule.model}",
                        file_name=(safe_given_name(extract.file_name, ext="pdf")
                                   if extract.file_name
                                   else safe_file_name("uittreksel", rule.model, number,
                                                       ext="pdf")),
                        content=content,
                    ),
                    backend_reference=number,
                )
            # Said ready, then fetched without its Bestand: believe the fetch, look again later.
            status = extract.status
        if status == REFUSED:
            raise ExtractRefused("the criminal record refused to deliver this extract",
                                 details={"number": number})
        if dt.datetime.now(dt.UTC) - requested_at > rule.max_wait:
            raise ExtractTimedOut(
                f"the extract was not ready within {rule.max_wait.days} days",
                details={"number": number},
            )
        return self._wait(rule, number, polls=polls, requested_at=requested_at.isoformat(),
                          signature_refusals=refusals)

    @staticmethod
    def _wait(
        rule: ModelRule, number: str, *, polls: int, requested_at: str, signature_refusals: int = 0
    ) -> Continuation:
        note = (
            "the criminal record is checking with the police (model 596.2); this can take weeks"
            if rule.police_check
            else "the criminal record is preparing the extract"
        )
        return Continuation(
            journal={"number": number, "polls": polls, "requested_at": requested_at,
                     **({"signature_refusals": signature_refusals} if signature_refusals else {})},
            poll_after_s=next_poll_s(rule, polls),
            note=note,
            backend_reference=number,
        )
