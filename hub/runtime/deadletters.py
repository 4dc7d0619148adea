"""The handler of ``dead.letters``: every dead letter moves into the store, where operators
list, replay or discard it. One RabbitMQ dead-lettered itself (a job at its queue's delivery
limit) gets our headers written here, and its job still gets its one final answer."""

from __future__ import annotations

import datetime as dt
import json

import structlog

from hub import topology
from hub.config import Settings
from hub.contract import ErrorInfo, Outcome, Result
from hub.contract_decoding import decode_job
from hub.errors import InvalidInput
from hub.runtime.finish import Finisher
from hub.runtime.inbound import Delivery
from hub.runtime.settle import ACK, Settlement
from hub.store import ClaimState, OutcomeStore
from hub.store.base import DeadLetter, store_safe_text

__all__ = ["DeadLetterHandler"]

log = structlog.get_logger(__name__)


def _text(value: object) -> str | None:
    # Whatever a message carries, its letter can be stored (no NUL, no lone surrogate in a
    # text column); the body is kept as it came.
    return None if value is None else store_safe_text(str(value))[:2000]


class DeadLetterHandler:
    def __init__(self, settings: Settings, *, store: OutcomeStore, finisher: Finisher,
                 worker_id: str) -> None:
        self._settings = settings
        self._store = store
        self._finisher = finisher
        self._worker_id = worker_id

    async def handle(self, message: Delivery) -> Settlement:
        headers = dict(message.headers or {})
        reason = str(headers.get(topology.DEAD_REASON_HEADER)
                     or headers.get("x-first-death-reason") or "dead-lettered")[:100]
        error = headers.get(topology.ERROR_HEADER)
        if topology.DEAD_REASON_HEADER not in headers:
            # Dead-lettered by RabbitMQ itself (a message that reached the queue's delivery
            # limit): it carries none of our headers, so they are written here, and a job
            # among them still gets its one final answer.
            queue = str(headers.get("x-first-death-queue") or "?")[:200]
            failure = ErrorInfo("DELIVERY_LIMIT", f"RabbitMQ dead-lettered it from {queue} "
                                f"({reason}): no worker could finish it", False)
            headers[topology.DEAD_REASON_HEADER] = reason
            headers[topology.ERROR_HEADER] = error = json.dumps(failure.to_dict())
            log.warning("dead_letter.from_broker", queue=queue, reason=reason)
            if queue.startswith("jobs."):
                await self._answer_dead_job(message, failure)
        # A store that fails here raises: the letter is not acknowledged and comes again.
        await self._store.add_dead_letter(DeadLetter(
            id=None, received_at=dt.datetime.now(dt.UTC), reason=_text(reason) or "?",
            error=_text(error), message_id=_text(message.message_id),
            correlation_id=_text(message.correlation_id), reply_to=_text(message.reply_to),
            headers=json.dumps(headers, default=str), body=message.body,
        ))
        return ACK

    async def _answer_dead_job(self, message: Delivery, failure: ErrorInfo) -> None:
        """Give a job RabbitMQ gave up on its final answer (``failed``), unless it has one."""
        try:
            job = decode_job(message.body, message.message_id)
        except InvalidInput:
            return  # an unreadable job never reaches the delivery limit: it is refused first
        if not message.reply_to:
            return
        try:
            claim = await self._store.claim(
                job.job_id, self._worker_id, self._settings.store.claim_lease_s,
                fingerprint=job.fingerprint)
            if claim.state is ClaimState.ACQUIRED:
                result = Result.for_job(job, Outcome.FAILED, attempts=1, error=failure)
                await self._finisher.finish(message, job, result)
            elif claim.state is ClaimState.DONE and not claim.published and claim.result:
                await self._finisher.publish_stored(message, job, claim.result, announce=False)
        except Exception as exc:  # the dead letter is kept whatever happens here
            await self._finisher.release_quietly(job.job_id)
            log.warning("dead_letter.answer_failed", job_id=job.job_id, error=repr(exc)[:200])
