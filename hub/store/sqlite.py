"""SQLite store: one connection used from one dedicated thread, so the event loop never blocks."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import sqlite3
import stat
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import structlog

from hub.ports import Consultation
from hub.store.base import (
    ABANDONED,
    AUDIT_COLUMNS,
    STARTED_COLUMNS,
    AuditRecord,
    Claim,
    ClaimState,
    DeadLetter,
    StatusPush,
    consultation_row,
    store_safe_text,
)

__all__ = ["SqliteStore"]

_STARTED = ", ".join(AUDIT_COLUMNS[:STARTED_COLUMNS])
_DL_COLS = (
    "received_at, reason, error, message_id, correlation_id, reply_to, headers, body, state,"
    " handled_by"
)

log = structlog.get_logger(__name__)
# About 16 MB of write-ahead log (4 KiB pages) before the writer restarts it.
_WAL_RESTART_PAGES = 4096
T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS job_outcomes (
    job_id       TEXT PRIMARY KEY,
    state        TEXT NOT NULL CHECK (state IN ('in-progress', 'released', 'waiting', 'done')),
    owner        TEXT,
    lease_until  REAL,
    result       BLOB,
    published    INTEGER NOT NULL DEFAULT 0,
    created_at   REAL NOT NULL,
    completed_at REAL,
    journal      TEXT,
    interim      BLOB,
    message      BLOB,
    fingerprint  TEXT,
    purged_at    REAL
);
CREATE INDEX IF NOT EXISTS outcomes_by_age ON job_outcomes (state, created_at);
CREATE TABLE IF NOT EXISTS task_leases (
    name  TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_consultations (
    reference             TEXT PRIMARY KEY,
    job_id                TEXT NOT NULL,
    attempt               INTEGER NOT NULL,
    tenant                TEXT NOT NULL,
    service               TEXT NOT NULL,
    service_version       TEXT NOT NULL,
    client_identification TEXT NOT NULL,
    requester_capacity    TEXT NOT NULL,
    requester_identifier  TEXT NOT NULL,
    acting_person         TEXT,
    subject_identifier    TEXT NOT NULL,
    purpose               TEXT NOT NULL,
    started_at            TEXT NOT NULL,
    decided_by            TEXT,
    finished_at           TEXT,
    outcome               TEXT,
    reply_reference       TEXT,
    duration_ms           REAL
);
CREATE INDEX IF NOT EXISTS audit_by_job ON audit_consultations (job_id);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit_consultations (started_at);
-- The audit is append-only from the hub's side: a finished record never changes again.
CREATE TABLE IF NOT EXISTS status_pushes (
    upload_id  TEXT PRIMARY KEY,
    job_id     TEXT NOT NULL,
    dossier_id TEXT NOT NULL,
    tenant     TEXT NOT NULL,
    status     TEXT NOT NULL,
    pushed_at  TEXT NOT NULL,
    result     TEXT,
    reason     TEXT
);
CREATE INDEX IF NOT EXISTS pushes_pending ON status_pushes (result, pushed_at);
CREATE TABLE IF NOT EXISTS dead_letters (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at    TEXT NOT NULL,
    reason         TEXT NOT NULL,
    error          TEXT,
    message_id     TEXT,
    correlation_id TEXT,
    reply_to       TEXT,
    headers        TEXT NOT NULL,
    body           BLOB NOT NULL,
    state          TEXT NOT NULL DEFAULT 'new',
    handled_by     TEXT,
    handled_at     TEXT
);
CREATE TRIGGER IF NOT EXISTS audit_finished_is_final
BEFORE UPDATE ON audit_consultations WHEN OLD.outcome IS NOT NULL
BEGIN SELECT RAISE(IGNORE); END;
"""


_VERSION = 4

# What retention removes of a done job: everything about the person; the row stays, so the job
# id keeps its fingerprint and a replay is told the documents expired.
_PURGE = ("UPDATE job_outcomes SET result = NULL, message = NULL, journal = NULL,"
          " interim = NULL, purged_at = ?")


