"""A small async client that front offices import to publish jobs and await their results.

It declares a reply queue of its own (exclusive, named once per client so that the name
survives a reconnect), publishes each job to ``loket.jobs`` with the job type as routing key,
``message_id`` = job id, ``reply_to`` and a fresh ``correlation_id``, and resolves the matching
future when the result arrives. Jobs are published with publisher confirms and ``mandatory``:
a job no queue accepts raises :class:`UnroutableJob` instead of vanishing.

The connection is robust: after a dropped connection it reconnects, declares its reply queue
again and publishes again every job still waiting for its final result. The exclusive queue
died with the old connection, and with it any result on its way, so a job confirmed before the
drop is sent again too; jobs are idempotent by ``job_id`` (the hub replays a stored result),
and a second final result of a job is dropped. A result that cannot be read (bad JSON, a
document whose sha256 does not match) fails its own request with :class:`CorruptResult`.

Nothing here imports the hub: ``pip install ./loket_hub`` needs aio-pika only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any, Protocol

import aio_pika
from aio_pika.abc import (
    AbstractIncomingMessage,
    AbstractRobustChannel,
    AbstractRobustConnection,
    AbstractRobustQueue,
)
from aio_pika.exceptions import (
    AMQPConnectionError,
    ChannelClosed,
    ChannelInvalidStateError,
    DeliveryError,
    PublishError,
)

from loket_hub.contract import Result

__all__ = [
    "JOBS_EXCHANGE",
    "ClientClosed",
    "CorruptResult",
    "JobTimeout",
    "LoketClient",
    "LoketClientError",
    "UnroutableJob",
]

JOBS_EXCHANGE = "loket.jobs"
KEEP_RESULTS = 1000
"""How many results (with their documents) ``received`` keeps by default: the latest ones."""

log = logging.getLogger(__name__)

# What a publish may meet while the connection is down; the job is then sent after reconnect.
_DISCONNECTED = (AMQPConnectionError, ChannelClosed, ChannelInvalidStateError, ConnectionError)


class LoketClientError(Exception):
    """An error of the client; ``retryable`` says whether publishing the job again may help."""

    retryable = False


class JobTimeout(LoketClientError, TimeoutError):
    """No result arrived in time. The job may still complete; its result stays idempotent."""

    retryable = True


class UnroutableJob(LoketClientError):
    """The broker routed the job to no queue (an unknown type, or the hub's topology is not
    declared yet): nothing will answer it."""

    def __init__(self, job_id: str | None, routing_key: str, reply_text: str) -> None:
        super().__init__(f"job {job_id} is unroutable on {JOBS_EXCHANGE} with routing key "
                         f"{routing_key!r}: {reply_text}")
        self.job_id, self.routing_key = job_id, routing_key

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        return False


class CorruptResult(LoketClientError):
    """A result for this request arrived but cannot be read: no JSON, not a result, or a
    document whose content does not match its sha256. Publishing the same job again gets the
    hub's stored result again."""

    retryable = True

    def __init__(self, correlation_id: str | None, reason: str, body: bytes) -> None:
        super().__init__(f"unreadable result (correlation id {correlation_id}): {reason}")
        self.correlation_id, self.reason, self.body = correlation_id, reason, body


class ClientClosed(LoketClientError):
    """The client closed while the request waited; the job may still complete (idempotent)."""

    retryable = True


class JobBody(Protocol):
    """A typed job (see :mod:`loket_hub.jobs`): anything that gives its JSON body."""

    def to_dict(self) -> dict[str, Any]: ...


@dataclass
class _Pending:
    future: asyncio.Future[Result]
    final_only: bool
    job_id: str | None
    message: aio_pika.Message
    routing_key: str


