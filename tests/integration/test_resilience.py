"""SIGTERM during in-flight jobs and a broker-side connection loss: no loss, no duplicate."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aio_pika
import pytest

from hub.app import pki_directory
from hub.config import REPO_ROOT, load_tenants
from hub.contract import Outcome
from hub.devpki import KeyPair
from hub.testing import CAPABILITIES, make_job, reset_broker, running_test_hub
from loket_hub.client import LoketClient
from simulators.pki import PkiSimulatorSettings, start_pki_simulator
from simulators.population_data import WELL_KNOWN
from tests.conftest import AMQP_URL
from tests.integration.test_end_to_end import RETRY_DELAYS, control, hub_settings

pytestmark = pytest.mark.broker
# Where the shipped tenant files expect the PKI simulator (`loket-hub simulators`).
DEFAULT_PKI = "http://127.0.0.1:8703"


@pytest.fixture
async def pki_url() -> AsyncIterator[str]:
    """A PKI simulator (TSA, OCSP, CRL) for the development CA, for worker processes."""
    tenants = load_tenants(REPO_ROOT / "mappings/tenants")
    ca_dir = pki_directory(tenants)
    assert ca_dir is not None, "the tenants sign with the development CA (make setup)"
    authority = await start_pki_simulator(PkiSimulatorSettings(ca_dir=ca_dir, port=0))
    try:
        yield authority.base_url
    finally:
        await authority.close()


def _tenants_served_by(pki_url: str, tmp_path: Path) -> Path:
    """A copy of the shipped tenant files whose TSA, OCSP and CRL are at ``pki_url``."""
    folder = tmp_path / "tenants"
    shutil.copytree(REPO_ROOT / "mappings/tenants", folder, dirs_exist_ok=True)
    for path in folder.glob("*.toml"):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace(DEFAULT_PKI, pki_url.rstrip("/")), encoding="utf-8")
    return folder


def _worker_env(
    sim: Any, pki: dict[str, KeyPair], tmp_path: Path, grace_s: float, *, pki_url: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOKET_")}
    env.update(
        LOKET_TENANTS_DIR=str(_tenants_served_by(pki_url, tmp_path)),
        LOKET_BROKER__URL=AMQP_URL,
        LOKET_BROKER__RETRY_DELAYS_S=",".join(str(d) for d in RETRY_DELAYS),
        LOKET_BROKER__SHUTDOWN_GRACE_S=str(grace_s),
        LOKET_STORE__URL=f"sqlite:///{tmp_path}/hub.db",
        LOKET_STORE__CLAIM_LEASE_S="5",
        LOKET_MAGDA__BASE_URL=sim.base_url,
        LOKET_MAGDA__SIGNING_KEY=str(pki["magda-client"].key),
        LOKET_MAGDA__SIGNING_CERT=str(pki["magda-client"].cert),
        LOKET_DOCUMENTS__SIGNING__KEY=str(pki["document-signing"].key),
        LOKET_DOCUMENTS__SIGNING__CERT=str(pki["document-signing"].cert),
        LOKET_LOG_FORMAT="json",
        LOKET_ADMIN__PORT="0",
    )
    return env


async def _wait_until_all_taken(count: int) -> None:
    """Until the worker holds every job (none ready in the queue, all unacked)."""
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        for _ in range(400):
            queue = await channel.declare_queue("jobs.population", passive=True)
            result = queue.declaration_result
            if result.consumer_count >= 1 and result.message_count == 0 and count > 0:
                return
            await asyncio.sleep(0.025)
    raise AssertionError("the worker never took the jobs")


async def _start_worker_process(env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "run"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        for _ in range(400):
            try:
                queue = await channel.declare_queue("jobs.population", passive=True)
                if queue.declaration_result.consumer_count >= 1:
                    return process
            except aio_pika.exceptions.ChannelClosed:
                channel = await connection.channel()
            await asyncio.sleep(0.05)
    process.kill()
    raise AssertionError("worker process did not start consuming")


@pytest.mark.parametrize("grace_s", [10.0, 0.2], ids=["drains-in-time", "requeues-the-rest"])
async def test_sigterm_during_in_flight_jobs_loses_nothing(
    simulator: Any, pki: dict[str, KeyPair], tmp_path: Path, grace_s: float, pki_url: str
) -> None:
    await reset_broker(AMQP_URL, CAPABILITIES, RETRY_DELAYS)
    await control(simulator, "POST", "latency", {"latency_ms": 1000})
    jobs = [make_job(WELL_KNOWN[k]) for k in ("household_head", "single", "partner") * 3]
    process = await _start_worker_process(_worker_env(simulator, pki, tmp_path, grace_s,
                                                          pki_url=pki_url))
    async with LoketClient.connect(AMQP_URL) as client:
        futures = [await client.publish(job) for job in jobs]
        await _wait_until_all_taken(len(jobs))
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.to_thread(process.communicate, None, 30)
        stderr = err.decode()
        assert process.returncode == 0, stderr[-2000:]
        if grace_s < 1:
            # What the first worker could not finish is taken over by a second one.
            settings = hub_settings(simulator, pki, tmp_path)
            async with running_test_hub(settings, reset=False):
                results = await asyncio.wait_for(asyncio.gather(*futures), timeout=60)
        else:
            assert all(f.done() for f in futures), "drained jobs must be answered before exit"
            results = [f.result() for f in futures]
        await asyncio.sleep(0.3)  # a duplicate, if any, would arrive now
        received = Counter(r.job_id for r in client.received)
    assert {r.outcome for r in results} == {Outcome.DELIVERED}
    assert received == Counter(j["job_id"] for j in jobs), "each job exactly one result"
    # The worker process logged as JSON, with every national number masked.
    for insz in WELL_KNOWN.values():
        assert insz not in stderr


# Where scripts/ensure-services.sh started its own broker node, plain `rabbitmqctl` would reach
# the package's node instead; test.sh then names the wrapper that reaches ours.
RABBITMQCTL = os.environ.get("LOKET_TEST_RABBITMQCTL", "rabbitmqctl")


def _rabbitmqctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [RABBITMQCTL, "-q", *args], capture_output=True, text=True, check=False, timeout=30
    )


async def _rabbitmqctl_async(*args: str) -> subprocess.CompletedProcess[str]:
    """rabbitmqctl in a thread: it takes a second or more (an Erlang VM starts), and the hub
    and the simulator share a test's event loop (blocked, their calls would time out)."""
    return await asyncio.to_thread(_rabbitmqctl, *args)


