"""The handler of ``backoffice.decisions``: an employee's answer to a task.

Approve or refuse a parked job, or one of the four actions on a request the municipality
handles without a back office (an employee task). Signed with the tenant's back-office secret
and applied only to a job of that tenant, once.
"""

from __future__ import annotations

import asyncio

import structlog

from hub.contract import ErrorInfo, Job, Outcome, Result
from hub.messages import EMPLOYEE_ACTIONS, Decision, UnreadableMessage
from hub.pipeline import Pipeline, Processed
from hub.runtime.finish import Finisher
from hub.runtime.inbound import Delivery, StoredMessage
from hub.runtime.parked import ParkedJobs, StillRunning
from hub.runtime.settle import ACK, DeadLetter, Settlement

__all__ = ["DecisionHandler"]

log = structlog.get_logger(__name__)


class DecisionHandler:
    def __init__(self, *, parked: ParkedJobs, pipeline: Pipeline, finisher: Finisher,
                 worker_id: str) -> None:
        self._parked = parked
        self._pipeline = pipeline
        self._finisher = finisher
        self._worker_id = worker_id

    async def handle(self, message: Delivery) -> Settlement:
        tenant = self._parked.signed(message, "decision")
        if isinstance(tenant, DeadLetter):
            return tenant
        try:
            decision = Decision.decode(message.body)
        except UnreadableMessage as exc:
            log.warning("decision.unreadable", reason=str(exc)[:300])
            return DeadLetter("unreadable-decision",
                              ErrorInfo("INVALID_DECISION", str(exc)[:500], False))
        job_id = decision.job_id
        with structlog.contextvars.bound_contextvars(job_id=job_id, worker=self._worker_id):
            try:
                resumed = await self._parked.resume(job_id, frozenset({decision.awaiting}))
            except StillRunning:
                # A decision answers the task a parked job sent out: a running job has none.
                log.warning("resume.not_awaited", awaiting=decision.awaiting, state="busy")
                return ACK
            if resumed is None:
                return ACK
            original, job, journal = resumed
            try:
                refusal = self._parked.applicable(message, "decision", tenant,
                                                  decision.tenant, job, journal)
                if refusal is not None:
                    await self._parked.release(job_id)
                    return refusal
                journal = self._parked.applied(journal, message)
                return await self._apply(message, original, job, journal, decision)
            except BaseException:
                await asyncio.shield(self._parked.release_quietly(job_id))
                raise

    async def _apply(self, message: Delivery, original: StoredMessage, job: Job,
                     journal: dict[str, object], decision: Decision) -> Settlement:
        verdict = decision.decision
        employee = decision.employee or "employee"
        if verdict in EMPLOYEE_ACTIONS:
            return await self._parked.relay(message, original, job, dict(journal), verdict,
                                            decision, cancel_code="CANCELLED_BY_EMPLOYEE")
        rule = journal.get("rule")
        if verdict == "refuse":
            processed = Processed(Result.for_job(
                job, Outcome.REJECTED, attempts=1,
                error=ErrorInfo("REFUSED_BY_EMPLOYEE",
                                decision.reason or "refused by an employee", False,
                                {"employee": employee, "rule": rule}),
            ))
        else:
            processed = await self._pipeline.process(
                job, 1, {"approved": {"employee": employee, "rule": rule}})
        log.info("decision.applied", decision=verdict, employee=employee)
        accepted = verdict == "approve"
        if processed.continuation is not None:
            await self._finisher.park(original, job, processed, first=True, approved=accepted)
        else:
            await self._finisher.finish(original, job, processed.result, approved=accepted)
        return ACK
