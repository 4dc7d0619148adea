"""Steps 3–6 of a job as one straight function: tenant, guarded adapter call, document.

Decoding (1), idempotency (2) and publishing (7–8) belong to the worker, which owns the message.
A permanent problem comes back as a ``rejected`` or ``failed`` :class:`Result`; a transient one is
raised as :class:`~hub.errors.TransientError` so the worker can schedule the next attempt.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor

import structlog

from hub.breaker import CircuitBreaker
from hub.config import TenantSettings
from hub.contract import Document, ErrorInfo, Job, Outcome, Result
from hub.documents.render import render_certificate_xml
from hub.documents.xml_signature import XmlDocumentSigner
from hub.errors import InvalidInput, PermanentError
from hub.ports import AuditTrail, CallContext, Clock
from hub.registry import AdapterRegistry

__all__ = ["Pipeline"]

log = structlog.get_logger(__name__)


class Pipeline:
    def __init__(
        self,
        *,
        registry: AdapterRegistry,
        tenants: dict[str, TenantSettings],
        signer: XmlDocumentSigner,
        clock: Clock,
        document_pool: Executor,
        audit: AuditTrail,
        breakers: dict[str, CircuitBreaker],
    ) -> None:
        self._audit = audit
        self._breakers = breakers
        self._registry = registry
        self._tenants = tenants
        self._signer = signer
        self._clock = clock
        self._pool = document_pool

    async def process(self, job: Job, attempt: int) -> Result:
        """Run the job once. Raises ``TransientError`` (retry) or ``OurFault`` (dead letter)."""
        try:
            tenant = self._tenants.get(job.tenant)
            if tenant is None:
                raise InvalidInput(f"unknown tenant {job.tenant!r}", code="UNKNOWN_TENANT")
            adapter = self._registry.for_type(job.type)
            if adapter is None:
                raise InvalidInput(f"no adapter serves {job.type!r}", code="UNSUPPORTED_JOB_TYPE")
            structlog.contextvars.bind_contextvars(adapter=adapter.name)
            context = CallContext(job=job, tenant=tenant, attempt=attempt, audit=self._audit)
            breaker = self._breakers.get(adapter.name)
            if breaker is None:
                answer = await adapter.handle(context)
            else:
                async with breaker.guard():
                    answer = await adapter.handle(context)
        except PermanentError as error:
            log.info("job.rejected", code=error.code, reason=error.message)
            return Result.for_job(
                job,
                Outcome.REJECTED,
                attempts=attempt,
                error=ErrorInfo.from_exception(error),
                backend_reference=_reference_of(error),
            )
        root = render_certificate_xml(
            answer.certificate,
            tenant=tenant,
            reference=job.job_id,
            backend_reference=answer.backend_reference,
            issued_at=self._clock.now(),
        )
        # Signing is CPU work: off the event loop, so the broker heartbeat never starves.
        signed = await asyncio.get_running_loop().run_in_executor(
            self._pool, self._signer.sign, root
        )
        document = Document(
            kind=f"{answer.certificate.kind}-xml",
            media_type="application/xml",
            file_name=f"{answer.certificate.kind}-{job.dossier_id}.xml",
            content=signed,
        )
        return Result.for_job(
            job,
            Outcome.DELIVERED,
            attempts=attempt,
            documents=(document,),
            backend_reference=answer.backend_reference,
        )


def _reference_of(error: PermanentError) -> str | None:
    reference = error.details.get("magda_reference")
    return reference if isinstance(reference, str) else None