class LoketClient:
    def __init__(self, connection: AbstractRobustConnection, channel: AbstractRobustChannel,
                 reply_queue: AbstractRobustQueue, *, keep_results: int = KEEP_RESULTS) -> None:
        self._connection = connection
        self._channel = channel
        self._reply_queue = reply_queue
        self._pending: dict[str, _Pending] = {}  # by correlation id
        self._resending: set[asyncio.Task[None]] = set()
        # The latest results, bounded: a long-running front office keeps no PDFs for ever.
        self.received: deque[Result] = deque(maxlen=keep_results)
        # The bytes of each result as they came (a replay is byte-identical to the first).
        self.received_bodies: deque[bytes] = deque(maxlen=keep_results)
        self.corrupt_results = 0
        self.reconnections = 0

    @classmethod
    @asynccontextmanager
    async def connect(
        cls, url: str, *, keep_results: int = KEEP_RESULTS, connection_name: str | None = None,
        reconnect_interval_s: float = 1.0,
    ) -> AsyncIterator[LoketClient]:
        """Connect, declare the reply queue and consume it. ``connection_name`` shows in the
        broker's management (default ``loket-client <reply queue>``)."""
        queue_name = f"loket-client.{uuid.uuid4()}"
        connection = await aio_pika.connect_robust(
            url, timeout=10, reconnect_interval=reconnect_interval_s,
            client_properties={"connection_name": connection_name or f"loket-client {queue_name}"},
        )
        client: LoketClient | None = None
        try:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            # Exclusive: it goes when the connection goes; declared again under the same name
            # on reconnect, so jobs still queued keep a reply_to that exists.
            reply_queue = await channel.declare_queue(queue_name, exclusive=True,
                                                      auto_delete=True)
            client = cls(connection, channel, reply_queue, keep_results=keep_results)
            connection.reconnect_callbacks.add(client._on_reconnect)
            await reply_queue.consume(client._on_reply, no_ack=True)
            yield client
        finally:
            await connection.close()
            if client is not None:
                client._close_pending()

    @property
    def reply_queue_name(self) -> str:
        return self._reply_queue.name

    @property
    def pending(self) -> int:
        """How many requests wait for their result."""
        return len(self._pending)

    def _on_reconnect(self, *_: Any) -> None:
        self.reconnections += 1
        task = asyncio.get_running_loop().create_task(self._resend_pending())
        self._resending.add(task)
        task.add_done_callback(self._resending.discard)

    async def _resend_pending(self) -> None:
        """Publish again every job without its final result (its answer may have been lost
        with the old connection's queue); the same correlation id, so the same future."""
        sent = 0
        for correlation_id, pending in list(self._pending.items()):
            if pending.future.done() or self._pending.get(correlation_id) is not pending:
                continue
            try:
                await self._send(pending)
                sent += 1
            except UnroutableJob as error:
                self._fail(correlation_id, error)
            except _DISCONNECTED:
                return  # down again: the next reconnect sends what is still pending
        log.info("loket client reconnected; %d job(s) sent again", sent)

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        try:
            result = Result.from_json(message.body)
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            self.corrupt_results += 1
            error = CorruptResult(message.correlation_id, f"{type(exc).__name__}: {exc}",
                                  message.body)
            log.warning("loket client: %s", error)
            if message.correlation_id:
                self._fail(message.correlation_id, error)
            return
        self.received.append(result)
        self.received_bodies.append(message.body)
        keys = [message.correlation_id or ""]
        # A refusal of a job id taken by another request answers that request only.
        conflict = result.error is not None and result.error.code == "JOB_ID_CONFLICT"
        if result.outcome.final and result.job_id and not conflict:
            # A job published twice has one final result, sent to the first correlation id:
            # it answers every request still waiting for that job.
            keys += [k for k, p in self._pending.items() if p.job_id == result.job_id]
        for key in dict.fromkeys(keys):
            pending = self._pending.get(key)
            if pending is None or (pending.final_only and not result.outcome.final):
                continue  # an interim result (in treatment): keep waiting for the final one
            del self._pending[key]
            if not pending.future.done():
                pending.future.set_result(result)

    def _close_pending(self) -> None:
        """Nothing waits for ever: a request still open when the client closes fails."""
        for correlation_id, pending in list(self._pending.items()):
            self._fail(correlation_id, ClientClosed(
                f"the client closed before job {pending.job_id} got its result"))
            # Marked as seen: a future nobody awaits any more is not logged as an error.
            pending.future.exception()

    def _fail(self, correlation_id: str, error: Exception) -> None:
        pending = self._pending.pop(correlation_id, None)
        if pending is not None and not pending.future.done():
            pending.future.set_exception(error)

    async def _send(self, pending: _Pending) -> None:
        exchange = await self._channel.get_exchange(JOBS_EXCHANGE, ensure=False)
        try:
            await exchange.publish(pending.message, routing_key=pending.routing_key,
                                   mandatory=True)
        except PublishError as exc:
            reply = getattr(getattr(exc, "frame", None), "reply_text", "returned")
            raise UnroutableJob(pending.job_id, pending.routing_key, str(reply)) from exc
        except DeliveryError as exc:  # nacked by the broker: like a dropped connection
            raise ConnectionError(f"the broker refused job {pending.job_id}") from exc

    async def publish(
        self,
        job: Mapping[str, Any] | JobBody | bytes,
        *,
        routing_key: str | None = None,
        message_id: str | None = None,
        correlation_id: str | None = None,
        reply: bool = True,
        headers: Mapping[str, Any] | None = None,
        final: bool = True,
    ) -> asyncio.Future[Result]:
        """Publish a job (a typed job of :mod:`loket_hub.jobs`, a mapping, or raw bytes for
        tests of bad input); return its future.

        With ``final`` the future resolves on the job's final result (delivered, rejected,
        failed); interim ones (in-treatment, awaiting-approval) are collected in ``received``.
        Without it, it resolves on the first result. Raises :class:`UnroutableJob` when no
        queue takes the job. While the connection is down the job waits and is sent on
        reconnect. The future fails with :class:`CorruptResult` for an unreadable result.
        """
        body, job_type, message_id = _encode(job, routing_key, message_id)
        correlation_id = correlation_id or str(uuid.uuid4())
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        pending = _Pending(future, final, message_id, aio_pika.Message(
            body=body,
            content_type="application/json",
            message_id=message_id,
            correlation_id=correlation_id,
            reply_to=self._reply_queue.name if reply else None,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            headers=dict(headers or {}),
        ), job_type)
        if reply:  # without a reply_to nothing answers: nothing to wait for or send again
            self._pending[correlation_id] = pending
            # A request given up (a timeout cancels its future) is not sent again.
            future.add_done_callback(lambda _: self._forget(correlation_id, pending))
        try:
            await self._send(pending)
        except UnroutableJob:
            self._pending.pop(correlation_id, None)
            raise
        except _DISCONNECTED:
            if not reply:
                raise
            log.info("loket client: connection down, job %s is sent on reconnect", message_id)
        return future

    def _forget(self, correlation_id: str, pending: _Pending) -> None:
        if self._pending.get(correlation_id) is pending:
            del self._pending[correlation_id]

    async def request(
        self, job: Mapping[str, Any] | JobBody, *, timeout: float = 30.0, final: bool = True
    ) -> Result:
        """Publish ``job`` and wait for its final result (or the first one, ``final=False``).

        Raises :class:`JobTimeout`, :class:`UnroutableJob` or :class:`CorruptResult`."""
        future = await self.publish(job, final=final)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError as exc:
            raise JobTimeout(f"no result for job {_job_id_of(job)} within {timeout} s") from exc


