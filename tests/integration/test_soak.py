"""Faults under load (issue 9): jobs keep flowing while the broker drops a worker's connection,
a worker is killed with SIGKILL and the back end fails a share of the calls.

The short variant runs in CI (``SOAK_JOBS`` jobs, default 150); the long one on demand:
``LOKET_SOAK_JOBS=10000 pytest -m soak tests/integration/test_soak.py``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import aio_pika
import pytest

from hub.contract import Outcome
from hub.devpki import KeyPair
from hub.testing import CAPABILITIES, make_job, reset_broker, running_test_hub
from loket_hub.client import LoketClient
from simulators.population_data import WELL_KNOWN
from tests.conftest import AMQP_URL
from tests.integration.test_end_to_end import RETRY_DELAYS, control, hub_settings
from tests.integration.test_resilience import _rabbitmqctl, _worker_env

pytestmark = [pytest.mark.broker, pytest.mark.soak]
SOAK_JOBS = int(os.environ.get("LOKET_SOAK_JOBS", "150"))


async def _consumers(queue: str) -> int:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.consumer_count


async def test_no_loss_no_duplicate_under_faults(
    simulator: Any, pki: dict[str, KeyPair], tmp_path: Path
) -> None:
    await reset_broker(AMQP_URL, CAPABILITIES, RETRY_DELAYS)
    # About a third of the calls fail: the first ones, then the breaker and retries recover.
    await control(simulator, "POST", "faults", {"service": "GeefGezinssamenstelling",
                                                "kind": "http-500", "times": SOAK_JOBS // 3})
    await control(simulator, "POST", "latency", {"latency_ms": 20})
    settings = hub_settings(simulator, pki, tmp_path, breaker_failure_threshold=1000)
    env = _worker_env(simulator, pki, tmp_path, grace_s=5.0)
    env["LOKET_BACKENDS__POPULATION__BREAKER_FAILURE_THRESHOLD"] = "1000"
    doomed = subprocess.Popen([sys.executable, "-m", "hub.cli", "run"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    people = [WELL_KNOWN[k] for k in ("household_head", "single", "extended_head", "partner")]
    jobs = [make_job(people[i % len(people)]) for i in range(SOAK_JOBS)]
    try:
        async with LoketClient.connect(AMQP_URL) as client, \
                running_test_hub(settings, reset=False) as survivor:
            for _ in range(200):
                if await _consumers("jobs.population") >= 2:
                    break
                await asyncio.sleep(0.05)
            futures = [await client.publish(job) for job in jobs]
            await asyncio.sleep(0.5)
            doomed.send_signal(signal.SIGKILL)  # no drain, no goodbye
            await asyncio.to_thread(doomed.wait, 30)
            if _rabbitmqctl("list_connections", "pid").returncode == 0:
                name = f"loket-hub {survivor.hub.worker.worker_id}"
                listing = _rabbitmqctl("list_connections", "pid", "client_properties").stdout
                for line in listing.splitlines():
                    if name in line:
                        _rabbitmqctl("close_connection", line.split("\t")[0], "soak: drop")
            results = await asyncio.wait_for(asyncio.gather(*futures), timeout=300)
            await asyncio.sleep(1.0)  # a duplicate, if any, would arrive now
            finals = Counter(r.job_id for r in client.received if r.outcome.final)
            calls = await control(simulator, "GET", "calls")
            dead = await survivor.hub.store.dead_letters()
            # The survivor reconnected after the broker dropped it, and nothing is left over.
            consumers = await _consumers("jobs.population")
            connection = await aio_pika.connect(AMQP_URL)
            async with connection:
                channel = await connection.channel()
                queue = await channel.declare_queue("jobs.population", passive=True)
                left = queue.declaration_result.message_count
    finally:
        if doomed.poll() is None:
            doomed.kill()
    outcomes = Counter(r.outcome for r in results)
    print(f"soak: {SOAK_JOBS} jobs, outcomes {dict(outcomes)}, back-end calls {len(calls)}, "
          f"dead letters {len(dead)}")
    assert set(finals.values()) == {1}, "every job exactly one final result"
    assert set(finals) == {j["job_id"] for j in jobs}
    assert outcomes[Outcome.DELIVERED] + outcomes[Outcome.FAILED] == SOAK_JOBS
    per_job = Counter(c["referte"] for c in calls)
    # At most one call per job attempt (derived references), beyond what the faults justify.
    assert len(calls) <= SOAK_JOBS * (len(RETRY_DELAYS) + 1)
    assert max(per_job.values()) <= 2  # a killed worker's attempt may be repeated once
    assert dead == []
    assert consumers >= 1
    assert left == 0
