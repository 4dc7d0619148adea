"""The DOSIS simulator application: assembly, start and stop."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType

from aiohttp import web

from simulators.control import start_site
from simulators.dosis.api import add_api_routes
from simulators.dosis.control import control_routes
from simulators.dosis.dossiers import DossierRegister
from simulators.dosis.settings import DosisSimulatorSettings
from simulators.dosis.state import STATE, DosisState
from simulators.dosis.tokens import (
    SCOPE_DOSSIERS,
    SCOPE_NOTIFICATIONS,
    TokenService,
    load_client_keys,
)

__all__ = ["DosisSimulator", "create_dosis_app", "start_dosis_simulator"]


def create_dosis_app(settings: DosisSimulatorSettings) -> web.Application:
    """An aiohttp application serving the token, DOSIS and notification APIs plus ``/_control``.

    The clients' certificates are read here, once: a missing or non-RSA one fails at start-up.
    """
    _check(settings)
    state = DosisState(
        settings=settings,
        tokens=TokenService(load_client_keys(settings.clients), settings.token_ttl_s,
                            kids=settings.client_kids, scopes=_scopes(settings)),
        dossiers=DossierRegister(settings.process_delay_ms),
    )
    app = web.Application()
    app[STATE] = state
    add_api_routes(app, settings)
    app.add_routes(control_routes)
    app.on_shutdown.append(_wake_sleepers)
    return app


def _scopes(settings: DosisSimulatorSettings) -> tuple[str, ...]:
    return (SCOPE_DOSSIERS, SCOPE_NOTIFICATIONS) if settings.notifications else (SCOPE_DOSSIERS,)


def _check(settings: DosisSimulatorSettings) -> None:
    if settings.identification_keys not in {"connector", "annotated", "either"}:
        raise ValueError("identification_keys must be connector, annotated or either")
    if not settings.upload_paths:
        raise ValueError("upload_paths needs at least one path")
    if settings.process_delay_ms < 0 or settings.token_ttl_s < 0:
        raise ValueError("process_delay_ms and token_ttl_s must be >= 0")
    if not settings.phases or any(not codes for codes in settings.phases.values()):
        raise ValueError("phases needs at least one VlaamsFase, each with at least one code")


async def _wake_sleepers(app: web.Application) -> None:
    # Injected timeouts sleep up to a minute; let shutdown end them instead of waiting.
    app[STATE].closing.set()


@dataclass
class DosisSimulator:
    """A running simulator; ``port`` is the real one when 0 was asked for."""

    runner: web.AppRunner
    host: str
    port: int

    @property
    def base_url(self) -> str:
        """``http://host:port`` without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    @property
    def token_url(self) -> str:
        """The token endpoint, which is also the ``aud`` a client assertion must carry."""
        return self.base_url + self.state.settings.token_path

    @property
    def app(self) -> web.Application:
        """The running application."""
        return self.runner.app

    @property
    def state(self) -> DosisState:
        """The simulator's state, for in-process inspection."""
        return self.app[STATE]

    async def close(self) -> None:
        """Stop listening and end in-flight calls."""
        await self.runner.cleanup()

    async def __aenter__(self) -> DosisSimulator:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


async def start_dosis_simulator(settings: DosisSimulatorSettings) -> DosisSimulator:
    """Start the simulator on ``settings.host:settings.port`` (0 = a free port)."""
    app = create_dosis_app(settings)
    # handler_cancellation: a client that gives up on an injected timeout ends its handler too.
    runner, port = await start_site(app, settings.host, settings.port,
                                    handler_cancellation=True, shutdown_timeout=5.0)
    return DosisSimulator(runner=runner, host=settings.host, port=port)
