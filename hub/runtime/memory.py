"""The runtime without a broker: a transport that keeps what is published and deliveries that
remember how they were settled. For tests of the handlers and the acknowledgement policy (the
way FastStream ships ``TestRabbitBroker``); the broker-backed tests stay.

    transport = MemoryTransport()
    handlers = Handlers(settings, pipeline=..., store=..., ...)
    handlers.publisher.bind(transport)
    delivery = MemoryDelivery(body, reply_to="replies")
    await settle("job", delivery, handlers.publisher, lambda: handlers.jobs.handle(delivery))
    assert delivery.settled == "ack"
    transport.to("", "replies")  # the result
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from hub.runtime.transport import Outgoing, Unroutable

__all__ = ["MemoryDelivery", "MemoryTransport", "Sent"]


@dataclass(frozen=True)
class Sent:
    exchange: str
    routing_key: str
    message: Outgoing


class MemoryTransport:
    """Keeps every message sent. ``unroutable``: routing keys of the default exchange that no
    queue takes; ``failing``: raise this on the next sends (a broker that is gone)."""

    def __init__(self, *, unroutable: Collection[str] = ()) -> None:
        self.sent: list[Sent] = []
        self.unroutable = set(unroutable)
        self.failing: BaseException | None = None

    async def send(self, exchange: str, routing_key: str, message: Outgoing) -> None:
        if self.failing is not None:
            raise self.failing
        if exchange == "" and routing_key in self.unroutable:
            raise Unroutable(routing_key)
        self.sent.append(Sent(exchange, routing_key, message))

    def to(self, exchange: str, routing_key: str | None = None) -> list[Outgoing]:
        """What was sent to ``exchange`` (and ``routing_key``)."""
        return [s.message for s in self.sent if s.exchange == exchange
                and (routing_key is None or s.routing_key == routing_key)]


@dataclass
class MemoryDelivery:
    """A delivered message; ``settled`` says how it ended (``ack`` or ``requeue``)."""

    body: bytes
    headers: dict[str, Any] = field(default_factory=dict)
    message_id: str | None = None
    correlation_id: str | None = None
    reply_to: str | None = None
    content_type: str | None = "application/json"
    type: str | None = None
    redelivered: bool | None = False
    routing_key: str | None = None
    exchange: str | None = None
    settled: str | None = None

    async def ack(self, multiple: bool = False) -> None:
        assert self.settled is None, f"settled twice (was {self.settled})"
        self.settled = "ack"

    async def nack(self, multiple: bool = False, requeue: bool = True) -> None:
        assert self.settled is None, f"settled twice (was {self.settled})"
        self.settled = "requeue" if requeue else "reject"

    def copy(self, message: Outgoing, *, redelivered: bool = False) -> MemoryDelivery:
        """A published copy (a retry, a poll) as it comes back from its delay queue."""
        return MemoryDelivery(body=message.body, headers=dict(message.headers),
                              message_id=message.message_id,
                              correlation_id=message.correlation_id, reply_to=message.reply_to,
                              content_type=message.content_type, type=message.type,
                              redelivered=redelivered)