def _migrate(conn: sqlite3.Connection) -> None:
    """Version 1 tables had no journal and no 'waiting' state: rebuild them in place."""
    audit_columns = {row[1] for row in conn.execute("PRAGMA table_info(audit_consultations)")}
    if audit_columns and "decided_by" not in audit_columns:
        conn.execute("ALTER TABLE audit_consultations ADD COLUMN decided_by TEXT")
    columns = {row[1] for row in conn.execute("PRAGMA table_info(job_outcomes)")}
    if columns and "journal" in columns and "message" not in columns:
        conn.execute("ALTER TABLE job_outcomes ADD COLUMN message BLOB")
    if columns and "journal" in columns and "fingerprint" not in columns:
        conn.execute("ALTER TABLE job_outcomes ADD COLUMN fingerprint TEXT")
        conn.execute("ALTER TABLE job_outcomes ADD COLUMN purged_at REAL")
    if not columns or "journal" in columns:
        return
    conn.executescript(
        "BEGIN;"
        " ALTER TABLE job_outcomes RENAME TO job_outcomes_v1;"
        + _SCHEMA.split(";", 1)[0] + ";"
        " INSERT INTO job_outcomes (job_id, state, owner, lease_until, result, published,"
        "   created_at, completed_at)"
        " SELECT job_id, state, owner, lease_until, result, published, created_at, completed_at"
        "   FROM job_outcomes_v1;"
        " DROP TABLE job_outcomes_v1;"
        " COMMIT;"
    )


# The store holds whole job messages and results (criminal-record extracts): its owner only.
_FILE_MODE = 0o600
_DIR_MODE = 0o700
_COMPANIONS = ("-wal", "-shm", "-journal")


def _make_private_dirs(directory: Path) -> None:
    """Create ``directory`` and its missing parents readable by the owner only (0700);
    directories that exist are left as they are."""
    missing: list[Path] = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for created in reversed(missing):
        with contextlib.suppress(FileExistsError):
            created.mkdir(mode=_DIR_MODE)
            os.chmod(created, _DIR_MODE)  # the umask may have taken bits off, never added


