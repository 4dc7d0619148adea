"""Steps 3–6 of a job as one straight function: tenant, guarded adapter call, documents.

Decoding (1), idempotency (2) and publishing (7–8) belong to the worker, which owns the message.
A permanent problem comes back as a ``rejected`` :class:`Result`; a transient one is raised as
:class:`~hub.errors.TransientError` so the worker can schedule the next attempt; an asynchronous
back end that is still working comes back as ``in-treatment`` with a :class:`Continuation`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from hub.config import TenantSettings
from hub.contract import Document, ErrorInfo, Job, Outcome, Result
from hub.documents.names import safe_file_name, safe_given_name
from hub.documents.pool import DocumentWorkers
from hub.errors import ApprovalRequired, ConfigurationError, InvalidInput, PermanentError
from hub.policy import PolicyRules, decide, load_policy
from hub.ports import (
    AdapterAnswer,
    AuditTrail,
    BackgroundWrites,
    CallContext,
    Clock,
    Continuation,
)
from hub.registry import AdapterRegistry
from hub.status.mapping import Catalogue, load_catalogue

__all__ = ["Pipeline", "Processed"]

log = structlog.get_logger(__name__)

# The extension a back end's document is named with, by its media type (its own is not trusted).
_EXTENSIONS = {"application/pdf": "pdf", "application/xml": "xml", "text/xml": "xml"}


@dataclass(frozen=True)
class Processed:
    result: Result
    continuation: Continuation | None = None


class Pipeline:
    def __init__(
        self,
        *,
        registry: AdapterRegistry,
        tenants: dict[str, TenantSettings],
        documents: DocumentWorkers,
        signing_refs: Mapping[str, str],
        clock: Clock,
        audit: AuditTrail,
        policy: PolicyRules | None = None,
        catalogue: Catalogue | None = None,
    ) -> None:
        self._policy = policy or load_policy()
        self._catalogue = catalogue or load_catalogue()  # products per job type, for the policy
        self._registry = registry
        self._tenants = tenants
        self._documents = documents
        self._signing_refs = signing_refs
        self._clock = clock
        self._audit = audit

    @property
    def job_types(self) -> frozenset[str]:
        """The job types some adapter serves."""
        return self._registry.job_types

    async def process(
        self, job: Job, attempt: int, journal: Mapping[str, Any] | None = None,
        announce: Callable[[], Awaitable[None]] | None = None,
    ) -> Processed:
        """Run the job once. Raises ``TransientError`` (retry) or ``OurFault`` (dead letter).

        ``announce`` publishes the job's "received" status if it is still due.
        """
        background = BackgroundWrites()
        try:
            return await self._process(job, attempt, journal, background, announce)
        finally:
            # The audit's completion records were written while the job went on; none of its
            # outcomes (stored result, retry, dead letter) may come before them.
            await background.settle()

    async def _process(
        self, job: Job, attempt: int, journal: Mapping[str, Any] | None,
        background: BackgroundWrites, announce: Callable[[], Awaitable[None]] | None,
    ) -> Processed:
        try:
            tenant = self._tenants.get(job.tenant)
            if tenant is None:
                raise InvalidInput(f"unknown tenant {job.tenant!r}", code="UNKNOWN_TENANT")
            adapter = self._registry.for_type(job.type)
            if adapter is None:
                # The schema lets only served types through: this is our tables disagreeing.
                raise ConfigurationError(f"no adapter serves {job.type!r}",
                                         code="UNSUPPORTED_JOB_TYPE")
            structlog.contextvars.bind_contextvars(adapter=adapter.name)
            journal = dict(journal or {})
            approved = journal.get("approved")
            if isinstance(approved, dict):
                decided_by = f"approved-by:{approved.get('employee') or 'employee'}"
            else:
                decided_by = decide(job, tenant, self._policy, self._catalogue).rule
            announcing: dict[str, Any] = {} if announce is None else {"announce": announce}
            # Each process() is one run with its own MAGDA references (CallContext.run).
            context = CallContext(
                job=job, tenant=tenant, attempt=attempt, audit=self._audit,
                journal=journal, decided_by=decided_by, background=background, **announcing,
            )
            # Each back end's breaker guards its own calls, in the client the adapters share.
            answer = await adapter.handle(context)
        except ApprovalRequired as needed:
            log.info("job.awaiting_approval", code=needed.code, reason=needed.message,
                     rule=needed.details.get("rule"))
            return Processed(
                Result.for_job(
                    job, Outcome.AWAITING_APPROVAL, attempts=attempt,
                    error=ErrorInfo.from_exception(needed), note=needed.message,
                ),
                continuation=Continuation(
                    journal={"awaiting": "approval", "rule": needed.details.get("rule"),
                             "reason": needed.message},
                    poll_after_s=None,
                    note=needed.message,
                ),
            )
        except PermanentError as error:
            log.info("job.rejected", code=error.code, reason=error.message)
            return Processed(Result.for_job(
                job,
                Outcome.REJECTED,
                attempts=attempt,
                error=ErrorInfo.from_exception(error),
                backend_reference=_reference_of(error),
            ))
        if isinstance(answer, Continuation):
            log.info("job.in_treatment", note=answer.note, poll_after_s=answer.poll_after_s)
            return Processed(
                Result.for_job(
                    job, Outcome.IN_TREATMENT, attempts=attempt,
                    backend_reference=answer.backend_reference, note=answer.note,
                ),
                continuation=answer,
            )
        documents = await self._documents_for(job, tenant, answer)
        return Processed(Result.for_job(
            job,
            Outcome.DELIVERED,
            attempts=attempt,
            documents=documents,
            backend_reference=answer.backend_reference,
            decided_by=context.decided_by,
            data=dict(answer.data) if answer.data is not None else None,
        ))

    async def _documents_for(
        self, job: Job, tenant: TenantSettings, answer: AdapterAnswer
    ) -> tuple[Document, ...]:
        issued_at = self._clock.now()
        identity = self._signing_refs[tenant.slug]
        documents: list[Document] = []
        if answer.certificate is not None:
            kind = answer.certificate.kind
            xml, pdf = await self._documents.render_and_sign(
                answer.certificate, tenant, job.job_id, answer.backend_reference, issued_at,
                identity,
            )
            # The dossier id is the front office's: only its safe characters make the name.
            documents += [
                Document(f"{kind}-xml", "application/xml",
                         safe_file_name(kind, job.dossier_id, ext="xml"), xml),
                Document(f"{kind}-pdf", "application/pdf",
                         safe_file_name(kind, job.dossier_id, ext="pdf"), pdf),
            ]
        if answer.backend_document is not None:
            original = answer.backend_document
            sealed = await self._documents.seal(
                original.content, identity, signing_time=issued_at,
                reason=f"Delivered by {tenant.name} (reference {job.job_id})",
            )
            # Adapters name their documents safely; checked again here, where all names pass.
            name = safe_given_name(original.file_name,
                                   ext=_EXTENSIONS.get(original.media_type, "bin"))
            documents.append(Document(original.kind, original.media_type, name, sealed))
        return tuple(documents)


def _reference_of(error: PermanentError) -> str | None:
    reference = error.details.get("magda_reference")
    return reference if isinstance(reference, str) else None
