"""The one path that ends a job, and the one that parks it.

:meth:`Finisher.finish` stores a job's final result, counts it, publishes it with its status
(confirmed) and marks it published; every way a job ends takes it (an attempt, an employee's
decision, a back office's final action, a job RabbitMQ gave up on), so every answered job is
counted once. :meth:`Finisher.park` stores a job that waits (a poll, an employee, a back
office) and tells who must know. :meth:`Finisher.refuse` answers a message no job owns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog

from hub.contract import Job, Result
from hub.messages import ApprovalTask, StatusEvent
from hub.metrics import HubMetrics
from hub.pipeline import Processed
from hub.runtime.inbound import MessageLike, StoredMessage
from hub.runtime.publisher import Publisher
from hub.store import ClaimState, OutcomeStore

__all__ = ["Finisher", "job_type_label"]

log = structlog.get_logger(__name__)


def job_type_label(value: object, known: frozenset[str]) -> str:
    """A job type as a metric label: one of the known types, else ``unknown`` (a label never
    takes what a message made up)."""
    return value if isinstance(value, str) and value in known else "unknown"


class Finisher:
    def __init__(self, store: OutcomeStore, publisher: Publisher, metrics: HubMetrics, *,
                 worker_id: str, lease_s: float) -> None:
        self._store = store
        self._publisher = publisher
        self._metrics = metrics
        self._worker_id = worker_id
        self._lease_s = lease_s

    async def release_quietly(self, job_id: str) -> None:
        """Give a claim back after a failure; the lease ends it anyway if even this fails."""
        try:
            await self._store.release(job_id, self._worker_id)
        except Exception as exc:
            log.warning("job.release_failed", error=repr(exc)[:200])

    async def interim(self, incoming: MessageLike, job: Job, result: Result, *,
                      journal: dict[str, Any], status: StatusEvent) -> None:
        """A parked job's answer that is not the last (a back office's "in treatment"): the
        journal and the interim result stored, result and status published; it stays parked.
        Not counted: only the final answer is."""
        await self._store.suspend(job.job_id, self._worker_id, journal=journal,
                                  interim=result.to_json())
        await self._publisher.outcome(incoming, job, result, status=status)

    def _count(self, job_type: str, result: Result) -> None:
        self._metrics.jobs.labels(type=job_type, outcome=result.outcome.value).inc()

    async def finish(self, incoming: MessageLike, job: Job, result: Result, *,
                     announce: bool = False, approved: bool = False,
                     status: StatusEvent | None = None) -> None:
        """Store, count, publish (result and status, confirmed), mark published. The caller
        holds the job's claim. ``status``: the event to publish (default: the outcome's)."""
        await self._store.complete(job.job_id, self._worker_id, result.to_json())
        # Counted once stored: a redelivery replays the stored result and is not counted again.
        self._count(job.type, result)
        await self._publisher.outcome(
            incoming, job, result, announce=announce,
            status=status or StatusEvent.of(job, result, approved=approved))
        await self._store.mark_published(job.job_id)

    async def publish_stored(self, incoming: MessageLike, job: Job, stored: bytes, *,
                             announce: bool) -> None:
        """A stored result again, its bytes as they are (a replay, or one never confirmed)."""
        result = Result.from_json(stored)
        await self._publisher.outcome(incoming, job, result, announce=announce,
                                      status=StatusEvent.of(job, result), body=stored)
        await self._store.mark_published(job.job_id)

    async def park(self, message: MessageLike, job: Job, processed: Processed, *,
                   first: bool, announce: bool = False, approved: bool = False) -> None:
        """Park a job: journal stored, front office told, next poll or an employee's task set."""
        assert processed.continuation is not None
        publisher = self._publisher
        if announce:
            # Confirmed before the job can be resumed: an employee's action may follow at once.
            await publisher.received(job)
        continuation = processed.continuation
        awaiting = continuation.journal.get("awaiting")
        status = StatusEvent.of(job, processed.result, approved=approved)
        # A back office answers as soon as it has the request, and its first action can resume
        # the job the moment it is stored as waiting: the job's own "in-treatment" status goes
        # out before that, so the citizen profile gets it first. (A crash before the store
        # runs the job again; the same status then is the same event, pushed once.)
        early_status = first and awaiting in {"backoffice", "employee"}
        if early_status:
            await publisher.status(status)
        journal = {**continuation.journal, "_message": StoredMessage.of(message).to_journal()}
        due_in_s = None
        if continuation.poll_after_s is not None:
            # The poll comes after the delay of the queue it goes to, not the one asked for.
            due_in_s, _ = publisher.routes.poll_queue_for(job.capability,
                                                          continuation.poll_after_s)
        await self._store.suspend(job.job_id, self._worker_id, journal=journal,
                                  interim=processed.result.to_json(), due_in_s=due_in_s)
        if first:
            await publisher.outcome(message, job, processed.result,
                                    status=None if early_status else status)
        if continuation.poll_after_s is not None:
            delay, queue = await publisher.poll(message, job, continuation.poll_after_s)
            log.info("job.poll_scheduled", queue=queue, delay_s=delay)
        elif awaiting in {"approval", "employee"}:
            error = processed.result.error
            await publisher.approval_task(ApprovalTask(
                job, rule=error.details.get("rule") if error else None,
                reason=processed.result.note, employee_task=awaiting == "employee"))
        # Otherwise the job waits for an outside event (a back office's action).
        log.info("job.waiting", poll_after_s=continuation.poll_after_s, note=continuation.note)

    async def refuse(self, incoming: MessageLike, key: str, build: Callable[[], Result], *,
                     job_type: str) -> None:
        """Answer a message that no job owns (an unreadable body, a job id taken by another
        request): the refusal is made once per ``key`` and kept, so the same message sent
        again gets the same bytes, and counted once. ``key`` holds a "/", which no job id
        has."""
        claim = await self._store.claim(key, self._worker_id, self._lease_s)
        result = build()
        if claim.state is ClaimState.DONE and claim.result is not None:
            body = claim.result
        else:
            body = result.to_json()
            if claim.state is ClaimState.ACQUIRED:
                await self._store.complete(key, self._worker_id, body)
                self._count(job_type, result)
                await self._store.mark_published(key)
        if incoming.reply_to:
            await self._publisher.result(incoming, result, body=body)
