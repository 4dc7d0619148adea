"""What decisions and actions share: a parked job taken up again by a signed message from its
own tenant, and an action relayed to the front office and the citizen profile."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog

from hub.backoffice_auth import (
    MessageRejected,
    TenantSecrets,
    signature_key,
    tenant_of_routing_key,
)
from hub.contract import ErrorInfo, Job, Outcome, Result
from hub.contract_decoding import decode_job
from hub.messages import FINAL_ACTIONS, Action, Decision, StatusEvent
from hub.metrics import HubMetrics
from hub.runtime.finish import Finisher
from hub.runtime.inbound import Delivery, StoredMessage, occurrence_of
from hub.runtime.publisher import Publisher, copied_tenant
from hub.runtime.settle import ACK, DeadLetter, Settlement
from hub.store import ClaimState, OutcomeStore

__all__ = ["ParkedJobs", "StillRunning"]

log = structlog.get_logger(__name__)

ACTION_STATUS = {
    "received": "backoffice-received",
    "handled-outside": "backoffice-handled-outside",
    "information-requested": "backoffice-information-needed",
    "completed": "backoffice-completed",
    "cancelled": "backoffice-cancelled",
}


class StillRunning(Exception):
    """The job is in an attempt right now: what would resume it must come back later."""


class ParkedJobs:
    def __init__(self, *, store: OutcomeStore, publisher: Publisher, finisher: Finisher,
                 secrets: TenantSecrets, metrics: HubMetrics, worker_id: str,
                 lease_s: float) -> None:
        self._store = store
        self._publisher = publisher
        self._finisher = finisher
        self._secrets = secrets
        self._metrics = metrics
        self._worker_id = worker_id
        self._lease_s = lease_s

    def refused(self, kind: str, refused: MessageRejected) -> DeadLetter:
        log.warning(f"{kind}.refused", reason=refused.reason, detail=refused.message)
        self._metrics.refused_messages.labels(kind=kind, reason=refused.reason).inc()
        return DeadLetter(f"{kind}-{refused.reason}", ErrorInfo(refused.code, refused.message,
                                                                False))

    def signed(self, message: Delivery, kind: str) -> str | DeadLetter:
        """The tenant whose back-office secret signed this decision or action, or its
        refusal when it is not signed as :mod:`hub.backoffice_auth` says."""
        routing_key = message.routing_key or ""
        copied = copied_tenant(message.headers)
        if tenant_of_routing_key(routing_key, kind) is None and copied is not None:
            # Our own delayed copy of an early action: it lost its routing key on the way.
            routing_key = f"{kind}.{copied}"
        try:
            return self._secrets.verify(message.body, message.headers or {}, routing_key, kind)
        except MessageRejected as refused:
            return self.refused(kind, refused)

    async def resume(self, job_id: str, awaiting: frozenset[str]
                     ) -> tuple[StoredMessage, Job, dict[str, Any]] | None:
        """Take a job that waits for one of ``awaiting``: its original message, job and journal.

        None (and the claim given back) when the job does not wait for that; raises
        :class:`StillRunning` when an attempt of it runs now.
        """
        claim = await self._store.claim(job_id, self._worker_id, self._lease_s,
                                        continuation=True)
        if claim.state is ClaimState.BUSY:
            raise StillRunning(job_id)
        journal = claim.journal or {}
        if claim.state is not ClaimState.ACQUIRED or journal.get("awaiting") not in awaiting:
            if claim.state is ClaimState.ACQUIRED:
                await self._store.release(job_id, self._worker_id)
            log.warning("resume.not_awaited", awaiting=sorted(awaiting),
                        state=claim.state.value)
            return None
        stored = journal["_message"]
        assert isinstance(stored, dict)
        original = StoredMessage.from_journal(stored)
        return original, decode_job(original.body, original.message_id), journal

    def applicable(self, message: Delivery, kind: str, tenant: str,
                   named_tenant: str | None, job: Job,
                   journal: Mapping[str, Any]) -> Settlement | None:
        """None when a signed decision or action may change this job: signed for the job's
        own tenant, naming no other, and not applied to it before; else how the message
        ends (refused, or acknowledged when it is a redelivery of one already applied)."""
        if tenant != job.tenant or (named_tenant is not None and named_tenant != job.tenant):
            return self.refused(kind, MessageRejected(
                "wrong-tenant", f"signed for {tenant!r}, the job belongs to another tenant"))
        if signature_key(message.headers or {}) in (journal.get("_applied") or ()):
            if message.redelivered:
                log.info(f"{kind}.already_applied")
                return ACK
            return self.refused(kind, MessageRejected(
                "replayed", "this signed message was applied to the job already"))
        return None

    @staticmethod
    def applied(journal: Mapping[str, Any], message: Delivery) -> dict[str, Any]:
        """The journal with this message remembered as applied (the last 100 are kept)."""
        applied = [*(journal.get("_applied") or ())][-99:]
        return {**journal, "_applied": [*applied, signature_key(message.headers or {})]}

    async def release_quietly(self, job_id: str) -> None:
        await self._finisher.release_quietly(job_id)

    async def release(self, job_id: str) -> None:
        await self._store.release(job_id, self._worker_id)

    async def relay(self, message: Delivery, original: StoredMessage, job: Job,
                    journal: dict[str, Any], kind: str, fields: Decision | Action, *,
                    cancel_code: str) -> Settlement:
        """Relay one action on a parked request (from its back office, or from an employee
        when there is none): a result for the front office, a status for the applicant; the
        job stays parked until a final action. The caller holds the job's claim."""
        elsewhere = kind == "information-requested" and fields.asks_information_elsewhere
        status = "backoffice-information-requested-elsewhere" if elsewhere \
            else ACTION_STATUS[kind]
        data: dict[str, Any] = {"action": kind}
        for key, value in (("decision", fields.decision), ("message", fields.message),
                           ("information_from", fields.information_from),
                           ("employee", fields.employee), ("at", fields.at)):
            if value is not None:
                data[key] = value
        note = fields.message or f"{kind} ({fields.employee or 'back office'})"
        if kind == "cancelled":
            result = Result.for_job(job, Outcome.REJECTED, attempts=1, data=data, note=note,
                                    error=ErrorInfo(cancel_code, note, False))
        elif kind in FINAL_ACTIONS:
            result = Result.for_job(job, Outcome.DELIVERED, attempts=1, data=data, note=note)
        else:
            result = Result.for_job(job, Outcome.IN_TREATMENT, attempts=1, data=data,
                                    note=note)
        # For the applicant only what is meant for them: never the internal note.
        event = StatusEvent.of(
            job, result, status=status, occurrence=occurrence_of(message),
            applicant_message=fields.applicant_message, notify=fields.notify_applicant,
            information_from=(fields.information_from or "applicant")
            if kind == "information-requested" else None)
        if result.outcome.final:
            await self._finisher.finish(original, job, result, status=event)
        else:
            await self._finisher.interim(original, job, result, journal=dict(journal),
                                         status=event)
        log.info("action.relayed", action=kind, status=status)
        return ACK
