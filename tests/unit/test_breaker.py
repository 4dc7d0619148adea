import pytest

from hub.breaker import BreakerOpen, BreakerState, CircuitBreaker
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
