"""Whether the broker answers: ``check-config``'s network check, and the wait of a worker that
starts (or reconnects) while the broker is down — a log line per attempt, growing pauses
(tenacity), no traceback, until the broker answers or the worker is asked to stop."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

import aio_pika
import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_result, wait_exponential

from hub.runtime.transport import BROKER_FAILURES

__all__ = ["broker_problem", "describe_broker_failure", "wait_for_broker"]

log = structlog.get_logger(__name__)


async def broker_problem(url: str, timeout_s: float = 5.0) -> str | None:
    """None when an AMQP connection to ``url`` opens within ``timeout_s``; else why not.

    The TCP port is tried first, so a broker that is down costs no AMQP client traceback in
    the logs; then a real connection (credentials, virtual host).
    """
    parts = urlsplit(url)
    port = parts.port or (5671 if parts.scheme == "amqps" else 5672)
    try:
        async with asyncio.timeout(timeout_s):
            _, writer = await asyncio.open_connection(parts.hostname or "localhost", port)
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        connection = await aio_pika.connect(url, timeout=timeout_s)
    except BROKER_FAILURES as exc:
        return f"the broker does not answer ({describe_broker_failure(exc)})"
    await connection.close()
    return None


def describe_broker_failure(exc: BaseException) -> str:
    """What went wrong, in words: aio-pika says "Expected one of ['Connection.OpenOk'], got
    <Connection.Close ...>" for a virtual host that does not exist or is not ours."""
    text = str(exc)
    if "Connection.OpenOk" in text and "Connection.Close" in text:
        return "the broker closed the connection at once: no such virtual host, or no access to it"
    return text or type(exc).__name__


async def wait_for_broker(url: str, stop: asyncio.Event, *, first_wait_s: float = 0.5,
                          max_wait_s: float = 15.0, timeout_s: float = 10.0) -> bool:
    """Probe ``url`` until it answers (True) or ``stop`` is set (False), logging
    ``broker.waiting`` before each pause and ``broker.reachable`` once it answers after one."""

    async def pause(seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)

    def before_pause(state: RetryCallState) -> None:
        problem = state.outcome.result() if state.outcome else None
        pause_s = state.next_action.sleep if state.next_action else 0.0
        log.warning("broker.waiting", attempt=state.attempt_number, problem=problem,
                    retry_in_s=round(pause_s, 1))

    retrying = AsyncRetrying(
        retry=retry_if_result(lambda problem: problem is not None and not stop.is_set()),
        wait=wait_exponential(multiplier=first_wait_s, min=first_wait_s, max=max_wait_s),
        sleep=pause, before_sleep=before_pause,
    )
    attempts = 0
    async for attempt in retrying:
        with attempt:
            attempts = attempt.retry_state.attempt_number
            problem = "stopped" if stop.is_set() else await broker_problem(url, timeout_s)
        attempt.retry_state.set_result(problem)
    if stop.is_set():
        return False
    if attempts > 1:
        log.info("broker.reachable", attempts=attempts)
    return True
