"""A small async client that front offices import to publish jobs and await their results.

It declares an exclusive reply queue, publishes each job to ``loket.jobs`` with the job type as
routing key, ``message_id`` = job id, ``reply_to`` and a fresh ``correlation_id``, and resolves
the matching future when the result arrives. Jobs are published with publisher confirms and
``mandatory``: a job no queue accepts raises instead of vanishing.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage, AbstractQueue

from hub.contract import Result
from hub.contract_decoding import peek_job_fields

__all__ = ["JOBS_EXCHANGE", "JobTimeout", "LoketClient"]

JOBS_EXCHANGE = "loket.jobs"


class JobTimeout(TimeoutError):
    """No result arrived in time. The job may still complete; its result stays idempotent."""


class LoketClient:
    def __init__(self, connection: AbstractConnection, channel: AbstractChannel,
                 reply_queue: AbstractQueue) -> None:
        self._connection = connection
        self._channel = channel
        self._reply_queue = reply_queue
        # correlation id → (future, final results only, job id)
        self._pending: dict[str, tuple[asyncio.Future[Result], bool, str | None]] = {}
        self.received: list[Result] = []
        # The bytes of each result as they came (a replay is byte-identical to the first).
        self.received_bodies: list[bytes] = []

    @classmethod
    @asynccontextmanager
    async def connect(cls, url: str) -> AsyncIterator[LoketClient]:
        connection = await aio_pika.connect(url, timeout=10)
        try:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            reply_queue = await channel.declare_queue(exclusive=True, auto_delete=True)
            client = cls(connection, channel, reply_queue)
            await reply_queue.consume(client._on_reply, no_ack=True)
            yield client
        finally:
            await connection.close()

    @property
    def reply_queue_name(self) -> str:
        return self._reply_queue.name

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        result = Result.from_json(message.body)
        self.received.append(result)
        self.received_bodies.append(message.body)
        keys = [message.correlation_id or ""]
        # A refusal of a job id taken by another request answers that request only.
        conflict = result.error is not None and result.error.code == "JOB_ID_CONFLICT"
        if result.outcome.final and result.job_id and not conflict:
            # A job published twice has one final result, sent to the first correlation id:
            # it answers every request still waiting for that job.
            keys += [k for k, (_, _, job_id) in self._pending.items() if job_id == result.job_id]
        for key in dict.fromkeys(keys):
            future, final_only, _ = self._pending.get(key, (None, False, None))
            if future is None or (final_only and not result.outcome.final):
                continue  # an interim result (in treatment): keep waiting for the final one
            del self._pending[key]
            if not future.done():
                future.set_result(result)

    async def publish(
        self,
        job: Mapping[str, Any] | bytes,
        *,
        routing_key: str | None = None,
        message_id: str | None = None,
        correlation_id: str | None = None,
        reply: bool = True,
        headers: Mapping[str, Any] | None = None,
        final: bool = True,
    ) -> asyncio.Future[Result]:
        """Publish a job (a mapping, or raw bytes for tests of bad input); return its future.

        With ``final`` the future resolves on the job's final result (delivered, rejected,
        failed); interim ones (in-treatment, awaiting-approval) are collected in ``received``.
        Without it, it resolves on the first result.
        """
        if isinstance(job, bytes):
            body = job
            peeked = _peek(body)
            # Routed by the type it names, as the hub checks (ROUTING_KEY_MISMATCH otherwise).
            job_type = routing_key or str(peeked.get("type") or "population.attest")
            message_id = message_id or peeked.get("job_id")
        else:
            body = json.dumps(job).encode()
            job_type = routing_key or str(job["type"])
            message_id = message_id or str(job["job_id"])
        correlation_id = correlation_id or str(uuid.uuid4())
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = (future, final, message_id)
        exchange = await self._channel.get_exchange(JOBS_EXCHANGE, ensure=False)
        await exchange.publish(
            aio_pika.Message(
                body=body,
                content_type="application/json",
                message_id=message_id,
                correlation_id=correlation_id,
                reply_to=self._reply_queue.name if reply else None,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                headers=dict(headers or {}),
            ),
            routing_key=job_type,
            mandatory=True,
        )
        return future

    async def request(
        self, job: Mapping[str, Any], *, timeout: float = 30.0, final: bool = True
    ) -> Result:
        """Publish ``job`` and wait for its final result (or the first one, ``final=False``)."""
        future = await self.publish(job, final=final)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError as exc:
            raise JobTimeout(f"no result for job {job.get('job_id')} within {timeout} s") from exc


def _peek(body: bytes) -> dict[str, Any]:
    """Job id and type of a body if it shows them; {} for anything odd (never raises)."""
    try:
        return peek_job_fields(body)
    except (RecursionError, ValueError, TypeError):
        return {}
