"""The handler of ``status.outbox``: one status event pushed to the citizen profile (DOSIS).

Events of one dossier go one after another in outbox order (see :class:`DossierLanes`); up to
``status.concurrency`` dossiers at once.

The settlement is carried out after the lane is left, so the next event of the dossier may be
pushed before this one's ack is confirmed. That keeps the order in DOSIS: an event whose ack
is lost comes back, finds its upload recorded and is acknowledged without a second push; a
dead-lettered event does not hold back the ones after it (each is its own status).
"""

from __future__ import annotations

import structlog

from hub.runtime.inbound import Delivery, dossier_of
from hub.runtime.settle import ACK, REQUEUE, DeadLetter, Settlement
from hub.status.lanes import DossierLanes, LaneBroken
from hub.status.pusher import StatusPusher

__all__ = ["StatusHandler"]

log = structlog.get_logger(__name__)


class StatusHandler:
    def __init__(self, pusher: StatusPusher) -> None:
        self._pusher = pusher
        self._lanes = DossierLanes()

    async def handle(self, message: Delivery) -> Settlement:
        # The lane is taken before the first suspension, so lanes fill in delivery order.
        try:
            async with self._lanes.turn(dossier_of(message.body)):
                outcome = await self._pusher.handle(message.body)
                if not outcome.pushed:
                    return DeadLetter(outcome.reason, outcome.error)
                return ACK
        except LaneBroken:
            # An earlier status of this dossier went back to the queue: follow it, so the
            # broker hands both out again in their order.
            log.info("status.requeued_behind_earlier")
            return REQUEUE
