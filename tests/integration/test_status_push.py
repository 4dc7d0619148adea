"""Statuses to the citizen profile: in order per dossier across workers, never lost, refusals
surfaced. Against the DOSIS simulator over real HTTP with real OAuth2 client assertions."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hub.admin.auth import TokenBook
from hub.admin.server import start_admin_server
from hub.config import Settings
from hub.contract import Outcome
from hub.devpki import KeyPair
from hub.testing import make_job, running_test_hub
from loket_hub.client import LoketClient
from simulators.dosis import DosisSimulatorSettings, start_dosis_simulator
from simulators.population_data import WELL_KNOWN
from tests.conftest import AMQP_URL
from tests.integration.test_end_to_end import hub_settings

pytestmark = pytest.mark.broker


@pytest.fixture
async def dosis(pki: dict[str, KeyPair]) -> AsyncIterator[Any]:
    simulator = await start_dosis_simulator(
        DosisSimulatorSettings(port=0, clients={"loket-hub": pki["dosis-client"].cert})
    )
    yield simulator
    await simulator.close()


def pushing(settings: Settings, dosis: Any, pki: dict[str, KeyPair]) -> Settings:
    return dataclasses.replace(settings, status=dataclasses.replace(
        settings.status, enabled=True, dosis_url=dosis.base_url, token_url=dosis.token_url,
        client_key=pki["dosis-client"].key, backoff_initial_s=0.1, backoff_max_s=0.4,
        max_attempts=60, reconcile_interval_s=3600,
    ))


async def dosis_control(dosis: Any, method: str, path: str, body: Any = None) -> Any:
    async with aiohttp.ClientSession() as http:
        reply = await http.request(method, f"{dosis.base_url}/_control/{path}", json=body)
        assert reply.status < 300, await reply.text()
        return await reply.json()


async def _wait_for_uploads(dosis: Any, count: int, timeout_s: float = 60) -> list[dict[str, Any]]:
    for _ in range(int(timeout_s / 0.1)):
        uploads: list[dict[str, Any]] = await dosis_control(dosis, "GET", "dossiers")
        if len(uploads) >= count:
            return uploads
        await asyncio.sleep(0.1)
    raise AssertionError(f"only {len(uploads)} of {count} statuses reached DOSIS")


async def test_statuses_in_order_for_200_interleaved_dossiers_across_two_workers(
    simulator: Any, dosis: Any, pki: dict[str, KeyPair], tmp_path: Path
) -> None:
    settings = pushing(hub_settings(simulator, pki, tmp_path), dosis, pki)
    people = [WELL_KNOWN[k] for k in ("household_head", "single", "extended_head", "partner")]
    jobs = [make_job(people[i % len(people)], dossier_id=f"DOS-ORDER-{i:03d}")
            for i in range(200)]
    random.Random(4).shuffle(jobs)
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(running_test_hub(settings))
        await stack.enter_async_context(running_test_hub(settings, reset=False))
        client = await stack.enter_async_context(LoketClient.connect(AMQP_URL))
        futures = [await client.publish(job) for job in jobs]
        results = await asyncio.wait_for(asyncio.gather(*futures), timeout=120)
        assert {r.outcome for r in results} == {Outcome.DELIVERED}
        uploads = await _wait_for_uploads(dosis, 400)
    per_dossier: dict[str, list[str]] = defaultdict(list)
    for upload in uploads:
        per_dossier[upload["dossier"]].append(f"{upload['vlaams_fase']}/{upload['vlaams_code']}")
    assert len(per_dossier) == 200
    for dossier, statuses in per_dossier.items():
        assert statuses == ["Samenstelling/Ingediend", "Afgerond/Goedgekeurd"], dossier
    assert len({u["upload_id"] for u in uploads}) == 400
    assert all(u["bron"] == "urn://gent.be/cs-connector/loket-hub" for u in uploads)


async def test_service_down_for_a_while_then_every_status_arrives_exactly_once(
    simulator: Any, dosis: Any, pki: dict[str, KeyPair], tmp_path: Path
) -> None:
    settings = pushing(hub_settings(simulator, pki, tmp_path), dosis, pki)
    async with running_test_hub(settings) as harness:
        await dosis_control(dosis, "POST", "down", {"seconds": 2})
        jobs = [make_job(WELL_KNOWN["single"]) for _ in range(10)]
        futures = [await harness.client.publish(job) for job in jobs]
        await asyncio.wait_for(asyncio.gather(*futures), timeout=60)
        uploads = await _wait_for_uploads(dosis, 20)
        await asyncio.sleep(0.5)  # a duplicate, if any, would land now
        uploads = await dosis_control(dosis, "GET", "dossiers")
        pushes = await harness.hub.store.pushes()
    assert len(uploads) == 20
    assert sorted(u["dossier"] for u in uploads) == sorted([j["dossier_id"] for j in jobs] * 2)
    assert len(pushes) == 20


async def test_notifications_for_statuses_that_need_attention(
    simulator: Any, dosis: Any, pki: dict[str, KeyPair], tmp_path: Path
) -> None:
    settings = pushing(hub_settings(simulator, pki, tmp_path), dosis, pki)
    settings = dataclasses.replace(settings, status=dataclasses.replace(
        settings.status, notifications_enabled=True))
    async with running_test_hub(settings) as harness:
        job = make_job(WELL_KNOWN["single"])
        await harness.client.request(job, timeout=30)
        await _wait_for_uploads(dosis, 2)
        for _ in range(50):
            notes = await dosis_control(dosis, "GET", "notifications")
            if len(notes) >= 2:
                break
            await asyncio.sleep(0.1)
    # "received" (the e-counter e-mails the applicant then) and "delivered" (gent opts in).
    codes = [{p["Sleutel"]: p["Waarde"] for p in note["payload"]["SleutelWaardeParen"]}
             for note in notes]
    assert codes == [
        {"DossierNummer": job["dossier_id"], "StatusVlaamseCode": "Ingediend",
         "StatusVlaamseFase": "Samenstelling"},
        {"DossierNummer": job["dossier_id"], "StatusVlaamseCode": "Goedgekeurd",
         "StatusVlaamseFase": "Afgerond"}]


async def test_notifications_are_off_unless_configured(
    simulator: Any, dosis: Any, pki: dict[str, KeyPair], tmp_path: Path
) -> None:
    settings = pushing(hub_settings(simulator, pki, tmp_path), dosis, pki)
    async with running_test_hub(settings) as harness:
        await harness.client.request(make_job(WELL_KNOWN["single"]), timeout=30)
        await _wait_for_uploads(dosis, 2)
        await asyncio.sleep(0.3)
        assert await dosis_control(dosis, "GET", "notifications") == []


async def test_a_status_refused_later_by_the_service_is_surfaced(
    simulator: Any, dosis: Any, pki: dict[str, KeyPair], tmp_path: Path
) -> None:
    settings = pushing(hub_settings(simulator, pki, tmp_path), dosis, pki)
    async with running_test_hub(settings) as harness:
        await dosis_control(dosis, "POST", "faults", {"endpoint": "dossiers",
                                                      "kind": "refuse-result", "times": 1})
        job = make_job(WELL_KNOWN["single"])
        await harness.client.request(job, timeout=30)
        await _wait_for_uploads(dosis, 2)
        # DOSIS accepted both; the pusher records each right after its 200.
        for _ in range(100):
            if len(await harness.hub.store.pushes()) == 2:
                break
            await asyncio.sleep(0.05)
        assert harness.hub.status_pusher is not None
        assert await harness.hub.status_pusher.reconcile_once() == 2
        refused = await harness.hub.store.pushes(result="refused")
        # The operator sees it: admin API (the page reads the same) and the metric.
        book = TokenBook({"a-token-for-the-status-tests": "anne"})
        runner, port = await start_admin_server(harness.hub, book, harness.hub.metrics,
                                                 host="127.0.0.1", port=0)
        try:
            headers = {"Authorization": "Bearer a-token-for-the-status-tests"}
            async with aiohttp.ClientSession(headers=headers) as http:
                base = f"http://127.0.0.1:{port}"
                async with http.get(f"{base}/api/status-pushes?result=refused") as reply:
                    listed = await reply.json()
                async with http.get(f"{base}/metrics") as reply:
                    metrics = await reply.text()
        finally:
            await runner.cleanup()
    assert [(p.dossier_id, p.status) for p in refused] == [(job["dossier_id"], "received")]
    assert refused[0].reason and "Geweigerd op verzoek van de test" in refused[0].reason
    assert [(p["dossier_id"], p["status"], p["result"]) for p in listed] == [
        (job["dossier_id"], "received", "refused")]
    assert listed[0]["reason"] == refused[0].reason
    assert 'loket_status_readback_total{result="refused"} 1.0' in metrics
    assert 'loket_status_readback_total{result="accepted"} 1.0' in metrics
