"""How a delivery ends: a handler returns a :class:`Settlement`, and :func:`settle` carries it
out. Nothing else acknowledges a message.

- ``ACK``: everything the message caused is confirmed; the broker may forget it.
- ``REQUEUE``: not handled now; the broker hands it out again (a job's stored result is then
  replayed, never remade). Also how any failure of the handler ends.
- :class:`DeadLetter`: to the dead letters with its reason, then acknowledged.

:func:`settle` decides from how the handler ended, as FastStream's acknowledgement watcher does:
a returned settlement is carried out; a :class:`BrokerError` or :class:`TransientError` raised
means requeue; any other exception is logged as a crash and requeued (the queue's delivery limit
bounds it, and a job's own attempt turns a defect into a final answer long before).
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import structlog

from hub.contract import ErrorInfo
from hub.errors import BrokerError, TransientError
from hub.runtime.inbound import MessageLike
from hub.runtime.publisher import Publisher
from hub.runtime.transport import BROKER_FAILURES

__all__ = ["ACK", "REQUEUE", "Acknowledgeable", "DeadLetter", "Settlement", "settle"]

log = structlog.get_logger(__name__)


class Settle(enum.Enum):
    ACK = "ack"
    REQUEUE = "requeue"


ACK = Settle.ACK
REQUEUE = Settle.REQUEUE


@dataclass(frozen=True)
class DeadLetter:
    reason: str
    error: ErrorInfo | None = None


Settlement = Settle | DeadLetter


class Acknowledgeable(MessageLike, Protocol):
    async def ack(self, multiple: bool = False) -> None: ...
    async def nack(self, multiple: bool = False, requeue: bool = True) -> None: ...


async def _ack(message: Acknowledgeable) -> None:
    try:
        await message.ack()
    except BROKER_FAILURES as exc:
        # The channel this message came on is gone; the broker will redeliver it.
        raise BrokerError(f"ack failed: {exc!r}") from exc


async def _requeue(message: Acknowledgeable) -> None:
    # When the channel is gone the broker requeues unacked messages by itself.
    with contextlib.suppress(*BROKER_FAILURES):
        await message.nack(requeue=True)


async def settle(name: str, message: Acknowledgeable, publisher: Publisher,
                 handle: Callable[[], Awaitable[Settlement]]) -> Settlement:
    """Run ``handle`` for ``message`` and carry out how it ended; returns what was done."""
    try:
        settlement = await handle()
        if isinstance(settlement, DeadLetter):
            await publisher.dead_letter(message, reason=settlement.reason,
                                        error=settlement.error)
        if settlement is REQUEUE:
            await _requeue(message)
        else:
            await _ack(message)
        return settlement
    except BrokerError as exc:
        # Not acked: the broker redelivers (a stored result is replayed).
        log.warning(f"{name}.unacked", reason=str(exc))
    except TransientError as exc:
        # The message comes again (bounded by the queue's delivery limit, after which it is
        # dead-lettered for an operator).
        log.warning(f"{name}.retry", code=exc.code)
    except Exception:
        log.exception(f"{name}.crashed")
    await _requeue(message)
    return REQUEUE
