"""SQLite store: one connection used from one dedicated thread, so the event loop never blocks."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from hub.store.base import Claim, ClaimState

__all__ = ["SqliteStore"]

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS job_outcomes (
    job_id       TEXT PRIMARY KEY,
    state        TEXT NOT NULL CHECK (state IN ('in-progress', 'released', 'done')),
    owner        TEXT,
    lease_until  REAL,
    result       BLOB,
    published    INTEGER NOT NULL DEFAULT 0,
    created_at   REAL NOT NULL,
    completed_at REAL
);
"""


class SqliteStore:
    """The embedded default. Claims are serialised by the single connection thread."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-store")
        self._conn: sqlite3.Connection | None = None

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._conn
        if conn is None:
            raise RuntimeError("store is not open")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, conn)

    async def open(self) -> None:
        def connect() -> sqlite3.Connection:
            if str(self._path) != ":memory:":
                self._path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                str(self._path), check_same_thread=False, isolation_level=None, timeout=30
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            return conn

        loop = asyncio.get_running_loop()
        self._conn = await loop.run_in_executor(self._executor, connect)

    async def close(self) -> None:
        if self._conn is not None:
            await self._run(lambda c: c.close())
            self._conn = None
        self._executor.shutdown(wait=True)

    async def ping(self) -> None:
        await self._run(lambda c: c.execute("SELECT 1").fetchone())

    async def claim(self, job_id: str, owner: str, lease_s: float) -> Claim:
        def claim(conn: sqlite3.Connection) -> Claim:
            now = time.time()
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(
                    "SELECT state, owner, lease_until, result, published"
                    " FROM job_outcomes WHERE job_id = ?",
                    (job_id,),
                ).fetchone()
                if row is None:
                    conn.execute(
                        "INSERT INTO job_outcomes (job_id, state, owner, lease_until, created_at)"
                        " VALUES (?, 'in-progress', ?, ?, ?)",
                        (job_id, owner, now + lease_s, now),
                    )
                    return Claim(ClaimState.ACQUIRED)
                state, _, lease_until, result, published = row
                if state == "done":
                    return Claim(ClaimState.DONE, bytes(result), bool(published))
                if state == "in-progress" and lease_until > now:
                    return Claim(ClaimState.BUSY)
                conn.execute(
                    "UPDATE job_outcomes SET state = 'in-progress', owner = ?, lease_until = ?"
                    " WHERE job_id = ?",
                    (owner, now + lease_s, job_id),
                )
                return Claim(ClaimState.ACQUIRED)
            finally:
                conn.execute("COMMIT")

        return await self._run(claim)

    async def release(self, job_id: str, owner: str) -> None:
        await self._run(
            lambda c: c.execute(
                "UPDATE job_outcomes SET state = 'released', owner = NULL, lease_until = NULL"
                " WHERE job_id = ? AND owner = ? AND state = 'in-progress'",
                (job_id, owner),
            )
        )

    async def complete(self, job_id: str, owner: str, result: bytes) -> None:
        now = time.time()
        await self._run(
            lambda c: c.execute(
                "INSERT INTO job_outcomes (job_id, state, owner, result, created_at, completed_at)"
                " VALUES (?, 'done', ?, ?, ?, ?)"
                " ON CONFLICT (job_id) DO UPDATE SET state = 'done', owner = excluded.owner,"
                " result = excluded.result, completed_at = excluded.completed_at,"
                " lease_until = NULL WHERE job_outcomes.state <> 'done'",
                (job_id, owner, result, now, now),
            )
        )

    async def mark_published(self, job_id: str) -> None:
        await self._run(
            lambda c: c.execute(
                "UPDATE job_outcomes SET published = 1 WHERE job_id = ?", (job_id,)
            )
        )

    async def result(self, job_id: str) -> bytes | None:
        row = await self._run(
            lambda c: c.execute(
                "SELECT result FROM job_outcomes WHERE job_id = ? AND state = 'done'", (job_id,)
            ).fetchone()
        )
        return bytes(row[0]) if row else None
