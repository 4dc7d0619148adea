"""Searches of the store (SQLite and PostgreSQL): the audit by every filter staff use, paged by
cursor with a total and no cap; the register of requests; saved searches; and a database of
the previous version upgraded in place."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
import uuid
from pathlib import Path

import psycopg
import pytest

from hub.contract import Outcome, Result
from hub.ports import Consultation
from hub.store import OutcomeStore, open_store
from hub.store.base import StatusPush
from hub.store.queries import AuditQuery, BadCursor, Cursor, RequestQuery, SavedFilter
from tests.conftest import POSTGRES_DSN
from tests.integration.test_store_audit import store  # noqa: F401 - the fixture

DAY = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
SUBJECT = "85073003328"


def _tenant() -> str:
    """Each test its own tenant: the PostgreSQL database is shared by the tests."""
    return f"t-{uuid.uuid4().hex[:12]}"


def _consultation(tenant: str, started_at: dt.datetime, **fields: object) -> Consultation:
    consultation = Consultation(
        reference=str(uuid.uuid4()), job_id=f"job-{uuid.uuid4()}", attempt=1, tenant=tenant,
        service="GeefPersoon", service_version="02.02.0000", client_identification="gent",
        requester_capacity="citizen", requester_identifier="r-1", acting_person=None,
        subject_identifier=SUBJECT, purpose="Proof-of-life (product 1473)",
        started_at=started_at, job_type="population.proof-of-life")
    return dataclasses.replace(consultation, **fields)  # type: ignore[arg-type]


async def _references(store: OutcomeStore, **filters: object) -> set[str]:  # noqa: F811
    page = await store.search_audit(AuditQuery(limit=1000, **filters))  # type: ignore[arg-type]
    assert page.total == len(page.rows) and page.next is None
    return {r.reference for r in page.rows}


async def test_the_audit_is_searched_by_each_filter(store: OutcomeStore) -> None:  # noqa: F811
    tenant = _tenant()
    plain = _consultation(tenant, DAY)
    acting = _consultation(tenant, DAY + dt.timedelta(hours=1), requester_identifier="r-2",
                           acting_person="r-1", job_type="population.household")
    other = _consultation(tenant, DAY + dt.timedelta(hours=2), subject_identifier="90010100123",
                          requester_identifier="r-3", purpose="contact details change",
                          service="GeefAdres")
    years_ago = _consultation(tenant, DAY - dt.timedelta(days=9 * 365))
    for consultation in (plain, acting, other, years_ago):
        await store.consultation_started(consultation)
    await store.consultation_finished(other.reference, outcome="error:40003",
                                      reply_reference=f"reply-{tenant}", duration_ms=3.0)
    every = {c.reference for c in (plain, acting, other, years_ago)}
    assert await _references(store, tenant=tenant) == every
    # the requester matches whoever acted too ("who looked at my data, and for whom")
    assert await _references(store, tenant=tenant, requester="r-1") == {
        plain.reference, acting.reference, years_ago.reference}
    assert await _references(store, tenant=tenant, subject=SUBJECT) == every - {other.reference}
    assert await _references(store, job_type="population.household", tenant=tenant) == {
        acting.reference}
    assert await _references(store, tenant=tenant, purpose="DETAILS") == {other.reference}
    assert await _references(store, tenant=tenant, purpose="%") == set()  # no wildcard
    assert await _references(store, reference=f"reply-{tenant}") == {other.reference}
    assert await _references(store, reference=plain.reference) == {plain.reference}
    assert await _references(store, tenant=tenant, outcome="error") == {other.reference}
    assert await _references(store, tenant=tenant, service="GeefAdres") == {other.reference}
    # a period long past is read from SQL like any other: no newest-N cap
    assert await _references(store, tenant=tenant, since=DAY - dt.timedelta(days=3300),
                             until=DAY - dt.timedelta(days=3200)) == {years_ago.reference}
    # [since, until): the admin turns a date-only 'to' into the next day's start
    assert await _references(store, tenant=tenant, since=DAY,
                             until=DAY + dt.timedelta(days=1)) == every - {years_ago.reference}
    assert await _references(store, tenant=tenant, until=DAY) == {years_ago.reference}
    (record,) = (await store.search_audit(AuditQuery(reference=acting.reference))).rows
    assert record.job_type == "population.household" and record.acting_person == "r-1"


async def test_audit_pages_follow_each_other_by_cursor_without_gaps(store: OutcomeStore) -> None:  # noqa: F811
    tenant = _tenant()
    # several records share a start time: the cursor's key (the reference) breaks the tie
    started = [DAY + dt.timedelta(minutes=i // 3) for i in range(23)]
    for moment in started:
        await store.consultation_started(_consultation(tenant, moment))
    seen: list[str] = []
    after: Cursor | None = None
    while True:
        page = await store.search_audit(AuditQuery(tenant=tenant, limit=5, after=after))
        assert page.total == 23
        seen += [r.reference for r in page.rows]
        times = [r.started_at for r in page.rows]
        assert times == sorted(times, reverse=True)
        if page.next is None:
            break
        after = page.next
    assert len(seen) == len(set(seen)) == 23


async def test_a_cursor_the_store_did_not_give_is_refused(store: OutcomeStore) -> None:  # noqa: F811
    with pytest.raises(BadCursor):
        await store.search_audit(AuditQuery(after=Cursor("yesterday", "x")))
    with pytest.raises(BadCursor):
        await store.search_requests(RequestQuery(after=Cursor("not-a-number", "x")))


def _message(tenant: str, job_type: str, dossier: str) -> bytes:
    body = {"job_id": "ignored", "type": job_type, "tenant": tenant, "product_id": 1473,
            "dossier_id": dossier, "subject": {"kind": "person", "identifier": SUBJECT},
            "requester": {"capacity": "citizen", "identifier": SUBJECT}}
    return json.dumps({"body": json.dumps(body), "message_id": "m", "attempt": 1}).encode()


def _result(job_id: str, outcome: str) -> bytes:
    return Result(job_id, Outcome(outcome), type="t", tenant="x", dossier_id="d").to_json()


async def test_the_register_lists_the_requests_with_their_outcome_and_status(
    store: OutcomeStore,  # noqa: F811
) -> None:
    tenant = _tenant()
    change, proof, waiting = (f"job-{uuid.uuid4()}" for _ in range(3))
    await store.claim(change, "w", 30, message=_message(tenant, "contact-details.change", "d-1"))
    await store.complete(change, "w", _result(change, "delivered"))
    await store.claim(proof, "w", 30, message=_message(tenant, "population.proof-of-life", "d-2"))
    await store.complete(proof, "w", _result(proof, "rejected"))
    await store.claim(waiting, "w", 30, message=_message(tenant, "contact-details.change", "d-3"))
    await store.suspend(waiting, "w", journal={"n": 1}, interim=_result(waiting, "in-treatment"))
    await store.claim(f"refusal/{uuid.uuid4()}", "w", 30)  # no job: not in the register
    await store.record_push(StatusPush(f"u-{uuid.uuid4()}", change, "d-1", tenant, "closed",
                                       dt.datetime.now(dt.UTC)))

    page = await store.search_requests(RequestQuery(tenant=tenant))
    assert page.total == 3 and {r.job_id for r in page.rows} == {change, proof, waiting}
    changes = await store.search_requests(RequestQuery(tenant=tenant,
                                                       job_type="contact-details.change"))
    by_id = {r.job_id: r for r in changes.rows}
    assert set(by_id) == {change, waiting}
    assert (by_id[change].state, by_id[change].outcome, by_id[change].status) == (
        "done", "delivered", "closed")
    assert (by_id[waiting].state, by_id[waiting].outcome) == ("waiting", "in-treatment")
    assert by_id[change].applicant == "85*******28" and by_id[change].product_id == 1473
    assert by_id[change].dossier_id == "d-1" and by_id[change].completed_at is not None
    assert (await store.search_requests(RequestQuery(tenant=tenant, outcome="rejected"))
            ).rows[0].job_id == proof
    assert (await store.search_requests(RequestQuery(dossier_id="d-3", tenant=tenant))
            ).rows[0].job_id == waiting
    # a record of the hub's own (a replay: no job type given) takes its job's from the register
    replay = _consultation(tenant, DAY, job_id=change, job_type="", service="loket-hub:replay")
    await store.consultation_started(replay)
    (recorded,) = (await store.search_audit(AuditQuery(reference=replay.reference))).rows
    assert recorded.job_type == "contact-details.change"
    first = await store.search_requests(RequestQuery(tenant=tenant, limit=2))
    assert len(first.rows) == 2 and first.next is not None
    rest = await store.search_requests(RequestQuery(tenant=tenant, limit=2, after=first.next))
    assert {r.job_id for r in first.rows + rest.rows} == {change, proof, waiting}
    assert rest.next is None
    # received in the past hour, not before
    now = dt.datetime.now(dt.UTC)
    assert (await store.search_requests(RequestQuery(
        tenant=tenant, since=now - dt.timedelta(hours=1)))).total == 3
    assert (await store.search_requests(RequestQuery(
        tenant=tenant, until=now - dt.timedelta(hours=1)))).total == 0


async def test_saved_searches_are_the_owners_unless_shared(store: OutcomeStore) -> None:  # noqa: F811
    anne, bert = f"anne-{uuid.uuid4().hex[:6]}", f"bert-{uuid.uuid4().hex[:6]}"
    mine = await store.save_filter(SavedFilter("requests", "changes", anne, False,
                                               {"type": "contact-details.change"}))
    shared = await store.save_filter(SavedFilter("requests", "all gent", anne, True,
                                                 {"tenant": "gent"}))
    await store.save_filter(SavedFilter("audit", "mine", anne, False, {"subject": SUBJECT}))
    seen_by_bert = await store.saved_filters("requests", bert)
    assert [f.id for f in seen_by_bert if f.owner == anne] == [shared]
    seen_by_anne = {f.name: f for f in await store.saved_filters("requests", anne)}
    assert {"changes", "all gent"} <= set(seen_by_anne)
    assert seen_by_anne["changes"].filters == {"type": "contact-details.change"}
    assert not seen_by_anne["changes"].shared and seen_by_anne["changes"].id == mine
    # saving under the same name replaces it
    again = await store.save_filter(SavedFilter("requests", "changes", anne, True,
                                                {"type": "x"}))
    assert again == mine
    assert mine in {f.id for f in await store.saved_filters("requests", bert)}
    assert not await store.delete_filter(mine, bert)  # only its owner deletes it
    assert await store.delete_filter(mine, anne)
    assert mine not in {f.id for f in await store.saved_filters("requests", anne)}


_V4_TABLES = """
CREATE TABLE job_outcomes (
    job_id TEXT PRIMARY KEY, state TEXT NOT NULL, owner TEXT, lease_until REAL, result BLOB,
    published INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, completed_at REAL,
    journal TEXT, interim BLOB, message BLOB, fingerprint TEXT, purged_at REAL);
