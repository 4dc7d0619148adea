"""The admin server of a running worker: auth, health, metrics, adapters, queues, audit export."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from openpyxl import load_workbook

from hub.admin.auth import TokenBook
from hub.admin.server import start_admin_server
from hub.config import REPO_ROOT, SigningSettings
from hub.devpki import KeyPair, generate_self_signed
from hub.testing import HubHarness, make_job, running_test_hub
from simulators.population_data import WELL_KNOWN
from tests.integration.test_end_to_end import hub_settings

pytestmark = pytest.mark.broker

TOKEN = "s3cret-token-for-the-tests"


@pytest.fixture
async def admin(
    simulator: Any, pki: dict[str, KeyPair], tmp_path: Path
) -> AsyncIterator[tuple[HubHarness, str]]:
    # A signing certificate that ends in 10 days: the health output must say so. Gent signs
    # with the default identity here (its own [signing] table left out of a copy of the files).
    short = generate_self_signed(tmp_path / "short", "gent-docs", "Stad Gent documents", days=10)
    tenants_dir = tmp_path / "tenants"
    shutil.copytree(REPO_ROOT / "mappings/tenants", tenants_dir)
    gent = (tenants_dir / "gent.toml").read_text(encoding="utf-8")
    start = gent.index("\n[signing]\n")
    end = gent.find("\n[", start + 1)
    (tenants_dir / "gent.toml").write_text(gent[:start] + (gent[end:] if end != -1 else "\n"),
                                           encoding="utf-8")
    settings = hub_settings(simulator, pki, tmp_path)
    settings = dataclasses.replace(settings, tenants_dir=tenants_dir, documents=dataclasses.replace(
        settings.documents, signing=SigningSettings(key=str(short.key), cert=str(short.cert))))
    async with running_test_hub(settings) as harness:
        book = TokenBook({TOKEN: "anne"})
        runner, port = await start_admin_server(harness.hub, book, harness.hub.metrics,
                                                 host="127.0.0.1", port=0)
        try:
            yield harness, f"http://127.0.0.1:{port}"
        finally:
            await runner.cleanup()


async def _get(url: str, token: str | None = TOKEN) -> aiohttp.ClientResponse:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http:
        reply = await http.get(url, headers=headers)
        await reply.read()
        return reply


async def test_no_token_no_access_except_liveness(admin: tuple[HubHarness, str]) -> None:
    _, base = admin
    assert (await _get(f"{base}/health/live", token=None)).status == 200
    for path in ("/health/ready", "/metrics", "/api/adapters", "/api/audit"):
        assert (await _get(f"{base}{path}", token=None)).status == 401
        assert (await _get(f"{base}{path}", token="wrong-token-wrong-token")).status == 401


async def test_ready_reports_broker_store_breakers_and_expiring_certificates(
    admin: tuple[HubHarness, str],
) -> None:
    _, base = admin
    async with aiohttp.ClientSession() as http:
        reply = await http.get(f"{base}/health/ready",
                               headers={"Authorization": f"Bearer {TOKEN}"})
        body = await reply.json()
    assert reply.status == 200
    assert body["broker"] is True and body["store"] is True
    # One breaker per back end: the population register's is shared by three adapters.
    assert body["breakers"] == {name: "closed" for name in (
        "population", "civil-status", "criminal-record", "backoffice.contact-details")}
    assert list(body["certificates_expiring"]) == ["default"]


async def test_metrics_move_when_jobs_run(admin: tuple[HubHarness, str]) -> None:
    harness, base = admin
    await harness.client.request(make_job(WELL_KNOWN["single"]), timeout=30)
    await harness.client.request(make_job(WELL_KNOWN["unknown"]), timeout=30)
    async with aiohttp.ClientSession() as http:
        reply = await http.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        text = await reply.text()
    assert 'loket_jobs_total{outcome="delivered",type="population.attest"} 1.0' in text
    assert 'loket_jobs_total{outcome="rejected",type="population.attest"} 1.0' in text
    assert 'loket_backend_call_seconds_count{outcome="ok",service="GeefGezinssamenstelling"}' \
        in text
    assert 'loket_breaker_open{backend="population"} 0.0' in text


async def test_the_metrics_an_sre_expects(admin: tuple[HubHarness, str]) -> None:
    """Job durations by type and outcome, every queue's depth (the delayed ones too), the
    process and platform collectors, and the event loop's lag, by name."""
    harness, base = admin
    await harness.client.request(make_job(WELL_KNOWN["single"]), timeout=30)
    await asyncio.sleep(1.5)  # the loop-lag watcher samples once a second
    async with aiohttp.ClientSession() as http:
        reply = await http.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        text = await reply.text()
    samples = {line.split(" ")[0]: float(line.rsplit(" ", 1)[1])
               for line in text.splitlines() if line and not line.startswith("#")}
    assert samples['loket_job_duration_seconds_count{outcome="delivered",'
                   'type="population.attest"}'] == 1.0
    assert samples['loket_queue_messages{kind="work",queue="jobs.population"}'] == 0.0
    assert samples['loket_queue_consumers{kind="work",queue="jobs.population"}'] >= 1.0
    retry = [name for name in samples
             if name.startswith('loket_queue_messages{kind="retry",queue="retry.population.')]
    assert retry, "the retry queues have a depth too"
    assert {'loket_queue_messages{kind="dead-letters",queue="dead.letters"}',
            'loket_queue_messages{kind="outbox",queue="status.outbox"}'} <= set(samples)
    assert any(n.startswith('loket_queue_messages{kind="poll",') for n in samples)
    assert samples["loket_queue_depth_up"] == 1.0
    assert samples["process_cpu_seconds_total"] > 0
    assert samples["process_resident_memory_bytes"] > 0
    assert any(name.startswith("python_info{") for name in samples)
    assert any(name.startswith("python_gc_objects_collected_total{") for name in samples)
    assert 0.0 <= samples["loket_event_loop_lag_seconds"] < 60
    assert samples["loket_event_loop_lag_max_seconds"] >= samples["loket_event_loop_lag_seconds"]