@pytest.mark.skipif(shutil.which(RABBITMQCTL) is None, reason="rabbitmqctl not available")
async def test_connection_closed_by_the_broker_reconnects_without_loss_or_duplicates(
    simulator: Any, pki: dict[str, KeyPair], tmp_path: Path
) -> None:
    if (await _rabbitmqctl_async("list_connections", "pid")).returncode != 0:
        pytest.skip("rabbitmqctl cannot reach the broker node")
    await control(simulator, "POST", "latency", {"latency_ms": 500})
    async with running_test_hub(hub_settings(simulator, pki, tmp_path)) as harness:
        jobs = [make_job(WELL_KNOWN[k]) for k in ("household_head", "single") * 4]
        futures = [await harness.client.publish(job) for job in jobs]
        await _wait_until_all_taken(len(jobs))
        worker_name = f"loket-hub {harness.hub.worker.worker_id}"
        listing = (await _rabbitmqctl_async("list_connections", "pid", "client_properties")).stdout
        pids = [line.split("\t")[0] for line in listing.splitlines() if worker_name in line]
        assert len(pids) == 1, listing
        closed = await _rabbitmqctl_async("close_connection", pids[0], "test: broker-side close")
        assert closed.returncode == 0
        results = await asyncio.wait_for(asyncio.gather(*futures), timeout=60)
        after = await harness.client.request(make_job(WELL_KNOWN["single"]), timeout=30)
        await asyncio.sleep(0.3)  # a duplicate, if any, would arrive now
        received = Counter(r.job_id for r in harness.client.received)
    assert {r.outcome for r in results} == {Outcome.DELIVERED}
    assert after.outcome is Outcome.DELIVERED
    assert received == Counter([j["job_id"] for j in jobs] + [after.job_id])
    calls = await control(simulator, "GET", "calls")
    assert len(calls) <= len(jobs) + 1 + len(jobs)  # at most one justified repeat per job


