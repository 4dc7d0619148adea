"""Shared fixtures: development keys, a MAGDA simulator, hub settings for a clean broker."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.devpki import KeyPair, generate_dev_pki, generate_self_signed

AMQP_URL = os.environ.get("LOKET_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
POSTGRES_DSN = os.environ.get("LOKET_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, KeyPair]:
    return generate_dev_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def untrusted_pair(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return generate_self_signed(tmp_path_factory.mktemp("untrusted"), "intruder", "not trusted")


@pytest.fixture
async def simulator(pki: dict[str, KeyPair]) -> AsyncIterator[object]:
    from simulators.magda import MagdaSimulatorSettings, start_magda_simulator

    sim = await start_magda_simulator(
        MagdaSimulatorSettings(port=0, trusted_certs=(pki["magda-client"].cert,))
    )
    try:
        yield sim
    finally:
        await sim.close()


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