async def test_adapters_and_queues(admin: tuple[HubHarness, str]) -> None:
    _, base = admin
    async with aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        adapters = await (await http.get(f"{base}/api/adapters", headers=headers)).json()
        queues = await (await http.get(f"{base}/api/queues", headers=headers)).json()
    assert {a["name"]: a["backends"] for a in adapters} == {
        "population": ["population"], "prefill": ["population"],
        "backoffice": ["population", "backoffice.contact-details"],
        "civil-status": ["civil-status"], "criminal-record": ["criminal-record"],
        "usermgmt": []}
    assert {a["breaker"] for a in adapters} == {"closed"}
    work = {q["queue"]: q for q in queues}["jobs.population"]
    assert work["consumers"] >= 1 and work["kind"] == "work"
    # Every queue of the topology, the delayed ones too (a job waiting for a retry is seen).
    assert {q["kind"] for q in queues} == {
        "work", "retry", "poll", "outbox", "dead-letters", "approvals", "decisions", "actions"}
    assert any(q["queue"].startswith("retry.population.") and q["messages"] == 0
               for q in queues)
    assert all(not q.get("missing") for q in queues)


async def test_audit_export_opens_as_xlsx_with_the_rows(admin: tuple[HubHarness, str]) -> None:
    harness, base = admin
    jobs = [make_job(WELL_KNOWN["single"]), make_job(WELL_KNOWN["household_head"])]
    for job in jobs:
        await harness.client.request(job, timeout=30)
    async with aiohttp.ClientSession() as http:
        reply = await http.get(f"{base}/api/audit?tenant=gent&format=xlsx",
                               headers={"Authorization": f"Bearer {TOKEN}"})
        content = await reply.read()
        csv_text = await (await http.get(f"{base}/api/audit?format=csv",
                                         headers={"Authorization": f"Bearer {TOKEN}"})).text()
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    header, data = rows[0], rows[1:]
    assert header[0] == "reference" and "subject_identifier" in header
    assert sorted(r[header.index("job_id")] for r in data) == sorted(j["job_id"] for j in jobs)
    assert csv_text.count("\n") == 3
