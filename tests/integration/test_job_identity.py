"""A job id is no key to someone else's documents; documents expire; every job is answered.

Through a real RabbitMQ, a real worker, the MAGDA simulator over SOAP and a real SQLite store.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import aio_pika
import pytest

from hub.contract import Outcome, Result
from hub.devpki import KeyPair
from hub.maintenance import Maintenance
from hub.testing import HubHarness, make_job, running_test_hub
from simulators.population_data import WELL_KNOWN
from tests.conftest import AMQP_URL
from tests.integration.test_end_to_end import control, hub_settings

pytestmark = pytest.mark.broker


@pytest.fixture
async def harness(simulator: Any, pki: dict[str, KeyPair], tmp_path: Path) -> Any:
    async with running_test_hub(hub_settings(simulator, pki, tmp_path)) as harness:
        yield harness


async def _calls(simulator: Any) -> int:
    return len(await control(simulator, "GET", "calls"))


async def _records(harness: HubHarness, job_id: str) -> list[Any]:
    for _ in range(50):
        records = await harness.hub.store.audit_records(job_id=job_id)
        if records:
            return records
        await asyncio.sleep(0.05)
    return []


def _variant(job: dict[str, Any], change: str) -> dict[str, Any]:
    """The same job id asked by someone else, about someone else, or for something else."""
    other = json.loads(json.dumps(job))
    if change == "requester":
        other["requester"]["identifier"] = WELL_KNOWN["single"]
    elif change == "tenant":
        other["tenant"] = "antwerpen"
    elif change == "subject":
        other["subject"]["identifier"] = WELL_KNOWN["partner"]
    elif change == "parameters":
        other["parameters"] = {"attest": "main-residence"}
    elif change == "unauthenticated":
        other["requester"]["authenticated"] = False
    other["dossier_id"] = "DOS-someone-else"
    return other


@pytest.mark.parametrize("change", ["requester", "tenant", "subject", "parameters",
                                    "unauthenticated"])
async def test_a_job_id_reused_by_another_request_gets_nothing_of_the_first(
    harness: HubHarness, simulator: Any, change: str
) -> None:
    job = make_job(WELL_KNOWN["household_head"])
    first = await harness.client.request(job, timeout=30)
    assert first.outcome is Outcome.DELIVERED
    calls = await _calls(simulator)
    second = await harness.client.request(_variant(job, change), timeout=30)
    assert second.outcome is Outcome.REJECTED
    assert second.error is not None and second.error.code == "JOB_ID_CONFLICT"
    assert second.documents == ()
    assert second.dossier_id == "DOS-someone-else"  # its own request's, never the first's
    assert await _calls(simulator) == calls  # no back end consulted for it
    # The stored result is untouched and still the first request's.
    stored = await harness.hub.store.result(job["job_id"])
    assert stored is not None and Result.from_json(stored).documents == first.documents
    records = await _records(harness, job["job_id"])
    conflicts = [r for r in records if r.service == "loket-hub:job-id-conflict"]
    assert [r.outcome for r in conflicts] == ["refused:JOB_ID_CONFLICT"]
    assert harness.hub.metrics.job_id_conflicts.labels(
        tenant=_variant(job, change)["tenant"])._value.get() == 1


async def test_the_same_request_again_gets_the_same_bytes_and_is_audited(
    harness: HubHarness, simulator: Any
) -> None:
    job = make_job(WELL_KNOWN["household_head"])
    first = await harness.client.request(job, timeout=30)
    assert first.outcome is Outcome.DELIVERED
    calls = await _calls(simulator)
    again = await harness.client.request({**job, "purpose": "asked again"}, timeout=30)
    assert again.documents == first.documents
    finals = [b for b in harness.client.received_bodies if b"delivered" in b]
    assert len(finals) == 2 and finals[0] == finals[1]  # byte-identical
    assert await _calls(simulator) == calls
    records = await _records(harness, job["job_id"])
    replays = [r for r in records if r.service == "loket-hub:replay"]
    assert [r.outcome for r in replays] == ["replayed"]
    assert replays[0].requester_identifier == WELL_KNOWN["household_head"]
    assert replays[0].reply_reference  # which documents went out (their sha256 prefixes)


async def test_two_duplicates_of_a_refused_body_get_identical_bytes(
    harness: HubHarness,
) -> None:
    body = json.dumps({**make_job(WELL_KNOWN["single"]), "tenant": 7}).encode()
    for _ in range(2):
        result = await asyncio.wait_for(await harness.client.publish(body), 30)
        assert result.outcome is Outcome.REJECTED
    refusals = [b for b in harness.client.received_bodies if b"SCHEMA_VIOLATION" in b]
    assert len(refusals) == 2 and refusals[0] == refusals[1]


def _age(db: Path, job_id: str, days: float) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE job_outcomes SET created_at = created_at - ? WHERE job_id = ?",
                     (days * 86400, job_id))


async def test_documents_expire_and_a_late_replay_is_refused_without_a_back_end_call(
    harness: HubHarness, simulator: Any, tmp_path: Path
) -> None:
    job = make_job(WELL_KNOWN["household_head"])
    assert (await harness.client.request(job, timeout=30)).outcome is Outcome.DELIVERED
    calls = await _calls(simulator)
    _age(tmp_path / "hub.db", job["job_id"], 93)  # past the 92 days
    late = await harness.client.request(job, timeout=30)
    assert late.outcome is Outcome.REJECTED
    assert late.error is not None and late.error.code == "DOCUMENT_EXPIRED"
    assert late.documents == ()
    assert await _calls(simulator) == calls
    # Purged on the spot: nothing of the person is left in the row.
    with sqlite3.connect(tmp_path / "hub.db") as conn:
        row = conn.execute("SELECT result, message, journal, purged_at FROM job_outcomes"
                           " WHERE job_id = ?", (job["job_id"],)).fetchone()
    assert row[:3] == (None, None, None) and row[3] is not None


async def test_the_scheduled_round_purges_old_results_one_worker_at_a_time(
    harness: HubHarness, tmp_path: Path
) -> None:
    old, recent = make_job(WELL_KNOWN["household_head"]), make_job(WELL_KNOWN["single"])
    for job in (old, recent):
        assert (await harness.client.request(job, timeout=30)).outcome is Outcome.DELIVERED
    store = harness.hub.store
    # The worker ran a round when it started and holds the lease; while it does, nobody else
    # runs one. Once it is over, another worker takes it, and this one skips the round.
    assert not await store.take_lease("retention", "another-worker", 60)
    with sqlite3.connect(tmp_path / "hub.db") as conn:
        conn.execute("UPDATE task_leases SET until = 0")
    assert await store.take_lease("retention", "another-worker", 60)
    skipped = await Maintenance(harness.settings, store, "this-worker").run_once(
        now=time.time() + 100 * 86400)
    assert not skipped.ran
    with sqlite3.connect(tmp_path / "hub.db") as conn:
        conn.execute("UPDATE task_leases SET until = 0")
    _age(tmp_path / "hub.db", old["job_id"], 100)
    report = await Maintenance(harness.settings, store, "this-worker").run_once()
    assert report.ran and report.results == 1
    assert await store.result(old["job_id"]) is None
    assert await store.result(recent["job_id"]) is not None
    late = await harness.client.request(old, timeout=30)
    assert late.error is not None and late.error.code == "DOCUMENT_EXPIRED"


async def _publish_raw(harness: HubHarness, body: bytes, *, reply_to: str | None,
                       message_id: str | None = None) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange("loket.jobs")
        await exchange.publish(aio_pika.Message(body, message_id=message_id,
                                                reply_to=reply_to),
                               routing_key="population.attest")


async def test_a_job_without_reply_to_is_refused_before_any_back_end_and_dead_lettered(
    harness: HubHarness, simulator: Any
) -> None:
    job = make_job(WELL_KNOWN["household_head"])
    calls = await _calls(simulator)
    await _publish_raw(harness, json.dumps(job).encode(), reply_to=None,
                       message_id=job["job_id"])
    dead = await harness.dead_letters(expect=1)
    assert [d.reason for d in dead] == ["no-reply-to"]
    headers = json.loads(dead[0].headers)
    assert json.loads(headers["x-loket-error"])["code"] == "REPLY_TO_MISSING"
    assert await _calls(simulator) == calls
    assert await harness.hub.store.result(job["job_id"]) is None


async def test_a_reply_to_without_a_queue_dead_letters_the_result_with_its_error(
    harness: HubHarness,
) -> None:
    job = make_job(WELL_KNOWN["single"])
    await _publish_raw(harness, json.dumps(job).encode(), reply_to="no-such-queue-here",
                       message_id=job["job_id"])
    dead = await harness.dead_letters(expect=1, timeout_s=30)
    assert [d.reason for d in dead] == ["unroutable-result"]
    headers = json.loads(dead[0].headers)
    assert headers["x-loket-dead-reason"] == "unroutable-result"
    assert json.loads(headers["x-loket-error"])["code"] == "REPLY_QUEUE_MISSING"


@pytest.mark.parametrize(("body", "code"), [
    (None, "INVALID_CHARACTERS"),
    (b"[" * 10_000 + b"]" * 10_000, "NESTING_TOO_DEEP"),
    (b'{"job_id": ' + b"1" * 5000 + b"}", "MALFORMED_JSON"),
    (b"\xff\xfe{}", "MALFORMED_JSON"),
    (b"{" * 3 + b"x" * 300_000, "BODY_TOO_LARGE"),
])
async def test_bodies_that_crashed_or_looped_a_worker_are_answered(
    harness: HubHarness, simulator: Any, body: bytes | None, code: str
) -> None:
    if body is None:  # a valid job with a lone surrogate in its purpose
        body = json.dumps(make_job(WELL_KNOWN["single"], purpose="\ud800 x")).encode()
    calls = await _calls(simulator)
    result = await asyncio.wait_for(await harness.client.publish(body), 30)
    assert result.outcome is Outcome.REJECTED
    assert result.error is not None and result.error.code == code
    assert await _calls(simulator) == calls
    # The worker goes on.
    assert (await harness.client.request(make_job(WELL_KNOWN["single"]), timeout=30)
            ).outcome is Outcome.DELIVERED
