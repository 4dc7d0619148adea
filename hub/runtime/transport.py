"""The seam between the publisher and a broker: send one message to an exchange, confirmed.

:class:`AmqpTransport` sends over an aio-pika channel with publisher confirms;
:class:`hub.runtime.memory.MemoryTransport` keeps what is sent, for tests of the handlers
without a broker (the way httpx has ``MockTransport`` and FastStream ``TestRabbitBroker``). The
publisher above decides what is sent and where; a transport only carries it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol

import aio_pika
from aio_pika.abc import AbstractChannel
from aio_pika.exceptions import AMQPError, DeliveryError

from hub import topology
from hub.errors import BrokerError

__all__ = ["BROKER_FAILURES", "AmqpTransport", "Outgoing", "Transport", "Unroutable"]


BROKER_FAILURES: tuple[type[BaseException], ...] = (
    TimeoutError, AMQPError, RuntimeError, OSError, ConnectionError)
"""What a broker that is gone or slow raises from aio-pika (a closed channel is a RuntimeError
there); everything that talks to the broker catches exactly these."""


class Unroutable(Exception):
    """The broker took the message but no queue does (a reply queue that is gone)."""


@dataclass(frozen=True)
class Outgoing:
    """One message to publish, persistent."""

    body: bytes
    headers: dict[str, Any] = field(default_factory=dict)
    content_type: str | None = "application/json"
    message_id: str | None = None
    correlation_id: str | None = None
    reply_to: str | None = None
    type: str | None = None


class Transport(Protocol):
    async def send(self, exchange: str, routing_key: str, message: Outgoing) -> None:
        """Publish (mandatory) and wait for the confirm. Raises :class:`Unroutable` when no
        queue takes it, :class:`BrokerError` for any other failure."""


class AmqpTransport:
    """Publishes on one channel with publisher confirms; exchanges from the declared
    topology ("" is the default exchange)."""

    def __init__(self, channel: AbstractChannel, declared: topology.Topology,
                 timeout_s: float) -> None:
        self._channel = channel
        self._topology = declared
        self._timeout_s = timeout_s

    async def send(self, exchange: str, routing_key: str, message: Outgoing) -> None:
        target = (self._channel.default_exchange if exchange == ""
                  else self._topology.exchange(exchange))
        amqp = aio_pika.Message(
            body=message.body, headers=message.headers, content_type=message.content_type,
            message_id=message.message_id, correlation_id=message.correlation_id,
            reply_to=message.reply_to, type=message.type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        try:
            async with asyncio.timeout(self._timeout_s):
                await target.publish(amqp, routing_key=routing_key, mandatory=True)
        except DeliveryError as exc:
            raise Unroutable(routing_key) from exc
        except BROKER_FAILURES as exc:
            raise BrokerError(f"publish to {routing_key!r} not confirmed: {exc!r}") from exc