def _narrow(path: Path) -> None:
    """Make an existing store file owner-only; say so when it was wider."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if mode & ~_FILE_MODE:
        log.warning("store.file_mode_narrowed", path=str(path), mode=oct(mode),
                    now=oct(_FILE_MODE))
        try:
            os.chmod(path, _FILE_MODE)
        except OSError as exc:
            log.warning("store.file_mode_not_narrowed", path=str(path), error=str(exc))


def _prepare_private_files(path: Path) -> None:
    """Before SQLite opens ``path``: its directory exists (0700 if we make it), the database
    exists 0600 (SQLite gives its -wal, -shm and -journal files the database's mode), and any
    of them found wider is narrowed."""
    _make_private_dirs(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    except FileExistsError:
        pass
    else:
        os.close(fd)
    for file in (path, *(path.with_name(path.name + suffix) for suffix in _COMPANIONS)):
        _narrow(file)


class SqliteStore:
    """The embedded default. Claims are serialised by the single connection thread."""

    def __init__(self, path: Path, *, checkpoint_interval_s: float = 1.0) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-store")
        self._conn: sqlite3.Connection | None = None
        # WAL checkpoints run on their own connection and thread, off the jobs' path: left to
        # SQLite they run inside whichever commit crosses 1000 pages, and with results of
        # ~100 KB that commit took 10-20 ms (the p99 of a job's store writes).
        self._checkpoint_interval_s = checkpoint_interval_s
        self._checkpointer = ThreadPoolExecutor(max_workers=1,
                                                thread_name_prefix="sqlite-checkpoint")
        self._checkpoint_conn: sqlite3.Connection | None = None
        self._checkpoint_task: asyncio.Task[None] | None = None

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._conn
        if conn is None:
            raise RuntimeError("store is not open")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, conn)

    async def open(self) -> None:
        def connect() -> sqlite3.Connection:
            if str(self._path) != ":memory:":
                _prepare_private_files(self._path)
            conn = sqlite3.connect(
                str(self._path), check_same_thread=False, isolation_level=None, timeout=30
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            _migrate(conn)
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA user_version = {_VERSION}")
            if self._checkpoints_apart:
                conn.execute("PRAGMA wal_autocheckpoint=0")
            if str(self._path) != ":memory:":
                for suffix in _COMPANIONS:  # made now, from the database's mode: a check
                    _narrow(self._path.with_name(self._path.name + suffix))
            return conn

        loop = asyncio.get_running_loop()
        self._conn = await loop.run_in_executor(self._executor, connect)
        if self._checkpoints_apart:
            self._checkpoint_conn = await loop.run_in_executor(
                self._checkpointer,
                lambda: sqlite3.connect(str(self._path), check_same_thread=False,
                                        isolation_level=None, timeout=30),
            )
            self._checkpoint_task = asyncio.create_task(self._checkpoint_forever())

    @property
    def _checkpoints_apart(self) -> bool:
        return str(self._path) != ":memory:" and self._checkpoint_interval_s > 0

    async def checkpoint(self, mode: str = "PASSIVE") -> tuple[int, int, int]:
        """Copy the write-ahead log into the database: (busy, log pages, pages copied)."""
        conn = self._checkpoint_conn
        if conn is None:
            raise RuntimeError("store is not open or checkpoints run inside commits")
        assert mode in {"PASSIVE", "TRUNCATE"}
        loop = asyncio.get_running_loop()
        row = await loop.run_in_executor(
            self._checkpointer, lambda: conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        )
        return int(row[0]), int(row[1]), int(row[2])

    async def _checkpoint_forever(self) -> None:
        while True:
            await asyncio.sleep(self._checkpoint_interval_s)
            try:
                _, log_pages, copied = await self.checkpoint()
                left = log_pages - copied
                if log_pages >= _WAL_RESTART_PAGES and left <= _WAL_RESTART_PAGES // 4:
                    # Under steady writes a checkpoint beside the writer never catches up
                    # with the last frame, so the log would only grow. Once it is long, the
                    # writer's own thread copies the few frames left and restarts it.
                    await self._run(
                        lambda c: c.execute("PRAGMA wal_checkpoint(RESTART)").fetchone())
            except sqlite3.Error as exc:
                # Never fatal: the next round tries again, and the log only grows meanwhile.
                log.warning("store.checkpoint_failed", error=str(exc))

    async def close(self) -> None:
        if self._checkpoint_task is not None:
            self._checkpoint_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checkpoint_task
            self._checkpoint_task = None
        if self._checkpoint_conn is not None:
            with contextlib.suppress(sqlite3.Error):
                await self.checkpoint("TRUNCATE")
            conn = self._checkpoint_conn
            await asyncio.get_running_loop().run_in_executor(self._checkpointer, conn.close)
            self._checkpoint_conn = None
        self._checkpointer.shutdown(wait=True)
        if self._conn is not None:
            await self._run(lambda c: c.close())
            self._conn = None
        self._executor.shutdown(wait=True)

    async def ping(self) -> None:
        await self._run(lambda c: c.execute("SELECT 1").fetchone())

    async def claim(
        self, job_id: str, owner: str, lease_s: float, *, continuation: bool = False,
        message: bytes | None = None, fingerprint: str | None = None,
        expired_before: float | None = None,
    ) -> Claim:
        def claim(conn: sqlite3.Connection) -> Claim:
            now = time.time()
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(
                    "SELECT state, lease_until, result, published, journal, interim,"
                    " fingerprint, created_at FROM job_outcomes WHERE job_id = ?",
                    (job_id,),
                ).fetchone()
                if row is None:
                    conn.execute(
                        "INSERT INTO job_outcomes (job_id, state, owner, lease_until, created_at,"
                        " message, fingerprint) VALUES (?, 'in-progress', ?, ?, ?, ?, ?)",
                        (job_id, owner, now + lease_s, now, message, fingerprint),
                    )
                    return Claim(ClaimState.ACQUIRED, journal={})
                (state, lease_until, result, published, journal, interim, bound,
                 created_at) = row
                if fingerprint is not None and bound is not None and bound != fingerprint:
                    return Claim(ClaimState.CONFLICT)
                if fingerprint is not None and bound is None:
                    conn.execute("UPDATE job_outcomes SET fingerprint = ? WHERE job_id = ?",
                                 (fingerprint, job_id))
                if state == "done":
                    if result is None or (expired_before is not None
                                          and created_at < expired_before):
                        if result is not None:
                            conn.execute(_PURGE + " WHERE job_id = ?", (now, job_id))
                        return Claim(ClaimState.EXPIRED)
                    return Claim(ClaimState.DONE, bytes(result), bool(published))
                if state == "in-progress" and lease_until > now:
                    return Claim(ClaimState.BUSY)
                if state == "waiting" and not continuation:
                    return Claim(ClaimState.WAITING, bytes(interim) if interim else None)
                conn.execute(
                    "UPDATE job_outcomes SET state = 'in-progress', owner = ?, lease_until = ?,"
                    " message = COALESCE(?, message) WHERE job_id = ?",
                    (owner, now + lease_s, message, job_id),
                )
                return Claim(ClaimState.ACQUIRED, journal=json.loads(journal) if journal else {})
            finally:
                conn.execute("COMMIT")

        return await self._run(claim)

    async def release(self, job_id: str, owner: str, *, due_in_s: float | None = None) -> None:
        # A job with a journal waits for its next poll; one without starts over. A released
        # job's lease_until says when its next attempt is due (for take_overdue).
        due = None if due_in_s is None else time.time() + due_in_s
        await self._run(
            lambda c: c.execute(
                "UPDATE job_outcomes SET owner = NULL,"
                " lease_until = CASE WHEN journal IS NULL THEN ? END,"
                " state = CASE WHEN journal IS NULL THEN 'released' ELSE 'waiting' END"
                " WHERE job_id = ? AND owner = ? AND state = 'in-progress'",
                (due, job_id, owner),
            )
        )

    async def take_overdue(self, grace_s: float, hold_s: float, limit: int = 100
                           ) -> list[tuple[str, str, bytes]]:
        def take(conn: sqlite3.Connection) -> list[tuple[str, str, bytes]]:
            now = time.time()
            conn.execute("BEGIN IMMEDIATE")
            try:
                rows = conn.execute(
                    "SELECT job_id, state, message FROM job_outcomes"
                    " WHERE state IN ('in-progress', 'released', 'waiting')"
                    " AND message IS NOT NULL"
                    " AND lease_until IS NOT NULL AND lease_until < ?"
                    " ORDER BY lease_until LIMIT ?",
                    (now - grace_s, limit),
                ).fetchall()
                conn.executemany(
                    "UPDATE job_outcomes SET lease_until = ? WHERE job_id = ?",
                    [(now + hold_s, job_id) for job_id, _, _ in rows],
                )
                return [(job_id, state, bytes(message)) for job_id, state, message in rows]
            finally:
                conn.execute("COMMIT")

        return await self._run(take)

    async def suspend(
        self, job_id: str, owner: str, *, journal: dict[str, object], interim: bytes,
        due_in_s: float | None = None,
    ) -> None:
        due = None if due_in_s is None else time.time() + due_in_s
        await self._run(
            lambda c: c.execute(
                "UPDATE job_outcomes SET state = 'waiting', owner = NULL, lease_until = ?,"
                " journal = ?, interim = ? WHERE job_id = ? AND owner = ?",
                (due, json.dumps(journal), interim, job_id, owner),
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
        return bytes(row[0]) if row and row[0] is not None else None

    # -- retention and maintenance -----------------------------------------------------------

    async def purge_results(self, created_before: float) -> int:
        cursor = await self._run(lambda c: c.execute(
            _PURGE + " WHERE state = 'done' AND created_at < ? AND purged_at IS NULL",
            (time.time(), created_before)))
        return int(cursor.rowcount)

    async def forget_jobs(self, created_before: float) -> int:
        cursor = await self._run(lambda c: c.execute(
            "DELETE FROM job_outcomes WHERE state = 'done' AND created_at < ?",
            (created_before,)))
        return int(cursor.rowcount)

    async def purge_dead_letters(self, received_before: dt.datetime) -> int:
        cursor = await self._run(lambda c: c.execute(
            "DELETE FROM dead_letters WHERE received_at < ?", (received_before.isoformat(),)))
        return int(cursor.rowcount)

    async def take_lease(self, name: str, owner: str, ttl_s: float) -> bool:
        def take(conn: sqlite3.Connection) -> bool:
            now = time.time()
            cursor = conn.execute(
                "INSERT INTO task_leases (name, owner, until) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until"
                " WHERE task_leases.until < ? OR task_leases.owner = excluded.owner",
                (name, owner, now + ttl_s, now))
            return cursor.rowcount == 1

        return await self._run(take)

    # -- audit -------------------------------------------------------------------------------

    async def consultation_started(self, consultation: Consultation) -> None:
        row = list(consultation_row(consultation))
        row[12] = consultation.started_at.isoformat()
        await self._run(
            lambda c: c.execute(
                f"INSERT INTO audit_consultations ({_STARTED})"
                f" VALUES ({', '.join('?' * STARTED_COLUMNS)}) ON CONFLICT (reference) DO NOTHING",
                row,
            )
        )

    async def consultation_finished(
        self, reference: str, *, outcome: str, reply_reference: str | None, duration_ms: float
    ) -> None:
        finished = dt.datetime.now(dt.UTC).isoformat()
        safe_reply = None if reply_reference is None else store_safe_text(reply_reference)
        await self._run(
            lambda c: c.execute(
                "UPDATE audit_consultations SET outcome = ?, reply_reference = ?,"
                " duration_ms = ?, finished_at = ? WHERE reference = ? AND outcome IS NULL",
                (store_safe_text(outcome), safe_reply, duration_ms, finished,
                 store_safe_text(reference)),
            )
        )

    async def abandon_open_consultations(self, job_id: str) -> int:
        return await self._abandon("job_id = ?", store_safe_text(job_id))

    async def abandon_stale_consultations(self, started_before: dt.datetime) -> int:
        # started_at is ISO text in UTC (+00:00), so text order is time order.
        return await self._abandon("started_at < ?",
                                   started_before.astimezone(dt.UTC).isoformat())

    async def _abandon(self, where: str, value: str) -> int:
        finished = dt.datetime.now(dt.UTC).isoformat()
        cursor = await self._run(
            lambda c: c.execute(
                "UPDATE audit_consultations SET outcome = ?, finished_at = ?"
                f" WHERE {where} AND outcome IS NULL",
                (ABANDONED, finished, value),
            )
        )
        return int(cursor.rowcount)

    async def audit_records(
        self, *, job_id: str | None = None, tenant: str | None = None, limit: int = 1000
    ) -> list[AuditRecord]:
        clauses, params = [], []
        for column, value in (("job_id", job_id), ("tenant", tenant)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(store_safe_text(value))  # as it was stored
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = await self._run(
            lambda c: c.execute(
                f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit_consultations{where}"
                " ORDER BY started_at DESC LIMIT ?",
                (*params, limit),
            ).fetchall()
        )
        return [_audit_record(row) for row in rows]

    async def purge_audit(self, older_than: dt.datetime) -> int:
        cursor = await self._run(
            lambda c: c.execute(
                "DELETE FROM audit_consultations WHERE started_at < ?", (older_than.isoformat(),)
            )
        )
        return int(cursor.rowcount)

    # -- status pushes -----------------------------------------------------------------------

    async def record_push(self, push: StatusPush) -> None:
        await self._run(
            lambda c: c.execute(
                "INSERT INTO status_pushes (upload_id, job_id, dossier_id, tenant, status,"
                " pushed_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (upload_id) DO NOTHING",
                (push.upload_id, push.job_id, push.dossier_id, push.tenant, push.status,
                 push.pushed_at.isoformat()),
            )
        )

    async def pending_pushes(self, limit: int = 100) -> list[StatusPush]:
        return await self._select_pushes("WHERE result IS NULL", (), limit)

    async def push(self, upload_id: str) -> StatusPush | None:
        found = await self._select_pushes("WHERE upload_id = ?", (upload_id,), 1)
        return found[0] if found else None

    async def set_push_result(self, upload_id: str, result: str, reason: str | None) -> None:
        await self._run(
            lambda c: c.execute(
                "UPDATE status_pushes SET result = ?, reason = ? WHERE upload_id = ?",
                (result, reason, upload_id),
            )
        )

    async def pushes(self, *, dossier_id: str | None = None, result: str | None = None,
                     limit: int = 1000) -> list[StatusPush]:
        clauses, params = [], []
        for column, value in (("dossier_id", dossier_id), ("result", result)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return await self._select_pushes(where, tuple(params), limit)

    async def _select_pushes(
        self, where: str, params: tuple[object, ...], limit: int
    ) -> list[StatusPush]:
        rows = await self._run(
            lambda c: c.execute(
                "SELECT upload_id, job_id, dossier_id, tenant, status, pushed_at, result, reason"
                f" FROM status_pushes {where} ORDER BY pushed_at, rowid LIMIT ?",
                (*params, limit),
            ).fetchall()
        )
        return [
            StatusPush(r[0], r[1], r[2], r[3], r[4], dt.datetime.fromisoformat(r[5]), r[6], r[7])
            for r in rows
        ]

    # -- dead letters ------------------------------------------------------------------------

    async def add_dead_letter(self, letter: DeadLetter) -> int:
        cursor = await self._run(
            lambda c: c.execute(
                f"INSERT INTO dead_letters ({_DL_COLS})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (letter.received_at.isoformat(), letter.reason, letter.error, letter.message_id,
                 letter.correlation_id, letter.reply_to, letter.headers, letter.body,
                 letter.state, letter.handled_by),
            )
        )
        return int(cursor.lastrowid or 0)

    async def dead_letters(self, *, state: str | None = None, reason: str | None = None,
                           limit: int = 500) -> list[DeadLetter]:
        clauses, params = [], []
        for column, value in (("state", state), ("reason", reason)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = await self._run(
            lambda c: c.execute(
                f"SELECT id, {_DL_COLS} FROM dead_letters {where} ORDER BY id DESC LIMIT ?",
                (*params, limit),
            ).fetchall()
        )
        return [_dead_letter(r) for r in rows]

    async def dead_letter(self, letter_id: int) -> DeadLetter | None:
        row = await self._run(
            lambda c: c.execute(
                f"SELECT id, {_DL_COLS} FROM dead_letters WHERE id = ?", (letter_id,)
            ).fetchone()
        )
        return _dead_letter(row) if row else None

    async def mark_dead_letter(self, letter_id: int, state: str, operator: str) -> None:
        now = dt.datetime.now(dt.UTC).isoformat()
        await self._run(
            lambda c: c.execute(
                "UPDATE dead_letters SET state = ?, handled_by = ?, handled_at = ? WHERE id = ?",
                (state, operator, now, letter_id),
            )
        )

    async def forget_outcome(self, job_id: str) -> None:
        await self._run(lambda c: c.execute("DELETE FROM job_outcomes WHERE job_id = ?",
                                            (job_id,)))


def _dead_letter(row: tuple[Any, ...]) -> DeadLetter:
    return DeadLetter(row[0], dt.datetime.fromisoformat(row[1]), row[2], row[3], row[4], row[5],
                      row[6], row[7], bytes(row[8]), row[9], row[10])


def _audit_record(row: tuple[object, ...]) -> AuditRecord:
    values = dict(zip(AUDIT_COLUMNS, row, strict=True))
    for key in ("started_at", "finished_at"):
        raw = values[key]
        values[key] = dt.datetime.fromisoformat(raw) if isinstance(raw, str) else None
    return AuditRecord(**values)  # type: ignore[arg-type]
