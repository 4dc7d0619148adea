"""The admin's broker operations over AMQP: queue depths and republishing a dead letter.

Implements :class:`hub.admin.ports.BrokerOperations`, so the admin knows neither aio-pika nor
queue names: the queues are the topology's (every declared one, with its kind), the exchanges
the jobs and status exchanges. They never share a channel with the consumers: the queue
depths (read at every metrics scrape) keep one connection of their own, opened when first
needed and again after it is lost; a replay opens a short connection with confirms.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aio_pika
import structlog
from aio_pika.abc import AbstractConnection
from aio_pika.exceptions import ChannelClosed, DeliveryError

from hub import topology
from hub.admin.ports import BrokerUnavailable, NotReplayable, QueueDepth, Republish, Target
from hub.runtime.transport import BROKER_FAILURES

__all__ = ["AmqpOperations"]

log = structlog.get_logger(__name__)

_EXCHANGES = {Target.JOBS: topology.JOBS_EXCHANGE, Target.STATUS: topology.STATUS_EXCHANGE}


class AmqpOperations:
    def __init__(self, url: str, queues: list[tuple[str, str]], *,
                 timeout_s: float = 10.0) -> None:
        """``queues``: (name, kind) of every queue to show (``topology.declared_queues``)."""
        self._url = url
        self._queues = list(queues)
        self._timeout_s = timeout_s
        self._depths: AbstractConnection | None = None
        self._depths_lock = asyncio.Lock()

    async def close(self) -> None:
        if self._depths is not None and not self._depths.is_closed:
            await self._depths.close()
        self._depths = None

    async def _connect(self) -> AbstractConnection:
        try:
            return await aio_pika.connect(self._url, timeout=self._timeout_s)
        except BROKER_FAILURES as exc:
            raise BrokerUnavailable(
                f"the broker cannot be reached: {type(exc).__name__}") from exc

    async def queue_depths(self) -> list[QueueDepth]:
        async with self._depths_lock:  # one reader at a time on the one connection
            if self._depths is None or self._depths.is_closed:
                self._depths = await self._connect()
            try:
                return await self._read_depths(self._depths)
            except BROKER_FAILURES as exc:
                await self.close()
                raise BrokerUnavailable(
                    f"the broker stopped answering: {type(exc).__name__}") from exc

    async def _read_depths(self, connection: AbstractConnection) -> list[QueueDepth]:
        depths: list[QueueDepth] = []
        channel = await connection.channel()
        try:
            for name, kind in self._queues:
                try:
                    queue = await channel.declare_queue(name, passive=True)
                except ChannelClosed:
                    # A passive declare of a missing queue closes the channel: take another.
                    depths.append(QueueDepth(name, kind, None, None))
                    channel = await connection.channel()
                    continue
                result = queue.declaration_result
                depths.append(QueueDepth(name, kind, result.message_count,
                                         result.consumer_count))
        finally:
            if not channel.is_closed:
                await channel.close()
        return depths

    async def republish(self, message: Republish, *,
                        before: Callable[[], Awaitable[None]] | None = None) -> None:
        exchange_name = _EXCHANGES[message.target]
        outgoing = aio_pika.Message(
            body=message.body, headers=message.headers, message_id=message.message_id,
            correlation_id=message.correlation_id, reply_to=message.reply_to,
            content_type="application/json", delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        connection = await self._connect()
        async with connection:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            exchange = await channel.get_exchange(exchange_name)
            if before is not None:
                await before()
            try:
                await exchange.publish(outgoing, routing_key=message.routing_key,
                                       mandatory=True)
            except DeliveryError as exc:
                raise NotReplayable(
                    f"no queue takes {message.routing_key!r} on {exchange_name}") from exc
            except Exception as exc:  # pamqp could not encode it, or the broker refused it
                log.warning("admin.republish.refused", exchange=exchange_name,
                            error=type(exc).__name__)
                raise NotReplayable(
                    f"it could not be published again ({type(exc).__name__})") from exc
