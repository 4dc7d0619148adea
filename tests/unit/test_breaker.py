import asyncio

import pytest

from hub.breaker import BackendGate, BreakerOpen, BreakerState, CircuitBreaker
from hub.errors import BackendError, NotFound


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _fail(breaker: CircuitBreaker) -> None:
    with pytest.raises(BackendError):
        async with breaker.guard():
            raise BackendError("down")


async def _succeed(breaker: CircuitBreaker) -> None:
    async with breaker.guard():
        pass


async def test_opens_after_threshold_and_refuses_at_once() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("population", failure_threshold=3, reset_timeout_s=30, clock=clock)
    for _ in range(2):
        await _fail(breaker)
    assert breaker.state is BreakerState.CLOSED
    await _fail(breaker)
    assert breaker.state is BreakerState.OPEN
    with pytest.raises(BreakerOpen) as info:
        await _succeed(breaker)
    assert info.value.retryable
    assert info.value.code == "BACKEND_CIRCUIT_OPEN"
    assert breaker.times_opened == 1


async def test_half_open_trial_closes_on_success() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("p", failure_threshold=1, reset_timeout_s=30, clock=clock)
    await _fail(breaker)
    clock.now += 30
    assert breaker.state is BreakerState.HALF_OPEN
    await _succeed(breaker)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.consecutive_failures == 0


async def test_half_open_trial_failure_opens_again_and_limits_trials() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("p", failure_threshold=1, reset_timeout_s=30,
                             half_open_max_calls=1, clock=clock)
    await _fail(breaker)
    clock.now += 31
    async with breaker.guard():
        # While the one trial runs, a second call is refused.
        with pytest.raises(BreakerOpen):
            async with breaker.guard():
                pass
    assert breaker.state is BreakerState.CLOSED
    await _fail(breaker)
    clock.now += 31
    await _fail(breaker)
    assert breaker.state is BreakerState.OPEN
    assert breaker.times_opened == 3


async def test_permanent_answers_do_not_count_as_failures() -> None:
    breaker = CircuitBreaker("p", failure_threshold=1)
    with pytest.raises(NotFound):
        async with breaker.guard():
            raise NotFound("nobody")
    assert breaker.state is BreakerState.CLOSED


async def test_a_gate_bounds_the_calls_in_flight_to_its_concurrency() -> None:
    gate = BackendGate(CircuitBreaker("dosis"), concurrency=2)
    inside: list[int] = []
    release = asyncio.Event()

    async def call() -> None:
        async with gate.call():
            inside.append(gate.in_flight)
            await release.wait()

    calls = [asyncio.create_task(call()) for _ in range(5)]
    for _ in range(20):
        await asyncio.sleep(0)
    assert gate.in_flight == 2 and len(inside) == 2
    release.set()
    await asyncio.gather(*calls)
    assert max(inside) == 2 and len(inside) == 5 and gate.in_flight == 0


async def test_an_open_gate_refuses_at_once_even_with_every_slot_taken() -> None:
    breaker = CircuitBreaker("backoffice.contact-details", failure_threshold=1,
                             reset_timeout_s=10, clock=FakeClock())
    gate = BackendGate(breaker, concurrency=1)
    release = asyncio.Event()

    async def slow_call() -> None:
        async with gate.call():
            await release.wait()

    holder = asyncio.create_task(slow_call())
    for _ in range(5):
        await asyncio.sleep(0)
    assert gate.in_flight == 1
    breaker.record_failure()  # another caller's failure opens it meanwhile
    # The refusal does not wait for the one slot: it comes at once.
    with pytest.raises(BreakerOpen):
        await asyncio.wait_for(_enter(gate), timeout=5)
    release.set()
    await holder


async def _enter(gate: BackendGate) -> None:
    async with gate.call():
        pass


def test_a_gate_needs_at_least_one_slot() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        BackendGate(CircuitBreaker("dosis"), concurrency=0)
