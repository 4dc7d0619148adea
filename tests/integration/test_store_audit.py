"""The consultation audit in the store (SQLite and PostgreSQL): records of runs that died are
closed as ``abandoned``, any text is stored, and the SQLite files are the owner's only."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import sqlite3
import stat
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import structlog

from hub.ports import Consultation
from hub.store import OutcomeStore, open_store
from hub.store.base import ABANDONED
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


def _consultation(job_id: str, *, started_at: dt.datetime | None = None,
                  **fields: object) -> Consultation:
    consultation = Consultation(
        reference=str(uuid.uuid4()),
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
    return dataclasses.replace(consultation, **fields)  # type: ignore[arg-type]


async def test_a_jobs_open_records_are_abandoned_and_finished_ones_kept(
    store: OutcomeStore,
) -> None:
    job, other = _job_id(), _job_id()
    done, open_1, open_2 = (_consultation(job) for _ in range(3))
    elsewhere = _consultation(other)
    for consultation in (done, open_1, open_2, elsewhere):
        await store.consultation_started(consultation)
    await store.consultation_finished(done.reference, outcome="error:40003",
                                      reply_reference="reply-1", duration_ms=5.0)

    assert await store.abandon_open_consultations(job) == 2
    records = {r.reference: r for r in await store.audit_records(job_id=job)}
    assert records[done.reference].outcome == "error:40003"
    assert records[done.reference].reply_reference == "reply-1"
    for reference in (open_1.reference, open_2.reference):
        assert records[reference].outcome == ABANDONED
        assert records[reference].finished_at is not None
        assert records[reference].reply_reference is None
    # Another job's open record is not this run's business.
    (untouched,) = await store.audit_records(job_id=other)
    assert untouched.outcome is None
    # Once closed, a record never changes: not by a late completion, not by a second pass.
    await store.consultation_finished(open_1.reference, outcome="ok", reply_reference="late",
                                      duration_ms=1.0)
    assert await store.abandon_open_consultations(job) == 0
    again = {r.reference: r for r in await store.audit_records(job_id=job)}
    assert again[open_1.reference].outcome == ABANDONED
    assert again[open_1.reference].reply_reference is None


async def test_stale_open_records_are_abandoned_by_age(store: OutcomeStore) -> None:
    job = _job_id()
    now = dt.datetime.now(dt.UTC)
    old_open = _consultation(job, started_at=now - dt.timedelta(hours=3))
    old_done = _consultation(job, started_at=now - dt.timedelta(hours=3))
    recent_open = _consultation(job, started_at=now - dt.timedelta(minutes=1))
    for consultation in (old_open, old_done, recent_open):
        await store.consultation_started(consultation)
    await store.consultation_finished(old_done.reference, outcome="ok", reply_reference="r",
                                      duration_ms=3.0)

    # In another time zone, the same instant: an hour ago.
    cutoff = (now - dt.timedelta(hours=1)).astimezone(dt.timezone(dt.timedelta(hours=2)))
    assert await store.abandon_stale_consultations(cutoff) >= 1  # others' old records too
    records = {r.reference: r for r in await store.audit_records(job_id=job)}
    assert records[old_open.reference].outcome == ABANDONED
    assert records[old_done.reference].outcome == "ok"
    assert records[recent_open.reference].outcome is None


@pytest.mark.parametrize("odd", ["\ud800", "\udfff tail", "nul\x00byte", "\ud83d\ude00"])
async def test_the_audit_write_stores_any_text(store: OutcomeStore, odd: str) -> None:
    job = _job_id() + odd
    consultation = _consultation(job, purpose=f"proof-of-life: {odd}", decided_by=odd,
                                 acting_person=odd, requester_identifier=odd)
    await store.consultation_started(consultation)
    await store.consultation_finished(consultation.reference, outcome=f"error:{odd}",
                                      reply_reference=odd, duration_ms=1.0)
    # Found by the job id as it was given; each unstorable character stored as U+FFFD.
    (record,) = await store.audit_records(job_id=job)
    assert "\x00" not in record.purpose
    assert not any("\ud800" <= ch <= "\udfff" for ch in record.purpose)
    assert record.purpose.startswith("proof-of-life: ")
    assert "\ufffd" in record.purpose
    assert record.decided_by == record.acting_person == record.requester_identifier
    assert record.outcome is not None and record.outcome.startswith("error:")
    assert record.reply_reference == record.acting_person
    assert await store.abandon_open_consultations(job) == 0


async def test_an_ordinary_purpose_is_stored_as_it_is(store: OutcomeStore) -> None:
    job = _job_id()
    purpose = "attest gezinssamenstelling — ‘Kinderbijslag’ 😀 é"
    await store.consultation_started(_consultation(job, purpose=purpose))
    (record,) = await store.audit_records(job_id=job)
    assert record.purpose == purpose


# -- SQLite file modes -----------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_sqlite_store_files_are_the_owners_only(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)  # the usual umask would leave new files 0644
    try:
        path = tmp_path / "new" / "deeper" / "store.db"
        store = await open_store(f"sqlite:///{path}")
        try:
            await store.consultation_started(_consultation(_job_id()))
            companions = [path.with_name(path.name + s) for s in ("-wal", "-shm")]
            assert all(p.exists() for p in companions)
            for file in (path, *companions):
                assert _mode(file) == 0o600, (file, oct(_mode(file)))
            assert _mode(path.parent) == 0o700
            assert _mode(path.parent.parent) == 0o700
        finally:
            await store.close()
    finally:
        os.umask(old_umask)


async def test_sqlite_existing_wide_files_are_narrowed_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    sqlite3.connect(path).close()
    wal = path.with_name(path.name + "-wal")
    wal.write_bytes(b"")
    os.chmod(path, 0o644)
    os.chmod(wal, 0o666)
    directory_mode = _mode(tmp_path)
    with structlog.testing.capture_logs() as logs:
        store = await open_store(f"sqlite:///{path}")
    try:
        assert _mode(path) == 0o600
        assert _mode(wal) == 0o600
        shm = path.with_name(path.name + "-shm")
        assert _mode(shm) == 0o600
    finally:
        await store.close()
    narrowed = {e["path"]: e["mode"] for e in logs if e["event"] == "store.file_mode_narrowed"}
    assert narrowed == {str(path): "0o644", str(wal): "0o666"}
    assert _mode(tmp_path) == directory_mode  # a directory it did not make is not changed