CREATE TABLE audit_consultations (
    reference TEXT PRIMARY KEY, job_id TEXT NOT NULL, attempt INTEGER NOT NULL,
    tenant TEXT NOT NULL, service TEXT NOT NULL, service_version TEXT NOT NULL,
    client_identification TEXT NOT NULL, requester_capacity TEXT NOT NULL,
    requester_identifier TEXT NOT NULL, acting_person TEXT, subject_identifier TEXT NOT NULL,
    purpose TEXT NOT NULL, started_at TEXT NOT NULL, decided_by TEXT, finished_at TEXT,
    outcome TEXT, reply_reference TEXT, duration_ms REAL);
CREATE INDEX audit_by_time ON audit_consultations (started_at);
INSERT INTO audit_consultations VALUES ('old-ref', 'job-old', 1, 'gent', 'GeefPersoon', '02',
    'gent', 'citizen', 'r-1', NULL, '85073003328', 'p', '2020-01-01T00:00:00+00:00', NULL,
    NULL, NULL, NULL, NULL);
INSERT INTO job_outcomes (job_id, state, created_at) VALUES ('job-old', 'done', 1577836800);
PRAGMA user_version = 4;
"""


async def test_a_version_4_sqlite_file_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(_V4_TABLES)
    opened = await open_store(f"sqlite:///{path}")
    try:
        page = await opened.search_audit(AuditQuery(requester="r-1"))
        assert [r.reference for r in page.rows] == ["old-ref"] and page.rows[0].job_type is None
        await opened.consultation_started(_consultation("gent", DAY))
        assert (await opened.search_audit(AuditQuery(job_type="population.proof-of-life"))
                ).total == 1
        assert (await opened.search_requests(RequestQuery())).total == 0  # no register yet
    finally:
        await opened.close()
    with sqlite3.connect(path) as conn:
        indexes = {row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index'")}
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    assert {"audit_by_subject", "audit_by_requester", "requests_by_type"} <= indexes
    assert "audit_by_time" not in indexes and version == 5


@pytest.mark.postgres
async def test_a_postgres_database_without_the_new_columns_is_upgraded() -> None:
    async with await psycopg.AsyncConnection.connect(POSTGRES_DSN, autocommit=True) as conn:
        opened = await open_store(POSTGRES_DSN)  # the tables exist
        await opened.close()
        await conn.execute("DROP INDEX IF EXISTS audit_by_type")
        await conn.execute("DROP INDEX IF EXISTS requests_by_type")
        await conn.execute("ALTER TABLE audit_consultations DROP COLUMN job_type")
        await conn.execute("ALTER TABLE job_outcomes DROP COLUMN job_type CASCADE")
        opened = await open_store(POSTGRES_DSN)
        try:
            tenant = _tenant()
            await opened.consultation_started(_consultation(tenant, DAY))
            assert (await opened.search_audit(AuditQuery(
                tenant=tenant, job_type="population.proof-of-life"))).total == 1
        finally:
            await opened.close()
        cursor = await conn.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname IN"
            " ('audit_by_type', 'requests_by_type')")
        assert {row[0] for row in await cursor.fetchall()} == {"audit_by_type",
                                                              "requests_by_type"}
