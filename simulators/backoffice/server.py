"""The simulated back office: assembly, start and stop."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType

from aiohttp import web

from simulators.backoffice.amqp import AmqpLink
from simulators.backoffice.api import api_routes
from simulators.backoffice.control import control_routes
from simulators.backoffice.records import IntakeError, parse_forwarded
from simulators.backoffice.script import parse_script
from simulators.backoffice.settings import BackofficeSimulatorSettings
from simulators.backoffice.state import STATE, ActionSink, BackofficeState

__all__ = ["BackofficeSimulator", "create_backoffice_app", "start_backoffice_simulator"]


def _check(settings: BackofficeSimulatorSettings) -> None:
    if not settings.secret:
        raise ValueError("secret must not be empty")
    if settings.queue and not settings.amqp_url:
        raise ValueError("a queue needs amqp_url")
    if settings.action_delay_ms < 0 or settings.tolerance_s <= 0:
        raise ValueError("action_delay_ms must be >= 0 and tolerance_s > 0")
    if settings.publish_attempts < 1 or settings.publish_timeout_s <= 0:
        raise ValueError("publish_attempts must be >= 1 and publish_timeout_s > 0")
    parse_script(settings.actions)  # a bad default script fails at start, not per request


def create_backoffice_app(
    settings: BackofficeSimulatorSettings, sink: ActionSink | None = None
) -> web.Application:
    """An aiohttp application serving ``POST /requests`` and ``/_control``.

    ``sink`` publishes the answers; without one they are only recorded (``/_control/answers``).
    """
    _check(settings)
    app = web.Application()
    app[STATE] = BackofficeState(settings=settings, sink=sink)
    app.add_routes(api_routes)
    app.add_routes(control_routes)
    app.on_shutdown.append(_stop_answers)
    return app


async def _stop_answers(app: web.Application) -> None:
    # Scripts and injected timeouts sleep; let shutdown end them instead of waiting.
    state = app[STATE]
    state.closing.set()
    await state.cancel_answers()


def take_from_queue(state: BackofficeState, body: bytes) -> bool:
    """Take a request that came over AMQP; False (and a refusal) when it is unreadable."""
    try:
        forwarded = parse_forwarded(body)
    except IntakeError as exc:
        state.log.refuse("amqp", exc.reason, exc.message)
        return False
    state.take(forwarded, "amqp")
    return True


@dataclass
class BackofficeSimulator:
    """A running simulator; ``port`` is the real one when 0 was asked for."""

    runner: web.AppRunner
    host: str
    port: int
    amqp: AmqpLink | None = None

    @property
    def base_url(self) -> str:
        """``http://host:port`` without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    @property
    def requests_url(self) -> str:
        """Where the hub posts forwarded requests."""
        return self.base_url + "/requests"

    @property
    def app(self) -> web.Application:
        """The running application."""
        return self.runner.app

    @property
    def state(self) -> BackofficeState:
        """The simulator's state, for in-process inspection."""
        return self.app[STATE]

    async def close(self) -> None:
        """Close the broker link (no new requests), stop answering, stop listening."""
        if self.amqp is not None:
            await self.amqp.close()
        await self.runner.cleanup()

    async def __aenter__(self) -> BackofficeSimulator:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


async def start_backoffice_simulator(
    settings: BackofficeSimulatorSettings,
) -> BackofficeSimulator:
    """Start on ``settings.host:settings.port`` (0 = a free port) and, with ``amqp_url``,
    connect to the broker: answers go to ``settings.exchange``, requests come from
    ``settings.queue``."""
    app = create_backoffice_app(settings)
    state = app[STATE]
    link = None
    if settings.amqp_url:
        link = AmqpLink(settings, lambda body: take_from_queue(state, body))
        state.sink = link.publish
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=5.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.host, settings.port).start()
        if link is not None:
            await link.start()
    except BaseException:
        await runner.cleanup()
        if link is not None:
            await link.close()
        raise
    port = int(runner.addresses[0][1])
    return BackofficeSimulator(runner=runner, host=settings.host, port=port, amqp=link)
