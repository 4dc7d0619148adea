"""What the admin needs of a running hub, as protocols the composition root fills in.

The admin imports no wiring, no broker library and no topology: the queues it shows and the
messages it publishes again go through :class:`BrokerOperations` (the runtime's
``hub.runtime.operations`` implements it over AMQP), the rest through :class:`AdminHub`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from aiohttp import web

from hub.breaker import CircuitBreaker
from hub.config import Settings
from hub.registry import AdapterRegistry
from hub.store import OutcomeStore

__all__ = [
    "HUB",
    "AdminHub",
    "BrokerOperations",
    "BrokerUnavailable",
    "NotReplayable",
    "QueueDepth",
    "Republish",
    "RunningWorker",
    "Target",
]


class NotReplayable(Exception):
    """A message that cannot go back on the broker; the text says why (HTTP 409).

    ``forceable``: it could go back, but would fail the same way (its cause is not
    retryable); an operator who knows better may send it with ``force``."""

    def __init__(self, message: str, *, forceable: bool = False) -> None:
        super().__init__(message)
        self.forceable = forceable


class BrokerUnavailable(Exception):
    """The broker could not be reached (HTTP 503)."""


class Target(StrEnum):
    """Where a republished message goes: the jobs or the status exchange."""

    JOBS = "jobs"
    STATUS = "status"


@dataclass(frozen=True)
class Republish:
    """A message to publish again, persistent and confirmed, with ``mandatory`` set."""

    target: Target
    routing_key: str
    body: bytes
    headers: dict[str, Any] = field(default_factory=dict)
    message_id: str | None = None
    correlation_id: str | None = None
    reply_to: str | None = None


@dataclass(frozen=True)
class QueueDepth:
    """One queue of the topology: ``messages``/``consumers`` are None when it is missing."""

    queue: str
    kind: str
    messages: int | None
    consumers: int | None

    def to_dict(self) -> dict[str, Any]:
        if self.messages is None:
            return {"queue": self.queue, "kind": self.kind, "missing": True}
        return {"queue": self.queue, "kind": self.kind, "messages": self.messages,
                "consumers": self.consumers}


class BrokerOperations(Protocol):
    async def queue_depths(self) -> list[QueueDepth]:
        """Every queue of the topology with its depth; raises :class:`BrokerUnavailable`."""

    async def republish(self, message: Republish, *,
                        before: Callable[[], Awaitable[None]] | None = None) -> None:
        """Publish with confirms; :class:`NotReplayable` when no queue takes it or the broker
        refuses it, :class:`BrokerUnavailable` when it cannot be reached. ``before`` runs once
        the broker is reached, right before the publish."""


class RunningWorker(Protocol):
    @property
    def ready(self) -> asyncio.Event: ...

    @property
    def in_flight(self) -> int: ...


class AdminHub(Protocol):
    """What the admin reads of a running hub; the composition root (``hub.app.Hub``) gives it.

    The admin imports no wiring: whatever it shows comes in through this object.
    """

    @property
    def settings(self) -> Settings: ...

    @property
    def store(self) -> OutcomeStore: ...

    @property
    def registry(self) -> AdapterRegistry: ...

    @property
    def breakers(self) -> Mapping[str, CircuitBreaker]:
        """One per back end, by its name."""

    @property
    def worker(self) -> RunningWorker: ...

    @property
    def broker(self) -> BrokerOperations: ...

    def expiring_certificates(self) -> dict[str, dt.datetime]: ...


HUB = web.AppKey("hub", AdminHub)
