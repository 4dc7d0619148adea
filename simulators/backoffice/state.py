"""The mutable state of one simulated back office: requests, faults, script and its answers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from simulators.backoffice.faults import FaultPlan
from simulators.backoffice.records import Forwarded, ReceivedRequest, RequestLog
from simulators.backoffice.script import ScriptStep, action_body, parse_script
from simulators.backoffice.settings import BackofficeSimulatorSettings

__all__ = ["STATE", "ActionSink", "BackofficeState"]

log = logging.getLogger(__name__)

ActionSink = Callable[[str, dict[str, Any]], Awaitable[None]]
"""Publishes one answer: ``(routing_key, body)``; raises when it was not delivered."""


@dataclass
class BackofficeState:
    """Everything the handlers, the AMQP consumer and the control API share."""

    settings: BackofficeSimulatorSettings
    sink: ActionSink | None = None
    log: RequestLog = field(default_factory=RequestLog)
    faults: FaultPlan = field(default_factory=FaultPlan)
    script: tuple[ScriptStep, ...] = ()
    answers: list[dict[str, Any]] = field(default_factory=list)
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    # Strong references: the loop keeps only weak ones to tasks.
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def __post_init__(self) -> None:
        if not self.script:
            self.script = parse_script(self.settings.actions)

    def take(
        self, request: Forwarded, channel: str, signed_at: int | None = None
    ) -> tuple[ReceivedRequest, bool]:
        """Record a request; a new one starts the current script."""
        received, new = self.log.take(request, channel, signed_at)
        if new:
            self._spawn(self._run_script(request, self.script))
        return received, new

    def answer_now(self, request: Forwarded, step: ScriptStep) -> None:
        """Publish one action for a recorded request, outside the script."""
        self._spawn(self._answer(request, step))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_script(self, request: Forwarded, script: tuple[ScriptStep, ...]) -> None:
        for index, step in enumerate(script):
            default = 0 if index == 0 else self.settings.action_delay_ms
            await self.pause(default if step.delay_ms is None else step.delay_ms)
            if self.closing.is_set():
                return
            await self._answer(request, step)

    async def _answer(self, request: Forwarded, step: ScriptStep) -> None:
        body = action_body(request.job_id, request.request_id, step, self.settings.employee)
        routing_key = f"action.{request.tenant}"
        entry: dict[str, Any] = {"routing_key": routing_key, "body": body,
                                 "delivery": "recorded-only", "error": None}
        self.answers.append(entry)
        if self.sink is None:
            return
        for attempt in range(1, self.settings.publish_attempts + 1):
            try:
                await self.sink(routing_key, body)
            except Exception as exc:  # any broker trouble: retry, then show it in the log
                entry.update(delivery="failed", error=f"{type(exc).__name__}: {exc}")
                log.warning("answer %s for %s not published (attempt %d): %s",
                            step.action, request.request_id, attempt, exc)
                if attempt == self.settings.publish_attempts:
                    return
                await self.pause(500 * attempt)
                if self.closing.is_set():
                    return
            else:
                entry.update(delivery="published", error=None)
                return

    async def pause(self, milliseconds: int) -> None:
        """Sleep, but wake at once when the simulator shuts down."""
        if milliseconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.closing.wait(), milliseconds / 1000)

    async def cancel_answers(self) -> int:
        """Stop every script still running; return how many there were."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return len(tasks)

    async def reset(self) -> dict[str, int]:
        """Forget requests, refusals, answers and faults; stop scripts; restore the script."""
        counts = self.log.clear()
        counts["scripts_stopped"] = await self.cancel_answers()
        counts["answers"] = len(self.answers)
        counts["faults"] = self.faults.clear()
        self.answers.clear()
        self.script = parse_script(self.settings.actions)
        return counts


STATE = web.AppKey("backoffice_simulator_state", BackofficeState)
