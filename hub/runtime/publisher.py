"""The one publisher: results, statuses, employees' tasks, dead letters and the copies of a
message that wait in a delay queue. Every publish is confirmed by the broker before it returns.

With :mod:`hub.topology` it is the only code that knows exchange and queue names and the
headers they carry. It publishes through a :class:`~hub.runtime.transport.Transport`, bound on
every (re)connect; while none is bound every publish raises :class:`BrokerError`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import structlog

from hub import topology
from hub.contract import ErrorInfo, Job, Result
from hub.errors import BrokerError, HubError
from hub.messages import ApprovalTask, StatusEvent
from hub.metrics import HubMetrics
from hub.runtime.inbound import MessageLike
from hub.runtime.transport import Outgoing, Transport, Unroutable

__all__ = ["Publisher"]

log = structlog.get_logger(__name__)

RESULT_TYPE = "loket.result.v1"


def _copy(message: MessageLike, headers: dict[str, Any]) -> Outgoing:
    return Outgoing(body=message.body, headers=headers, content_type=message.content_type,
                    message_id=message.message_id, correlation_id=message.correlation_id,
                    reply_to=message.reply_to, type=message.type)


class Publisher:
    def __init__(self, routes: topology.Routes, *, worker_id: str, lease_s: float,
                 metrics: HubMetrics, transport: Transport | None = None) -> None:
        self.routes = routes
        self._worker_id = worker_id
        self._lease_s = lease_s
        self._metrics = metrics
        self._transport = transport

    def bind(self, transport: Transport | None) -> None:
        """Publish through ``transport`` from now on (None: the broker is gone)."""
        self._transport = transport

    async def _send(self, exchange: str, routing_key: str, message: Outgoing) -> None:
        if self._transport is None:
            raise BrokerError("no open channel")
        await self._transport.send(exchange, routing_key, message)

    # -- to a front office -----------------------------------------------------------------

    async def result(self, incoming: MessageLike, result: Result, *,
                     body: bytes | None = None) -> None:
        """The result to the job's reply queue (``body``: its stored bytes, sent as they are).

        A reply queue that is gone sends the result to the dead letters, where an operator
        sees it; it stays in the store and the job is done.
        """
        assert incoming.reply_to is not None
        reply = Outgoing(body=body if body is not None else result.to_json(),
                         headers={"outcome": result.outcome.value},
                         correlation_id=incoming.correlation_id, message_id=result.job_id,
                         type=RESULT_TYPE)
        try:
            await self._send("", incoming.reply_to, reply)
        except Unroutable:
            log.error("result.unroutable", reply_to=incoming.reply_to)
            await self.dead_letter(reply, reason="unroutable-result", error=ErrorInfo(
                "REPLY_QUEUE_MISSING", f"no queue {incoming.reply_to[:200]!r} takes the "
                "result: it stays in the store and here", False))

    # -- to the citizen profile ------------------------------------------------------------

    async def status(self, event: StatusEvent) -> None:
        await self._send(topology.STATUS_EXCHANGE, event.routing_key, Outgoing(
            body=event.encode(), message_id=event.event_id, type=StatusEvent.MESSAGE_TYPE))

    async def received(self, job: Job) -> None:
        """The "received" status of a job's first attempt."""
        await self.status(StatusEvent.of(job, None))

    # -- to employees ----------------------------------------------------------------------

    async def approval_task(self, task: ApprovalTask) -> None:
        await self._send(topology.BACKOFFICE_EXCHANGE, task.routing_key, Outgoing(
            body=task.encode(exchange=topology.BACKOFFICE_EXCHANGE),
            message_id=task.job.job_id, type=task.message_type))

    # -- to operators ----------------------------------------------------------------------

    async def dead_letter(self, message: MessageLike | Outgoing, *, reason: str,
                          error: ErrorInfo | None = None) -> None:
        """To the dead letters, saying why in words and as a code (operators filter on both)."""
        self._metrics.dead_letters.labels(reason=reason).inc()
        headers = dict(message.headers or {})
        headers[topology.DEAD_REASON_HEADER] = reason
        headers[topology.WORKER_HEADER] = self._worker_id
        error = error or ErrorInfo(reason.upper().replace("-", "_"), reason, False)
        headers[topology.ERROR_HEADER] = json.dumps(error.to_dict())[:2000]
        log.warning("dead_letter.sent", reason=reason, code=error.code)
        await self._send(topology.DEAD_LETTER_EXCHANGE, "", Outgoing(
            body=message.body, headers=headers, content_type=message.content_type,
            message_id=message.message_id, correlation_id=message.correlation_id,
            reply_to=message.reply_to))

    # -- copies that wait ------------------------------------------------------------------

    async def retry(self, message: MessageLike, job: Job, attempt: int,
                    error: HubError) -> str | None:
        """The job's next attempt, after the delay of this one; None when none is left."""
        queue = self.routes.retry_queue_for(job.capability, attempt)
        if queue is None:
            return None
        headers = dict(message.headers or {})
        headers.pop(topology.BUSY_HEADER, None)
        headers[topology.ATTEMPT_HEADER] = attempt + 1
        headers[topology.ERROR_HEADER] = f"{error.code}: {error.message}"[:500]
        await self._send("", queue, _copy(message, headers))
        return queue

    async def busy(self, message: MessageLike, job: Job, attempt: int) -> str:
        """Another worker holds the job: look again later, attempt unchanged."""
        headers = dict(message.headers or {})
        times_busy = int(str(headers.get(topology.BUSY_HEADER, 0)))
        queue = self.routes.busy_queue_for(job.capability, times_busy, self._lease_s)
        headers[topology.BUSY_HEADER] = times_busy + 1
        headers[topology.ATTEMPT_HEADER] = attempt
        await self._send("", queue, _copy(message, headers))
        return queue

    async def poll(self, message: MessageLike, job: Job, delay_s: float) -> tuple[float, str]:
        """The next look at an asynchronous back end, through a delayed poll queue; every poll
        has its own attempts at the back end."""
        delay, queue = self.routes.poll_queue_for(job.capability, delay_s)
        headers = dict(message.headers or {})
        headers[topology.CONTINUATION_HEADER] = "1"
        headers[topology.ATTEMPT_HEADER] = 1
        await self._send("", queue, _copy(message, headers))
        return delay, queue

    async def recovered(self, message: MessageLike, job: Job, *, attempt: int,
                        waiting: bool) -> int:
        """A job the broker lost, published again from the store: with our attempt header (a
        job that turns out to be done is not answered twice); a waiting job's copy is its lost
        poll. Returns the attempt the copy carries."""
        headers: dict[str, Any] = {topology.ATTEMPT_HEADER: attempt,
                                   topology.RECOVERED_HEADER: "1"}
        if waiting:
            headers.update({topology.CONTINUATION_HEADER: "1", topology.ATTEMPT_HEADER: 1})
        await self._send("", topology.work_queue_name(job.capability), _copy(message, headers))
        return int(headers[topology.ATTEMPT_HEADER])

    async def action_later(self, message: MessageLike, tenant: str, tries: int) -> None:
        """An early back-office action back to the action queue after a short delay (the copy
        comes back without its routing key, so it carries its tenant)."""
        headers = dict(message.headers or {})
        headers[topology.ACTION_TRIES_HEADER] = tries
        headers[topology.TENANT_HEADER] = tenant
        await self._send("", topology.ACTION_RETRY_QUEUE, Outgoing(
            body=message.body, content_type=message.content_type,
            message_id=message.message_id, headers=headers))

    # -- a job's outcome -------------------------------------------------------------------

    async def outcome(self, incoming: MessageLike, job: Job, result: Result, *,
                      announce: bool = False, status: StatusEvent | None = None,
                      body: bytes | None = None) -> None:
        """The result (when there is a reply queue) and the job's status, both confirmed,
        side by side; ``announce``: "received" goes first; ``status`` None: no status (it went
        out already)."""

        async def statuses() -> None:
            if announce:  # confirmed before the next one, so the outbox keeps their order
                await self.received(job)
            if status is not None:
                await self.status(status)

        sends = []
        if incoming.reply_to:
            # The result first: the front office waits on it, the status pusher does not.
            sends.append(self.result(incoming, result, body=body))
        sends.append(statuses())
        await asyncio.gather(*sends)


def action_tries(headers: Mapping[str, Any] | None) -> int:
    """How often an early action came back already."""
    try:
        return int(str((headers or {}).get(topology.ACTION_TRIES_HEADER, 0)))
    except ValueError:
        return 0


def copied_tenant(headers: Mapping[str, Any] | None) -> str | None:
    """The tenant our delayed copy of an early action carries."""
    value = (headers or {}).get(topology.TENANT_HEADER)
    return value if isinstance(value, str) else None
