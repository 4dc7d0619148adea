"""A circuit breaker per back end, so an ailing service is not hammered.

closed ──(failure_threshold consecutive transient failures)──▶ open
open ──(reset_timeout_s passed)──▶ half-open: up to ``half_open_max_calls`` trial calls
half-open ──(a trial succeeds)──▶ closed;  ──(a trial fails)──▶ open again

While open, :meth:`CircuitBreaker.guard` raises :class:`BreakerOpen` at once; the job takes the
delayed retry path. The state is a plain value that the admin API exposes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from enum import StrEnum

import structlog

from hub.errors import BackendError, TransientError

__all__ = ["BackendGate", "BreakerOpen", "BreakerState", "CircuitBreaker"]

log = structlog.get_logger(__name__)


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class BreakerOpen(BackendError):
    default_code = "BACKEND_CIRCUIT_OPEN"


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 5,
        reset_timeout_s: float = 30.0,
        half_open_max_calls: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._threshold = failure_threshold
        self._reset_timeout_s = reset_timeout_s
        self._half_open_max = half_open_max_calls
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trials = 0
        self.times_opened = 0

    @property
    def state(self) -> BreakerState:
        if (
            self._state is BreakerState.OPEN
            and self._clock() - self._opened_at >= self._reset_timeout_s
        ):
            self._state = BreakerState.HALF_OPEN
            self._trials = 0
        return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def _allow(self) -> None:
        state = self.state
        if state is BreakerState.OPEN:
            retry_in = self._reset_timeout_s - (self._clock() - self._opened_at)
            raise BreakerOpen(
                f"{self.name} is failing; calls paused for {max(retry_in, 0):.0f} s",
                details={"backend": self.name},
            )
        if state is BreakerState.HALF_OPEN:
            if self._trials >= self._half_open_max:
                raise BreakerOpen(f"{self.name} is being probed; call paused",
                                  details={"backend": self.name})
            self._trials += 1

    def record_success(self) -> None:
        if self._state is not BreakerState.CLOSED:
            log.info("breaker.closed", backend=self.name)
        self._state = BreakerState.CLOSED
        self._failures = 0

    def record_failure(self) -> None:
        self._failures += 1
        if self._state is BreakerState.HALF_OPEN or self._failures >= self._threshold:
            if self._state is not BreakerState.OPEN:
                self.times_opened += 1
                log.warning("breaker.opened", backend=self.name, failures=self._failures)
            self._state = BreakerState.OPEN
            self._opened_at = self._clock()

    @asynccontextmanager
    async def guard(self) -> AsyncIterator[None]:
        """Run one call under the breaker. Only transient back-end errors count as failures."""
        self._allow()
        try:
            yield
        except BreakerOpen:
            raise
        except asyncio.CancelledError:
            # No evidence either way; give a half-open trial slot back.
            if self._state is BreakerState.HALF_OPEN:
                self._trials = max(0, self._trials - 1)
            raise
        except TransientError:
            self.record_failure()
            raise
        except Exception:
            # A permanent answer (not found, refused) means the service is up.
            self.record_success()
            raise
        self.record_success()


class BackendGate:
    """One back end's breaker and concurrency limit; every call to that back end passes here.

    The composition root makes one per back end (DOSIS, each back office) and hands the same
    gate to everyone who calls it. The breaker is asked first, so an open breaker refuses at
    once instead of after a wait for a free slot.
    """

    def __init__(self, breaker: CircuitBreaker, concurrency: int) -> None:
        if concurrency < 1:
            raise ValueError(f"{breaker.name}: concurrency must be at least 1")
        self.breaker = breaker
        self.concurrency = concurrency
        self._limit = asyncio.Semaphore(concurrency)
        self._in_flight = 0

    @property
    def name(self) -> str:
        return self.breaker.name

    @property
    def in_flight(self) -> int:
        """Calls holding a slot now (at most ``concurrency``)."""
        return self._in_flight

    @asynccontextmanager
    async def call(self) -> AsyncIterator[None]:
        async with self.breaker.guard(), self._limit:
            self._in_flight += 1
            try:
                yield
            finally:
                self._in_flight -= 1
