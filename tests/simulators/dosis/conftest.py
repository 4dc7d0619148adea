"""Fixtures for the DOSIS simulator tests: client keys, a running simulator, a token."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from hub.devpki import KeyPair, generate_self_signed
from simulators.dosis import DosisSimulator, DosisSimulatorSettings, start_dosis_simulator
from tests.simulators.dosis.factories import CLIENT_ID, get_token

StartSimulator = Callable[..., Any]


@pytest.fixture(scope="session")
def client_pair(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    """The hub's DOSIS client key and certificate."""
    directory = tmp_path_factory.mktemp("dosis-pki")
    return generate_self_signed(directory, "dosis-client", "loket-hub DOSIS client")


@pytest.fixture(scope="session")
def stranger_pair(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    """A key the simulator does not know."""
    directory = tmp_path_factory.mktemp("dosis-stranger")
    return generate_self_signed(directory, "stranger", "someone else")


@pytest.fixture
async def start(client_pair: KeyPair) -> AsyncIterator[StartSimulator]:
    """``await start(**settings)``: a simulator knowing ``loket-hub``, closed after the test."""
    started: list[DosisSimulator] = []

    async def run(**overrides: Any) -> DosisSimulator:
        settings = DosisSimulatorSettings(
            port=0, clients={CLIENT_ID: client_pair.cert}, **overrides
        )
        simulator = await start_dosis_simulator(settings)
        started.append(simulator)
        return simulator

    yield run
    for simulator in started:
        await simulator.close()


@pytest.fixture
async def sim(start: StartSimulator) -> DosisSimulator:
    """A simulator with the default settings (results at once, tokens for 300 s)."""
    simulator: DosisSimulator = await start()
    return simulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A client session."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def token(http: aiohttp.ClientSession, sim: DosisSimulator, client_pair: KeyPair) -> str:
    """A token with both scopes on ``sim``."""
    return await get_token(http, sim, client_pair.key)
