"""The outcome store, against SQLite (a file) and PostgreSQL (a real server)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.ports import Consultation
from hub.store import ClaimState, OutcomeStore, open_store
from tests.conftest import POSTGRES_DSN


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[OutcomeStore]:
    url = f"sqlite:///{tmp_path}/outcomes.db" if request.param == "sqlite" else POSTGRES_DSN
    opened = await open_store(url)
    try:
        yield opened
    finally:
        await opened.close()


def _job_id() -> str:
    return f"test-{uuid.uuid4()}"


async def test_first_claim_acquires_then_others_are_busy(store: OutcomeStore) -> None:
    job = _job_id()
    assert (await store.claim(job, "w1", 60)).state is ClaimState.ACQUIRED
    assert (await store.claim(job, "w2", 60)).state is ClaimState.BUSY
    assert (await store.claim(job, "w1", 60)).state is ClaimState.BUSY


async def test_done_job_replays_its_result(store: OutcomeStore) -> None:
    job = _job_id()
    await store.claim(job, "w1", 60)
    await store.complete(job, "w1", b'{"outcome": "delivered"}')
    claim = await store.claim(job, "w2", 60)
    assert claim.state is ClaimState.DONE
    assert claim.result == b'{"outcome": "delivered"}'
    assert not claim.published
    await store.mark_published(job)
    assert (await store.claim(job, "w2", 60)).published
    assert await store.result(job) == b'{"outcome": "delivered"}'


async def test_a_result_is_never_overwritten(store: OutcomeStore) -> None:
    job = _job_id()
    await store.complete(job, "w1", b"first")
    await store.complete(job, "w2", b"second")
    assert await store.result(job) == b"first"


async def test_released_job_can_be_claimed_again(store: OutcomeStore) -> None:
    job = _job_id()
    await store.claim(job, "w1", 60)
    await store.release(job, "w1")
    assert (await store.claim(job, "w2", 60)).state is ClaimState.ACQUIRED


async def test_expired_lease_lets_another_worker_take_over(store: OutcomeStore) -> None:
    job = _job_id()
    await store.claim(job, "crashed-worker", 0.05)
    await asyncio.sleep(0.1)  # the lease length is the behaviour under test
    assert (await store.claim(job, "w2", 60)).state is ClaimState.ACQUIRED


async def test_concurrent_claims_give_exactly_one_owner(store: OutcomeStore) -> None:
    job = _job_id()
    claims = await asyncio.gather(*(store.claim(job, f"w{i}", 60) for i in range(8)))
    assert sum(c.state is ClaimState.ACQUIRED for c in claims) == 1


async def test_ping(store: OutcomeStore) -> None:
    await store.ping()


def _consultation(
    reference: str, *, job_id: str, started_at: dt.datetime | None = None
) -> Consultation:
    return Consultation(
        reference=reference,
        job_id=job_id,
        attempt=1,
        tenant="gent",
        service="GeefPersoon",
        service_version="02.02.0000",
        client_identification="kb.vlaanderen.be/aiv/loket-hub-dev",
        requester_capacity="person",
        requester_identifier="85073003328",
        acting_person=None,
        subject_identifier="85073003328",
        purpose="proof-of-life (product 1473)",
        started_at=started_at or dt.datetime.now(dt.UTC),
    )


async def test_audit_record_is_written_before_and_completed_once(store: OutcomeStore) -> None:
    job = _job_id()
    reference = str(uuid.uuid4())
    await store.consultation_started(_consultation(reference, job_id=job))
    (pending,) = await store.audit_records(job_id=job)
    assert pending.outcome is None and pending.finished_at is None
    await store.consultation_finished(reference, outcome="ok", reply_reference="r-1",
                                      duration_ms=12.5)
    await store.consultation_finished(reference, outcome="error:90000", reply_reference="r-2",
                                      duration_ms=99.0)
    (record,) = await store.audit_records(job_id=job)
    assert (record.outcome, record.reply_reference, record.duration_ms) == ("ok", "r-1", 12.5)
    assert record.subject_identifier == "85073003328"
    assert record.purpose == "proof-of-life (product 1473)"
    assert record.finished_at is not None


async def test_the_same_reference_is_recorded_once(store: OutcomeStore) -> None:
    job = _job_id()
    reference = str(uuid.uuid4())
    for _ in range(3):
        await store.consultation_started(_consultation(reference, job_id=job))
    assert len(await store.audit_records(job_id=job)) == 1


async def test_retention_purges_only_old_records(store: OutcomeStore) -> None:
    job = _job_id()
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=365 * 11)
    await store.consultation_started(
        _consultation(str(uuid.uuid4()), job_id=job, started_at=old)
    )
    await store.consultation_started(_consultation(str(uuid.uuid4()), job_id=job))
    purged = await store.purge_audit(dt.datetime.now(dt.UTC) - dt.timedelta(days=3653))
    assert purged >= 1
    assert len(await store.audit_records(job_id=job)) == 1


async def test_a_suspended_job_waits_for_its_own_poll(store: OutcomeStore) -> None:
    job = _job_id()
    assert (await store.claim(job, "w1", 60)).journal == {}
    await store.suspend(job, "w1", journal={"number": "12345678-9"}, interim=b'{"i": 1}')
    # A duplicate of the original job is told where it stands, and does not take it.
    waiting = await store.claim(job, "w2", 60)
    assert (waiting.state, waiting.result) == (ClaimState.WAITING, b'{"i": 1}')
    # The scheduled poll takes it, with the journal.
    poll = await store.claim(job, "w2", 60, continuation=True)
    assert (poll.state, poll.journal) == (ClaimState.ACQUIRED, {"number": "12345678-9"})
    # A transient failure during the poll puts it back to waiting, not to the start.
    await store.release(job, "w2")
    assert (await store.claim(job, "w3", 60)).state is ClaimState.WAITING
    again = await store.claim(job, "w3", 60, continuation=True)
    assert again.journal == {"number": "12345678-9"}
    await store.complete(job, "w3", b"final")
    assert (await store.claim(job, "w4", 60, continuation=True)).state is ClaimState.DONE


async def test_sqlite_migrates_a_version_one_table(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE job_outcomes (job_id TEXT PRIMARY KEY, state TEXT NOT NULL CHECK (state IN"
        " ('in-progress', 'released', 'done')), owner TEXT, lease_until REAL, result BLOB,"
        " published INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, completed_at REAL);"
        " INSERT INTO job_outcomes VALUES ('old-job', 'done', 'w', NULL, x'7b7d', 1, 0, 0);"
    )
    conn.commit()
    conn.close()
    store = await open_store(f"sqlite:///{path}")
    try:
        assert await store.result("old-job") == b"{}"
        job = _job_id()
        await store.claim(job, "w1", 60)
        await store.suspend(job, "w1", journal={"a": 1}, interim=b"x")
        assert (await store.claim(job, "w2", 60)).state is ClaimState.WAITING
    finally:
        await store.close()


async def test_sqlite_checkpoints_beside_the_writer_keep_the_log_bounded(tmp_path: Path) -> None:
    # Steady writes of results the size of a signed PDF: the write-ahead log is copied into
    # the database by the checkpoint thread and restarted, so it stays near its threshold
    # instead of growing with every result; closing leaves no log behind.
    from hub.store.sqlite import SqliteStore
    from hub.store.sqlite.connection import _WAL_RESTART_PAGES

    path = tmp_path / "steady.db"
    store = SqliteStore(path, checkpoint_interval_s=0.02)
    await store.open()
    result = bytes(range(256)) * 360  # ~90 KB
    largest = 0
    try:
        for _ in range(400):  # ~36 MB written
            job = _job_id()
            await store.claim(job, "w1", 60)
            await store.complete(job, "w1", result)
            await asyncio.sleep(0.002)
            largest = max(largest, (tmp_path / "steady.db-wal").stat().st_size)
        busy, _, _ = await store.checkpoint()
        assert busy == 0
    finally:
        await store.close()
    assert largest < 2 * _WAL_RESTART_PAGES * 4096
    assert not (tmp_path / "steady.db-wal").exists() or \
        (tmp_path / "steady.db-wal").stat().st_size == 0
    reopened = await open_store(f"sqlite:///{path}")
    try:
        assert (await reopened.claim(_job_id(), "w1", 60)).state is ClaimState.ACQUIRED
    finally:
        await reopened.close()


async def _overdue(store: OutcomeStore, mine: list[str]) -> list[tuple[str, str, bytes]]:
    # The PostgreSQL database is shared with other tests: look at this test's jobs only.
    taken = await store.take_overdue(grace_s=0, hold_s=60, limit=1_000_000)
    return [row for row in taken if row[0] in mine]


async def test_overdue_jobs_come_back_once_with_their_message(store: OutcomeStore) -> None:
    # A job whose lease ran out with nobody taking it over, and one whose retry never came
    # back, are handed out with their message, once per hold; live and finished ones are not.
    lapsed, retried, live, finished, unknown = mine = [_job_id() for _ in range(5)]
    await store.claim(lapsed, "w-dead", -1, message=b"lapsed-message")
    await store.claim(retried, "w1", 60, message=b"retried-message")
    await store.release(retried, "w1", due_in_s=-1)
    await store.claim(live, "w1", 60, message=b"live-message")
    await store.claim(finished, "w1", 60, message=b"finished-message")
    await store.complete(finished, "w1", b"{}")
    await store.claim(unknown, "w-dead", -1)  # claimed without a message: nothing to publish
    taken = await _overdue(store, mine)
    assert sorted(taken) == sorted([(lapsed, "in-progress", b"lapsed-message"),
                                    (retried, "released", b"retried-message")])
    assert await _overdue(store, mine) == []  # held now
    # Taken over by a worker (a claim without a message keeps the stored one), then its
    # retry is lost again: it comes back with the original message.
    assert (await store.claim(retried, "w2", 60)).state is ClaimState.ACQUIRED
    assert await _overdue(store, mine) == []
    await store.release(retried, "w2", due_in_s=-1)
    assert await _overdue(store, mine) == [
        (retried, "released", b"retried-message")]


async def test_a_waiting_job_whose_poll_is_overdue_comes_back(store: OutcomeStore) -> None:
    polled, approval = mine = [_job_id(), _job_id()]
    for job in (polled, approval):
        await store.claim(job, "w1", 60, message=b"m-" + job.encode())
    await store.suspend(polled, "w1", journal={"step": 1}, interim=b"{}", due_in_s=-1)
    # Waiting for an employee has no due time: never overdue.
    await store.suspend(approval, "w1", journal={"awaiting": "approval"}, interim=b"{}")
    assert await _overdue(store, mine) == [
        (polled, "waiting", b"m-" + polled.encode())]
    # Its (recovered) poll takes it as a continuation.
    assert (await store.claim(polled, "w2", 60, continuation=True)).state is ClaimState.ACQUIRED


async def test_a_released_job_without_a_due_time_is_not_overdue(store: OutcomeStore) -> None:
    job = _job_id()
    mine = [job]
    await store.claim(job, "w1", 60, message=b"m")
    await store.release(job, "w1")
    assert await _overdue(store, mine) == []
