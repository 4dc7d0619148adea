"""Shared fixtures: development keys, a MAGDA simulator, hub settings for a clean broker."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.devpki import KeyPair, generate_dev_pki, generate_self_signed

AMQP_URL = os.environ.get("LOKET_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
POSTGRES_DSN = os.environ.get("LOKET_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")

# Date-sensitive tests: keys and certificates made at run time meet signing and verification
# times, expiry warnings, retention cut-offs and token lifetimes. scripts/test.sh runs them once
# more with the clock 45 days ahead (libfaketime, subprocesses such as xmlsec1 and pdfsig
# included), so a fixed date that meets a generated certificate fails the day it is written.
CLOCK_SENSITIVE = (
    "tests/documents/",
    "tests/integration/test_document_wiring.py",
    "tests/integration/test_store.py",
    "tests/integration/test_admin.py",
    "tests/integration/test_backend_security.py",
    "tests/integration/test_status_push.py",
    "tests/integration/test_civil_status_and_criminal_record.py",
    "tests/simulators/dosis/",
    "tests/simulators/backoffice/",
    "tests/simulators/test_sim_criminal_record.py",
    "tests/simulators/test_sim_reply_security.py",
    "tests/simulators/test_sim_tls.py",
    "tests/simulators/test_sim_wssecurity.py",
    "tests/unit/test_criminal_record_mapping.py",
    "tests/unit/test_devpki.py",
    "tests/unit/test_hmac_signing.py",
    "tests/unit/test_status_mapping.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.startswith(CLOCK_SENSITIVE):
            item.add_marker(pytest.mark.clock)


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
