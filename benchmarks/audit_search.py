"""Audit searches over ten years of records (issue 19): with and without the search indexes.

    .venv/bin/python -m benchmarks.audit_search --rows 1000000 \\
        [--postgres postgresql://postgres@127.0.0.1:5432/h3]

Fills a fresh SQLite store (and, with ``--postgres``, that database's audit table: it is emptied
first) with ``--rows`` consultations spread over ten years, then times the searches staff make
(the median of five runs each, total included) three ways: with the store's indexes; with only
the primary key, the job id index and a plain time index (the schema before issue 19); and the
old admin search (the newest 100,000 records, filtered in Python), which finds nothing in an
old period. Prints one line per search and backend, and the ratio without/with the indexes.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import psycopg

from hub.store import OutcomeStore, open_store
from hub.store.base import AUDIT_COLUMNS
from hub.store.queries import AuditQuery
from hub.store.sql import AUDIT_INDEXES
from hub.store.sqlite import SqliteStore

END = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
YEARS = 10
TYPES = [f"type-{i:02d}" for i in range(15)]
TENANTS = [f"tenant-{i:02d}" for i in range(20)]
PURPOSES = ["proof of life", "household composition", "contact details change", "nationality",
            "civil status extract", "criminal record extract"]
_INSERTED = ("reference", "job_id", "attempt", "tenant", "service", "service_version",
             "client_identification", "requester_capacity", "requester_identifier",
             "acting_person", "subject_identifier", "purpose", "started_at", "job_type",
             "outcome", "reply_reference")


def _subject(n: int) -> str:
    return f"{n:011d}"


def rows(count: int, seed: int = 19) -> Iterator[tuple[object, ...]]:
    """``count`` consultations, oldest first, evenly over ten years before END."""
    chance = random.Random(seed)
    span = YEARS * 365 * 86400
    for i in range(count):
        started = END - dt.timedelta(seconds=span * (count - i) / count)
        acting = f"staff-{chance.randrange(300)}" if chance.random() < 0.1 else None
        yield (str(uuid.UUID(int=chance.getrandbits(128))), f"job-{i}", 1,
               chance.choice(TENANTS), "GeefPersoon", "02.02.0000", "client", "citizen",
               f"req-{chance.randrange(20_000)}", acting, _subject(chance.randrange(200_000)),
               chance.choice(PURPOSES), started, chance.choice(TYPES), "ok", f"reply-{i}")


SEARCHES: dict[str, AuditQuery] = {
    "subject, all years": AuditQuery(subject=_subject(4242)),  # ~5 records in 1M
    "requester or acting, all years": AuditQuery(requester="staff-7"),
    "tenant, last month": AuditQuery(tenant="tenant-03", since=END - dt.timedelta(days=30)),
    "job type, a year 9 years ago": AuditQuery(
        job_type="type-04", since=END - dt.timedelta(days=9 * 365),
        until=END - dt.timedelta(days=8 * 365)),
    "MAGDA reply reference": AuditQuery(reference="reply-12345"),
    "purpose + tenant, a month": AuditQuery(
        purpose="CONTACT", tenant="tenant-05", since=END - dt.timedelta(days=400),
        until=END - dt.timedelta(days=370)),
    "newest page, no filter": AuditQuery(),
}


async def _median(run: Callable[[], Awaitable[object]], repeat: int = 5) -> float:
    await run()  # warm the cache
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def _time_searches(store: OutcomeStore) -> dict[str, tuple[float, int]]:
    timed = {}
    for name, query in SEARCHES.items():
        found = await store.search_audit(query)
        timed[name] = (await _median(functools.partial(store.search_audit, query)),
                       found.total or 0)
    return timed


async def _fill_sqlite(store: SqliteStore, count: int) -> None:
    marks = ", ".join("?" * len(_INSERTED))
    data = ((*row[:12], row[12].isoformat(), *row[13:])  # type: ignore[attr-defined]
            for row in rows(count))
    insert = f"INSERT INTO audit_consultations ({', '.join(_INSERTED)}) VALUES ({marks})"

    def load(conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN")
        conn.executemany(insert, data)
        conn.execute("COMMIT")

    await store._run(load)


def _index_names() -> list[str]:
    return [s.split()[5] for s in AUDIT_INDEXES if s.startswith("CREATE")]


async def _sqlite(count: int) -> dict[str, dict[str, tuple[float, int]]]:
    path = Path(tempfile.mkdtemp(prefix="loket-audit-bench-")) / "audit.db"
    store = await open_store(f"sqlite:///{path}")
    assert isinstance(store, SqliteStore)
    start = time.perf_counter()
    await _fill_sqlite(store, count)
    print(f"sqlite: {count} rows inserted with the indexes in {time.perf_counter() - start:.1f} s")
    results = {"with": await _time_searches(store)}

    def drop(conn: sqlite3.Connection) -> None:
        for name in _index_names():
            conn.execute(f"DROP INDEX {name}")
        conn.execute("CREATE INDEX audit_by_time ON audit_consultations (started_at)")

    await store._run(drop)
    results["without"] = await _time_searches(store)
    results["old admin"] = await _old_admin(store)
    await store.close()
    return results


async def _old_admin(store: OutcomeStore) -> dict[str, tuple[float, int]]:
    """What the admin did before: the newest 100,000 records, filtered in Python."""
    query = SEARCHES["job type, a year 9 years ago"]
    assert query.since is not None and query.until is not None
    since, until = query.since, query.until

    async def search() -> int:
        records = await store.audit_records(limit=100_000)
        return sum(1 for r in records if since <= r.started_at < until
                   and r.job_type == query.job_type)

    return {"job type, a year 9 years ago": (await _median(search, repeat=3), await search())}


async def _postgres(dsn: str, count: int) -> dict[str, dict[str, tuple[float, int]]]:
    store = await open_store(dsn)  # the tables and indexes
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await conn.execute("TRUNCATE audit_consultations")
        for name in _index_names():
            await conn.execute(f"DROP INDEX IF EXISTS {name}")
        start = time.perf_counter()
        async with conn.cursor() as cursor, cursor.copy(
                f"COPY audit_consultations ({', '.join(_INSERTED)}) FROM STDIN") as copy:
            for row in rows(count):
                await copy.write_row(row)
        print(f"postgres: {count} rows copied in {time.perf_counter() - start:.1f} s")
        await conn.execute("CREATE INDEX audit_by_time ON audit_consultations (started_at)")
        await conn.execute("ANALYZE audit_consultations")
        results = {"without": await _time_searches(store),
                   "old admin": await _old_admin(store)}
        await conn.execute("DROP INDEX audit_by_time")
        start = time.perf_counter()
        await store.close()
        store = await open_store(dsn)  # makes the indexes, as an upgraded database would
        await conn.execute("ANALYZE audit_consultations")
        print(f"postgres: indexes made in {time.perf_counter() - start:.1f} s")
        results["with"] = await _time_searches(store)
        await conn.execute("TRUNCATE audit_consultations")
    await store.close()
    return results


def _report(backend: str, results: dict[str, dict[str, tuple[float, int]]]) -> None:
    for name, (with_s, found) in results["with"].items():
        without_s, _ = results["without"][name]
        print(f"{backend:8} {name:32} {found:7} found  with {with_s * 1000:9.2f} ms"
              f"  without {without_s * 1000:9.2f} ms  ratio without/with: "
              f"{without_s / with_s:8.1f}")
    for name, (old_s, found) in results["old admin"].items():
        print(f"{backend:8} old admin search ({name}): {found} found in {old_s * 1000:.0f} ms"
              f" (SQL with indexes found {results['with'][name][1]})")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres", help="a database of your own: its audit is emptied")
    args = parser.parse_args()
    assert len(AUDIT_COLUMNS) > len(_INSERTED)
    _report("sqlite", await _sqlite(args.rows))
    if args.postgres:
        _report("postgres", await _postgres(args.postgres, args.rows))


if __name__ == "__main__":
    asyncio.run(main())
