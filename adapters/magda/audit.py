"""The audit hook a MAGDA call reports to, built from the job's call context."""

from __future__ import annotations

from adapters.magda.client import ServiceSpec
from hub.ports import CallContext

__all__ = ["ContextAudit"]


class ContextAudit:
    """Writes each consultation of one job attempt to the hub's audit trail."""

    def __init__(self, context: CallContext, *, client_identification: str, purpose: str) -> None:
        self._context = context
        self._client_identification = client_identification
        self._purpose = purpose

    async def started(self, service: ServiceSpec, reference: str) -> None:
        await self._context.audit.consultation_started(
            self._context.consultation(
                reference=reference,
                service=service.name,
                version=service.version,
                client_identification=self._client_identification,
                purpose=self._purpose,
            )
        )

    async def finished(
        self, reference: str, *, outcome: str, reply_reference: str | None, duration_ms: float
    ) -> None:
        # Not awaited here: the job goes on (mapping, documents) while the record completes,
        # and its attempt settles the write before the outcome is stored.
        self._context.background.start(self._context.audit.consultation_finished(
            reference, outcome=outcome, reply_reference=reply_reference, duration_ms=duration_ms
        ))
