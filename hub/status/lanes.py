"""One lane per dossier: status events of one dossier leave one after another, in the order they
arrived; different dossiers move in parallel.

Pushing the whole outbox one event at a time kept the order but capped the pusher at one push
per DOSIS round trip: the 10,000-job soak left 18,000 statuses waiting behind a few timeouts.
Only the order within a dossier matters to the citizen profile, so each event waits for the
previous event of its own dossier only.

A lane whose event failed without being settled (it goes back to the queue unacked) makes the
events behind it in that lane go back too, so the broker hands them out again in their order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

__all__ = ["DossierLanes", "LaneBroken"]


class LaneBroken(Exception):
    """An earlier event of the same dossier went back to the queue; so must this one."""


class DossierLanes:
    """Serialises work per key. Enter :meth:`turn` in arrival order: the place in the lane is
    taken when ``turn`` is entered, before its first suspension."""

    def __init__(self) -> None:
        # The last event of each busy lane: resolves True when it was settled, False when not.
        self._tails: dict[str, asyncio.Future[bool]] = {}

    def __len__(self) -> int:
        """Lanes with an event in progress or waiting."""
        return len(self._tails)

    @asynccontextmanager
    async def turn(self, key: str) -> AsyncIterator[None]:
        """Wait for the previous event of ``key``; raise :class:`LaneBroken` if it failed."""
        previous = self._tails.get(key)
        mine: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._tails[key] = mine
        settled = False
        try:
            if previous is not None and not await asyncio.shield(previous):
                raise LaneBroken(key)
            yield
            settled = True
        finally:
            mine.set_result(settled)
            if self._tails.get(key) is mine:
                del self._tails[key]
