"""The client against a real broker and hub: a connection killed mid-flight, corrupt results,
unroutable jobs, bounded memory."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from collections import defaultdict
from typing import Any

import aio_pika
import pytest

from hub.testing import HubHarness, make_job
from loket_hub.client import ClientClosed, CorruptResult, LoketClient, UnroutableJob
from loket_hub.contract import Outcome
from loket_hub.jobs import Person, PopulationAttest
from simulators.population_data import WELL_KNOWN
from tests.conftest import AMQP_URL
from tests.integration.test_end_to_end import control, harness
from tests.integration.test_resilience import (
    RABBITMQCTL,
    _rabbitmqctl,
    _rabbitmqctl_async,
    _wait_until_all_taken,
)

pytestmark = pytest.mark.broker
__all__ = ["harness"]  # the fixture, imported for these tests


async def _connection_pid(name: str) -> str:
    listing = (await _rabbitmqctl_async("list_connections", "pid", "client_properties")).stdout
    pids = [line.split("\t")[0] for line in listing.splitlines() if name in line]
    assert len(pids) == 1, listing
    return pids[0]


async def _publish_raw(routing_key: str, body: bytes, correlation_id: str) -> None:
    """A message on the default exchange to ``routing_key`` (a queue), as the hub replies."""
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        await channel.default_exchange.publish(
            aio_pika.Message(body, correlation_id=correlation_id), routing_key=routing_key)


@pytest.mark.skipif(shutil.which(RABBITMQCTL) is None, reason="rabbitmqctl not available")
async def test_a_connection_killed_mid_flight_still_gets_every_job_its_result(
    harness: HubHarness, simulator: Any
) -> None:
    if _rabbitmqctl("list_connections", "pid").returncode != 0:
        pytest.skip("rabbitmqctl cannot reach the broker node")
    await control(simulator, "POST", "latency", {"latency_ms": 700})
    name = f"front-office-test {uuid.uuid4()}"
    async with LoketClient.connect(AMQP_URL, connection_name=name,
                                   reconnect_interval_s=0.2) as client:
        queue_before = client.reply_queue_name
        jobs = [make_job(WELL_KNOWN[k]) for k in ("household_head", "single", "partner") * 2]
        futures = [await client.publish(job) for job in jobs]
        await _wait_until_all_taken(len(jobs))
        closed = await _rabbitmqctl_async("close_connection", await _connection_pid(name),
                                          "test: kill the client")
        assert closed.returncode == 0, closed.stderr
        # Published while the connection is going or gone: sent once it is back.
        late = [make_job(WELL_KNOWN["single"]) for _ in range(2)]
        futures += [await client.publish(job) for job in late]
        results = await asyncio.wait_for(asyncio.gather(*futures), timeout=60)
        await asyncio.sleep(0.5)  # a replayed duplicate, if any, would arrive now
        bodies = list(client.received_bodies)
        reconnections, queue_after, pending = (
            client.reconnections, client.reply_queue_name, client.pending)
    assert reconnections >= 1
    assert queue_after == queue_before  # jobs still queued keep a reply_to that exists
    assert pending == 0
    asked = [j["job_id"] for j in jobs + late]
    assert [r.job_id for r in results] == asked
    assert {r.outcome for r in results} == {Outcome.DELIVERED}
    # One final result per job: a job sent again is replayed byte for byte, never done twice.
    finals: dict[str, set[bytes]] = defaultdict(set)
    for body in bodies:
        data = json.loads(body)
        if data["outcome"] != "in-treatment":
            finals[data["job_id"]].add(body)
    assert set(finals) == set(asked)
    assert all(len(versions) == 1 for versions in finals.values()), finals.keys()
    calls = await control(simulator, "GET", "calls")
    assert len(calls) == len(asked), "every job consulted the back end once"
    await control(simulator, "POST", "latency", {"latency_ms": 0})


async def test_a_corrupt_result_fails_its_own_request_only(
    harness: HubHarness, simulator: Any
) -> None:
    await control(simulator, "POST", "latency", {"latency_ms": 1500})
    client = harness.client
    jobs = [make_job(WELL_KNOWN["single"]) for _ in range(3)]
    futures = [await client.publish(job, correlation_id=f"corr-{i}")
               for i, job in enumerate(jobs)]
    good = json.loads(json.dumps({
        "contract_version": 1, "job_id": jobs[0]["job_id"], "outcome": "delivered",
        "error": None, "attempts": 1, "completed_at": "2026-01-01T00:00:00+00:00",
        "documents": [{"kind": "x", "media_type": "application/xml", "file_name": "x.xml",
                       "sha256": "0" * 64, "content_base64": "PGEvPg=="}],
    }))
    await _publish_raw(client.reply_queue_name, json.dumps(good).encode(), "corr-0")
    await _publish_raw(client.reply_queue_name, b'{"outcome": "deliv', "corr-1")
    with pytest.raises(CorruptResult, match="sha256") as mismatch:
        await asyncio.wait_for(futures[0], timeout=10)
    with pytest.raises(CorruptResult, match="JSONDecodeError"):
        await asyncio.wait_for(futures[1], timeout=10)
    assert mismatch.value.retryable and mismatch.value.correlation_id == "corr-0"
    # The third request, and the consumer, carry on.
    assert (await asyncio.wait_for(futures[2], timeout=30)).outcome is Outcome.DELIVERED
    assert client.corrupt_results == 2
    await control(simulator, "POST", "latency", {"latency_ms": 0})
    again = await client.request(jobs[0], timeout=30)  # the stored result, readable
    assert again.outcome is Outcome.DELIVERED and again.job_id == jobs[0]["job_id"]


async def test_an_unroutable_job_raises_the_clients_own_error(harness: HubHarness) -> None:
    job = make_job(WELL_KNOWN["single"])
    with pytest.raises(UnroutableJob, match=r"nowhere\.at-all") as error:
        await harness.client.publish(job, routing_key="nowhere.at-all")
    assert error.value.job_id == job["job_id"] and not error.value.retryable
    assert harness.client.pending == 0
    # The channel is still good.
    result = await harness.client.request(job, timeout=30)
    assert result.outcome is Outcome.DELIVERED


async def test_results_kept_are_bounded_and_typed_jobs_are_answered(harness: HubHarness) -> None:
    async with LoketClient.connect(AMQP_URL, keep_results=2) as client:
        jobs = [PopulationAttest(tenant="gent", requester=Person(WELL_KNOWN["single"]),
                                 product_id=1473, dossier_id=f"DOS-{i}", attest="proof-of-life")
                for i in range(3)]
        results = [await client.request(job, timeout=30) for job in jobs]
        kept = list(client.received)
    assert {r.outcome for r in results} == {Outcome.DELIVERED}, [r.error for r in results]
    assert [r.job_id for r in kept] == [j.job_id for j in jobs[1:]]


async def test_a_request_open_when_the_client_closes_fails_instead_of_waiting(
    harness: HubHarness, simulator: Any
) -> None:
    await control(simulator, "POST", "latency", {"latency_ms": 1500})
    async with LoketClient.connect(AMQP_URL) as client:
        future = await client.publish(make_job(WELL_KNOWN["single"]))
    with pytest.raises(ClientClosed, match="closed before job"):
        await future
    await control(simulator, "POST", "latency", {"latency_ms": 0})