@pytest.mark.skipif(shutil.which(RABBITMQCTL) is None, reason="rabbitmqctl not available")
async def test_jobs_held_by_a_dead_worker_survive_a_broker_restart_while_they_go_round(
    simulator: Any, pki: dict[str, KeyPair], tmp_path: Path
) -> None:
    # A worker died holding these jobs: until its lease ends they go round the retry queues
    # (a copy each time). The broker restarts meanwhile; every job must still be done
    # once the lease has ended.
    if (await _rabbitmqctl_async("status")).returncode != 0:
        pytest.skip("rabbitmqctl cannot reach the broker node")
    jobs = [make_job(WELL_KNOWN["single"]) for _ in range(30)]
    async with running_test_hub(hub_settings(simulator, pki, tmp_path)) as harness:
        for job in jobs:
            await harness.hub.store.claim(job["job_id"], "worker-that-died", 4)
        for job in jobs:
            await harness.client.publish(job)
        await asyncio.sleep(1.0)  # a few rounds
        for step in ("stop_app", "start_app", "await_startup"):
            assert (await _rabbitmqctl_async(step)).returncode == 0
        done: list[bytes | None] = []
        for _ in range(150):
            done = [await harness.hub.store.result(job["job_id"]) for job in jobs]
            if all(done):
                break
            await asyncio.sleep(0.2)
    assert sum(result is not None for result in done) == len(jobs)


async def test_a_worker_killed_with_sigkill_leaves_no_document_processes_behind(
    simulator: Any, pki: dict[str, KeyPair], tmp_path: Path, pki_url: str
) -> None:
    from benchmarks.procfs import descendants

    await reset_broker(AMQP_URL, CAPABILITIES, RETRY_DELAYS)
    env = _worker_env(simulator, pki, tmp_path, grace_s=1.0, pki_url=pki_url)
    process = await _start_worker_process(env)
    try:
        family = [pid for pid in descendants(process.pid) if pid != process.pid]
        assert len(family) >= 2  # the forkserver and the document pool
        process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(process.wait, 10)
        left = family
        for _ in range(50):
            left = [pid for pid in family if Path(f"/proc/{pid}").exists()
                    and "Z" not in Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1]]
            if not left:
                break
            await asyncio.sleep(0.2)
        assert left == [], "pool processes outlived their worker"
    finally:
        if process.poll() is None:
            process.kill()
        await asyncio.to_thread(process.communicate)  # reads and closes its pipes


async def test_a_job_the_broker_lost_is_published_again_from_the_store(
    simulator: Any, pki: dict[str, KeyPair], tmp_path: Path
) -> None:
    # A worker took the job and died, and the broker lost the message meanwhile (RabbitMQ
    # 3.10 left such copies stuck in a delay queue after a restart). Nothing of the job is in
    # the broker; only the store knows it. The recovery search publishes it again.
    import dataclasses
    import json

    from hub.runtime.inbound import StoredMessage, recovery_record

    settings = hub_settings(simulator, pki, tmp_path)
    settings = dataclasses.replace(settings, store=dataclasses.replace(
        settings.store, recovery_interval_s=0.2, recovery_grace_s=0.3))
    job = make_job(WELL_KNOWN["household_head"])
    # (Its front office's reply queue is gone by now: the result is stored and dead-lettered.)
    record = recovery_record(StoredMessage(json.dumps(job).encode(), {}, job["job_id"],
                                            "lost-1", "a-reply-queue-long-gone"), 1)
    async with running_test_hub(settings) as harness:
        await harness.hub.store.claim(job["job_id"], "worker-that-died", 0.2, message=record)
        result = None
        for _ in range(100):
            result = await harness.hub.store.result(job["job_id"])
            if result is not None:
                break
            await asyncio.sleep(0.1)
        metrics = harness.hub.metrics.registry.get_sample_value(
            "loket_jobs_recovered_total", {"type": "population.attest"})
    assert result is not None and json.loads(result)["outcome"] == "delivered"
    assert metrics == 1.0
    assert len(await control(simulator, "GET", "calls")) == 1
