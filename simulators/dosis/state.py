"""The mutable state of one running DOSIS simulator, shared by every handler."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from dataclasses import dataclass, field

from aiohttp import web

from simulators.dosis.dossiers import DossierRegister
from simulators.dosis.faults import FaultPlan
from simulators.dosis.notifications import NotificationInbox
from simulators.dosis.settings import DosisSimulatorSettings
from simulators.dosis.tokens import TokenService

__all__ = ["STATE", "DosisState"]


@dataclass
class DosisState:
    """Tokens, uploads, notifications, pending faults and the down window of one application."""

    settings: DosisSimulatorSettings
    tokens: TokenService
    dossiers: DossierRegister
    notifications: NotificationInbox = field(default_factory=NotificationInbox)
    faults: FaultPlan = field(default_factory=FaultPlan)
    down_until: float | None = None
    """Monotonic time until which every API call answers 503; None when up."""
    token_requests: collections.deque[dict[str, str]] = field(
        default_factory=lambda: collections.deque(maxlen=100))
    """The form fields of the last 100 token requests, as received (``/_control``)."""
    closing: asyncio.Event = field(default_factory=asyncio.Event)

    def down_for(self) -> float | None:
        """Seconds the service stays down, or None when it is up."""
        if self.down_until is None:
            return None
        remaining = self.down_until - time.monotonic()
        if remaining <= 0:
            self.down_until = None
            return None
        return remaining

    def go_down(self, seconds: float) -> None:
        """Answer 503 to every API call for ``seconds``."""
        self.down_until = time.monotonic() + seconds

    def go_up(self) -> None:
        """End a down window early."""
        self.down_until = None

    async def pause(self, milliseconds: int) -> None:
        """Sleep, but wake at once when the simulator shuts down."""
        if milliseconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.closing.wait(), milliseconds / 1000)

    def reset(self) -> dict[str, int]:
        """Forget uploads, notifications, tokens, used jtis and faults; end a down window."""
        self.go_up()
        return {
            "uploads": self.dossiers.clear(),
            "notifications": self.notifications.clear(),
            "tokens": self.tokens.clear(),
            "faults": self.faults.clear(),
            "token_requests": self._clear_token_requests(),
        }

    def _clear_token_requests(self) -> int:
        count = len(self.token_requests)
        self.token_requests.clear()
        return count


STATE = web.AppKey("dosis_simulator_state", DosisState)
