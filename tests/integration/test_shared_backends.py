"""One client, one breaker and one concurrency limit per back end, shared by its adapters.

The population register is called by three adapters (population, prefill, back office): they
are given the one client the composition root builds, so what one adapter's calls do to the
breaker, the others see, and one limit bounds the calls of all of them.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hub.app import Backends, build_backends, build_registry
from hub.breaker import BreakerOpen, BreakerState
from hub.config import BackendSettings, Settings, load_tenants
from hub.contract import Job, Requester, Subject
from hub.devpki import KeyPair
from hub.errors import BackendError
from hub.ports import Adapter, AdapterAnswer, CallContext
from hub.registry import AdapterRegistry
from hub.store import OutcomeStore, open_store
from simulators.population_data import WELL_KNOWN
from tests.integration.test_end_to_end import control, hub_settings

TENANTS = load_tenants(Path(__file__).resolve().parents[2] / "mappings/tenants")


def _context(job_type: str, parameters: dict[str, Any], audit: OutcomeStore) -> CallContext:
    insz = WELL_KNOWN["mover"]
    job = Job(job_id=f"shared-{job_type}", type=job_type, tenant="gent",
              requester=Requester("person", insz, True), subject=Subject("person", insz),
              product_id=1, dossier_id="D-1", parameters=parameters)
    return CallContext(job=job, tenant=TENANTS["gent"], attempt=1, audit=audit)


def _population(audit: OutcomeStore) -> CallContext:
    return _context("population.attest", {"attest": "main-residence"}, audit)


def _prefill(audit: OutcomeStore) -> CallContext:
    # Gent has a register link: the street comes from GeefPersoon.
    return _context("prefill.form", {"question_ids": ["person_requester_1_street"],
                                     "claims": {}}, audit)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[OutcomeStore]:
    opened = await open_store(f"sqlite:///{tmp_path}/audit.db")
    yield opened
    await opened.close()


def _wired(settings: Settings) -> tuple[Backends, AdapterRegistry]:
    backends = build_backends(settings, TENANTS)
    return backends, build_registry(settings, TENANTS, backends)


def _adapter(registry: AdapterRegistry, job_type: str) -> Adapter:
    adapter = registry.for_type(job_type)
    assert adapter is not None
    return adapter


def test_one_breaker_per_back_end_and_the_adapters_that_share_it(
    simulator: Any, pki: dict[str, KeyPair], tmp_path: Path
) -> None:
    backends, registry = _wired(hub_settings(simulator, pki, tmp_path))
    assert sorted(backends.breakers) == [
        "backoffice.contact-details", "civil-status", "criminal-record", "population"]
    population = backends.breakers["population"]
    for name in ("population", "prefill", "backoffice"):
        assert population in registry.breakers_of(name), name
    assert registry.breakers_of("prefill") == (population,)
    assert registry.breakers_of("usermgmt") == ()
    assert registry.breakers_of("civil-status") == (backends.breakers["civil-status"],)
    # DOSIS is no back end while the status push is off; each back office is one gate.
    assert backends.dosis is None
    [forward] = backends.backoffices.values()
    assert registry.breakers_of("backoffice")[-1] is forward.breaker
    assert forward.concurrency == BackendSettings().concurrency


def test_dosis_is_one_gate_when_statuses_are_pushed(
    simulator: Any, pki: dict[str, KeyPair], tmp_path: Path
) -> None:
    settings = hub_settings(simulator, pki, tmp_path)
    settings = dataclasses.replace(
        settings, status=dataclasses.replace(settings.status, enabled=True),
        backends=settings.backends | {"dosis": BackendSettings(concurrency=3)})
    backends = build_backends(settings, TENANTS)
    assert backends.dosis is not None and backends.dosis.concurrency == 3
    assert backends.breakers["dosis"] is backends.dosis.breaker


async def test_a_breaker_opened_by_one_adapter_is_open_for_the_other(
    simulator: Any, pki: dict[str, KeyPair], tmp_path: Path, store: OutcomeStore
) -> None:
    settings = hub_settings(simulator, pki, tmp_path, breaker_failure_threshold=2,
                            breaker_reset_timeout_s=3600.0, connect_retries=0)
    backends, registry = _wired(settings)
    await backends.start()
    try:
        population, prefill = (_adapter(registry, "population.attest"),
                               _adapter(registry, "prefill.form"))
        await control(simulator, "POST", "faults",
                      {"service": "GeefPersoon", "kind": "http-500", "times": 2})
        for _ in range(2):
            with pytest.raises(BackendError) as failed:
                await population.handle(_population(store))
            assert not isinstance(failed.value, BreakerOpen)
        assert backends.population.breaker is not None
        assert backends.population.breaker.state is BreakerState.OPEN
        calls = len(await control(simulator, "GET", "calls"))
        # The prefill adapter's call meets the same open breaker and never leaves.
        with pytest.raises(BreakerOpen) as refused:
            await prefill.handle(_prefill(store))
        assert refused.value.details == {"backend": "population"}
        assert len(await control(simulator, "GET", "calls")) == calls
    finally:
        await backends.close()


async def test_one_limit_bounds_the_calls_of_every_adapter_of_a_back_end(
    simulator: Any, pki: dict[str, KeyPair], tmp_path: Path, store: OutcomeStore
) -> None:
    backends, registry = _wired(hub_settings(simulator, pki, tmp_path, concurrency=1))
    await backends.start()
    try:
        population, prefill = (_adapter(registry, "population.attest"),
                               _adapter(registry, "prefill.form"))
        # While the one slot of the population register is taken (as by a call of the
        # population adapter), the prefill adapter's call waits for it; then it goes.
        async with backends.population.limit:
            waiting = asyncio.create_task(prefill.handle(_prefill(store)))
            for _ in range(50):
                await asyncio.sleep(0.01)
            assert not waiting.done()
            assert await control(simulator, "GET", "calls") == []
        answer = await asyncio.wait_for(waiting, timeout=30)
        assert isinstance(answer, AdapterAnswer) and answer.data and answer.data["values"]
        certificate = await population.handle(_population(store))
        assert isinstance(certificate, AdapterAnswer) and certificate.certificate is not None
    finally:
        await backends.close()