def _encode(job: Mapping[str, Any] | JobBody | bytes, routing_key: str | None,
            message_id: str | None) -> tuple[bytes, str, str | None]:
    """The body, routing key and message id of a job."""
    if isinstance(job, bytes):
        peeked = _peek(job)
        # Routed by the type it names, as the hub checks (ROUTING_KEY_MISMATCH otherwise).
        job_type = routing_key or str(peeked.get("type") or "population.attest")
        return job, job_type, message_id or peeked.get("job_id")
    data = job if isinstance(job, Mapping) else job.to_dict()
    return (json.dumps(data).encode(), routing_key or str(data["type"]),
            message_id or str(data["job_id"]))


def _job_id_of(job: Mapping[str, Any] | JobBody) -> Any:
    return (job if isinstance(job, Mapping) else job.to_dict()).get("job_id")


def _peek(body: bytes) -> dict[str, Any]:
    """Job id and type of a body if it shows them and they fit an AMQP short string (UTF-8,
    at most 255 bytes; a lone surrogate such as ``\\udfff`` does not); {} for anything odd
    (never raises)."""
    with suppress(RecursionError, ValueError, TypeError):
        data = json.loads(body)
        if isinstance(data, dict):
            return {key: data[key] for key in ("job_id", "type") if _short_string(data.get(key))}
    return {}


def _short_string(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return 0 < len(value.encode("utf-8")) <= 255
    except UnicodeEncodeError:
        return False
