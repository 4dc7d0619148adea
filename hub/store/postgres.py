"""PostgreSQL store for several workers: claims are one atomic upsert each."""

from __future__ import annotations

import datetime as dt

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

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

__all__ = ["PostgresStore"]

_STARTED = ", ".join(AUDIT_COLUMNS[:STARTED_COLUMNS])
_DL_COLS = (
    "received_at, reason, error, message_id, correlation_id, reply_to, headers, body, state,"
    " handled_by"
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS job_outcomes (
    job_id       TEXT PRIMARY KEY,
    state        TEXT NOT NULL,
    owner        TEXT,
    lease_until  TIMESTAMPTZ,
    result       BYTEA,
    published    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    completed_at TIMESTAMPTZ
);
ALTER TABLE job_outcomes ADD COLUMN IF NOT EXISTS journal JSONB;
ALTER TABLE job_outcomes ADD COLUMN IF NOT EXISTS interim BYTEA;
ALTER TABLE job_outcomes ADD COLUMN IF NOT EXISTS message BYTEA;
ALTER TABLE job_outcomes ADD COLUMN IF NOT EXISTS fingerprint TEXT;
ALTER TABLE job_outcomes ADD COLUMN IF NOT EXISTS purged_at TIMESTAMPTZ;
CREATE INDEX IF NOT EXISTS outcomes_by_age ON job_outcomes (state, created_at);
CREATE TABLE IF NOT EXISTS task_leases (
    name  TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until TIMESTAMPTZ NOT NULL
);
ALTER TABLE job_outcomes DROP CONSTRAINT IF EXISTS job_outcomes_state_check;
ALTER TABLE job_outcomes ADD CONSTRAINT job_outcomes_state_check
    CHECK (state IN ('in-progress', 'released', 'waiting', 'done'));
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
    started_at            TIMESTAMPTZ NOT NULL,
    decided_by            TEXT,
    finished_at           TIMESTAMPTZ,
    outcome               TEXT,
    reply_reference       TEXT,
    duration_ms           DOUBLE PRECISION
);
ALTER TABLE audit_consultations ADD COLUMN IF NOT EXISTS decided_by TEXT;
CREATE TABLE IF NOT EXISTS status_pushes (
    upload_id  TEXT PRIMARY KEY,
    seq        BIGSERIAL,
    job_id     TEXT NOT NULL,
    dossier_id TEXT NOT NULL,
    tenant     TEXT NOT NULL,
    status     TEXT NOT NULL,
    pushed_at  TIMESTAMPTZ NOT NULL,
    result     TEXT,
    reason     TEXT
);
CREATE INDEX IF NOT EXISTS pushes_pending ON status_pushes (result, pushed_at);
CREATE TABLE IF NOT EXISTS dead_letters (
    id             BIGSERIAL PRIMARY KEY,
    received_at    TIMESTAMPTZ NOT NULL,
    reason         TEXT NOT NULL,
    error          TEXT,
    message_id     TEXT,
    correlation_id TEXT,
    reply_to       TEXT,
    headers        TEXT NOT NULL,
    body           BYTEA NOT NULL,
    state          TEXT NOT NULL DEFAULT 'new',
    handled_by     TEXT,
    handled_at     TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS audit_by_job ON audit_consultations (job_id);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit_consultations (started_at);
"""

# Take the row when it is new, released, its lease ran out, or (for its own poll) waiting;
# otherwise leave it untouched and RETURNING yields nothing, which tells us to read why.
_CLAIM = """
INSERT INTO job_outcomes (job_id, state, owner, lease_until, message, fingerprint)
VALUES (%(job_id)s, 'in-progress', %(owner)s, now() + make_interval(secs => %(lease)s),
        %(message)s, %(fingerprint)s)
ON CONFLICT (job_id) DO UPDATE
   SET state = 'in-progress', owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until,
       message = COALESCE(EXCLUDED.message, job_outcomes.message),
       fingerprint = COALESCE(job_outcomes.fingerprint, EXCLUDED.fingerprint)
 WHERE (job_outcomes.state = 'released'
        OR (job_outcomes.state = 'in-progress' AND job_outcomes.lease_until < now())
        OR (job_outcomes.state = 'waiting' AND %(continuation)s))
   AND (job_outcomes.fingerprint IS NULL OR EXCLUDED.fingerprint IS NULL
        OR job_outcomes.fingerprint = EXCLUDED.fingerprint)
RETURNING job_id, journal
"""
# What retention removes of a done job (see SqliteStore): the row stays as a tombstone.
_PURGE = ("UPDATE job_outcomes SET result = NULL, message = NULL, journal = NULL,"
          " interim = NULL, purged_at = now()")


class PostgresStore:
    def __init__(self, dsn: str, *, max_size: int = 10) -> None:
        self._pool = AsyncConnectionPool(dsn, min_size=1, max_size=max_size, open=False)

    async def open(self) -> None:
        await self._pool.open(wait=True, timeout=15)
        async with self._pool.connection() as conn:
            # Several workers may start at once; the advisory lock keeps DDL from racing.
            await conn.execute("SELECT pg_advisory_xact_lock(7240431)")
            await conn.execute(_SCHEMA)

    async def close(self) -> None:
        await self._pool.close()

    async def ping(self) -> None:
        async with self._pool.connection() as conn:
            await conn.execute("SELECT 1")

    async def claim(
        self, job_id: str, owner: str, lease_s: float, *, continuation: bool = False,
        message: bytes | None = None, fingerprint: str | None = None,
        expired_before: float | None = None,
    ) -> Claim:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                _CLAIM,
                {"job_id": job_id, "owner": owner, "lease": lease_s,
                 "continuation": continuation, "message": message,
                 "fingerprint": fingerprint},
            )
            taken = await cursor.fetchone()
            if taken is not None:
                return Claim(ClaimState.ACQUIRED, journal=dict(taken[1] or {}))
            cursor = await conn.execute(
                "SELECT state, result, published, interim, fingerprint,"
                " extract(epoch FROM created_at) FROM job_outcomes WHERE job_id = %s",
                (job_id,),
            )
            row = await cursor.fetchone()
            if row is None:
                return Claim(ClaimState.BUSY)
            state, result, published, interim, bound, created_at = row
            if fingerprint is not None and bound is not None and bound != fingerprint:
                return Claim(ClaimState.CONFLICT)
            if fingerprint is not None and bound is None:
                await conn.execute(
                    "UPDATE job_outcomes SET fingerprint = %s"
                    " WHERE job_id = %s AND fingerprint IS NULL", (fingerprint, job_id))
            if state == "done":
                if result is None or (expired_before is not None
                                      and float(created_at) < expired_before):
                    if result is not None:
                        await conn.execute(_PURGE + " WHERE job_id = %s", (job_id,))
                    return Claim(ClaimState.EXPIRED)
                return Claim(ClaimState.DONE, bytes(result), bool(published))
        if state == "waiting":
            return Claim(ClaimState.WAITING, bytes(interim) if interim else None)
        return Claim(ClaimState.BUSY)

    async def release(self, job_id: str, owner: str, *, due_in_s: float | None = None) -> None:
        # A job with a journal waits for its next poll; one without starts over. A released
        # job's lease_until says when its next attempt is due (for take_overdue).
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE job_outcomes SET owner = NULL,"
                " lease_until = CASE WHEN journal IS NULL AND %s::float8 IS NOT NULL"
                "   THEN now() + make_interval(secs => %s::float8) END,"
                " state = CASE WHEN journal IS NULL THEN 'released' ELSE 'waiting' END"
                " WHERE job_id = %s AND owner = %s AND state = 'in-progress'",
                (due_in_s, due_in_s, job_id, owner),
            )

    async def take_overdue(self, grace_s: float, hold_s: float, limit: int = 100
                           ) -> list[tuple[str, str, bytes]]:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "UPDATE job_outcomes SET lease_until = now() + make_interval(secs => %s)"
                " WHERE job_id IN (SELECT job_id FROM job_outcomes"
                "   WHERE state IN ('in-progress', 'released', 'waiting')"
                "   AND message IS NOT NULL"
                "   AND lease_until < now() - make_interval(secs => %s)"
                "   ORDER BY lease_until LIMIT %s FOR UPDATE SKIP LOCKED)"
                " RETURNING job_id, state, message",
                (hold_s, grace_s, limit),
            )
            return [(str(job_id), str(state), bytes(message))
                    for job_id, state, message in await cursor.fetchall()]

    async def suspend(
        self, job_id: str, owner: str, *, journal: dict[str, object], interim: bytes,
        due_in_s: float | None = None,
    ) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE job_outcomes SET state = 'waiting', owner = NULL,"
                " lease_until = CASE WHEN %s::float8 IS NOT NULL"
                "   THEN now() + make_interval(secs => %s::float8) END,"
                " journal = %s, interim = %s WHERE job_id = %s AND owner = %s",
                (due_in_s, due_in_s, Jsonb(journal), interim, job_id, owner),
            )

    async def complete(self, job_id: str, owner: str, result: bytes) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO job_outcomes (job_id, state, owner, result, completed_at)"
                " VALUES (%s, 'done', %s, %s, now())"
                " ON CONFLICT (job_id) DO UPDATE SET state = 'done', owner = EXCLUDED.owner,"
                " result = EXCLUDED.result, completed_at = now(), lease_until = NULL"
                " WHERE job_outcomes.state <> 'done'",
                (job_id, owner, result),
            )

    async def mark_published(self, job_id: str) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE job_outcomes SET published = TRUE WHERE job_id = %s", (job_id,)
            )

    async def result(self, job_id: str) -> bytes | None:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT result FROM job_outcomes WHERE job_id = %s AND state = 'done'", (job_id,)
            )
            row = await cursor.fetchone()
        return bytes(row[0]) if row and row[0] is not None else None

    # -- retention and maintenance -----------------------------------------------------------

    async def purge_results(self, created_before: float) -> int:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                _PURGE + " WHERE state = 'done' AND created_at < to_timestamp(%s)"
                " AND purged_at IS NULL", (created_before,))
            return cursor.rowcount

    async def forget_jobs(self, created_before: float) -> int:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "DELETE FROM job_outcomes WHERE state = 'done'"
                " AND created_at < to_timestamp(%s)", (created_before,))
            return cursor.rowcount

    async def purge_dead_letters(self, received_before: dt.datetime) -> int:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "DELETE FROM dead_letters WHERE received_at < %s", (received_before,))
            return cursor.rowcount

    async def take_lease(self, name: str, owner: str, ttl_s: float) -> bool:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "INSERT INTO task_leases (name, owner, until)"
                " VALUES (%s, %s, now() + make_interval(secs => %s))"
                " ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner,"
                " until = EXCLUDED.until"
                " WHERE task_leases.until < now() OR task_leases.owner = EXCLUDED.owner"
                " RETURNING name", (name, owner, ttl_s))
            return await cursor.fetchone() is not None

    # -- audit -------------------------------------------------------------------------------

    async def consultation_started(self, consultation: Consultation) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                f"INSERT INTO audit_consultations ({_STARTED})"
                f" VALUES ({', '.join(['%s'] * STARTED_COLUMNS)})"
                " ON CONFLICT (reference) DO NOTHING",
                consultation_row(consultation),
            )

    async def consultation_finished(
        self, reference: str, *, outcome: str, reply_reference: str | None, duration_ms: float
    ) -> None:
        async with self._pool.connection() as conn:
            # Only the first completion counts: the audit is append-only from the hub's side.
            await conn.execute(
                "UPDATE audit_consultations SET outcome = %s, reply_reference = %s,"
                " duration_ms = %s, finished_at = now() WHERE reference = %s AND outcome IS NULL",
                (store_safe_text(outcome),
                 None if reply_reference is None else store_safe_text(reply_reference),
                 duration_ms, store_safe_text(reference)),
            )

    async def abandon_open_consultations(self, job_id: str) -> int:
        return await self._abandon("job_id = %s", store_safe_text(job_id))

    async def abandon_stale_consultations(self, started_before: dt.datetime) -> int:
        return await self._abandon("started_at < %s", started_before)

    async def _abandon(self, where: str, value: object) -> int:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "UPDATE audit_consultations SET outcome = %s, finished_at = now()"
                f" WHERE {where} AND outcome IS NULL",
                (ABANDONED, value),
            )
            return cursor.rowcount

    async def audit_records(
        self, *, job_id: str | None = None, tenant: str | None = None, limit: int = 1000
    ) -> list[AuditRecord]:
        clauses: list[str] = []
        params: list[object] = []
        for column, value in (("job_id", job_id), ("tenant", tenant)):
            if value is not None:
                clauses.append(f"{column} = %s")
                params.append(store_safe_text(value))  # as it was stored
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit_consultations{where}"
                " ORDER BY started_at DESC LIMIT %s",
                (*params, limit),
            )
            rows = await cursor.fetchall()
        return [AuditRecord(**dict(zip(AUDIT_COLUMNS, row, strict=True))) for row in rows]

    async def purge_audit(self, older_than: dt.datetime) -> int:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "DELETE FROM audit_consultations WHERE started_at < %s", (older_than,)
            )
            return cursor.rowcount

    # -- status pushes -----------------------------------------------------------------------

    async def record_push(self, push: StatusPush) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO status_pushes (upload_id, job_id, dossier_id, tenant, status,"
                " pushed_at) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (upload_id) DO NOTHING",
                (push.upload_id, push.job_id, push.dossier_id, push.tenant, push.status,
                 push.pushed_at),
            )

    async def pending_pushes(self, limit: int = 100) -> list[StatusPush]:
        return await self._select_pushes("WHERE result IS NULL", (), limit)

    async def push(self, upload_id: str) -> StatusPush | None:
        found = await self._select_pushes("WHERE upload_id = %s", (upload_id,), 1)
        return found[0] if found else None

    async def set_push_result(self, upload_id: str, result: str, reason: str | None) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE status_pushes SET result = %s, reason = %s WHERE upload_id = %s",
                (result, reason, upload_id),
            )

    async def pushes(self, *, dossier_id: str | None = None, result: str | None = None,
                     limit: int = 1000) -> list[StatusPush]:
        clauses: list[str] = []
        params: list[object] = []
        for column, value in (("dossier_id", dossier_id), ("result", result)):
            if value is not None:
                clauses.append(f"{column} = %s")
                params.append(value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return await self._select_pushes(where, tuple(params), limit)

    async def _select_pushes(
        self, where: str, params: tuple[object, ...], limit: int
    ) -> list[StatusPush]:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "SELECT upload_id, job_id, dossier_id, tenant, status, pushed_at, result, reason"
                f" FROM status_pushes {where} ORDER BY seq LIMIT %s",
                (*params, limit),
            )
            rows = await cursor.fetchall()
        return [StatusPush(*row) for row in rows]

    # -- dead letters ------------------------------------------------------------------------

    async def add_dead_letter(self, letter: DeadLetter) -> int:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                f"INSERT INTO dead_letters ({_DL_COLS})"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (letter.received_at, letter.reason, letter.error, letter.message_id,
                 letter.correlation_id, letter.reply_to, letter.headers, letter.body,
                 letter.state, letter.handled_by),
            )
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def dead_letters(self, *, state: str | None = None, reason: str | None = None,
                           limit: int = 500) -> list[DeadLetter]:
        clauses: list[str] = []
        params: list[object] = []
        for column, value in (("state", state), ("reason", reason)):
            if value is not None:
                clauses.append(f"{column} = %s")
                params.append(value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                f"SELECT id, {_DL_COLS} FROM dead_letters {where} ORDER BY id DESC LIMIT %s",
                (*params, limit),
            )
            rows = await cursor.fetchall()
        return [DeadLetter(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bytes(r[8]), r[9],
                           r[10]) for r in rows]

    async def dead_letter(self, letter_id: int) -> DeadLetter | None:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                f"SELECT id, {_DL_COLS} FROM dead_letters WHERE id = %s", (letter_id,)
            )
            r = await cursor.fetchone()
        return DeadLetter(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bytes(r[8]), r[9],
                          r[10]) if r else None

    async def mark_dead_letter(self, letter_id: int, state: str, operator: str) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE dead_letters SET state = %s, handled_by = %s, handled_at = now()"
                " WHERE id = %s",
                (state, operator, letter_id),
            )

    async def forget_outcome(self, job_id: str) -> None:
        async with self._pool.connection() as conn:
            await conn.execute("DELETE FROM job_outcomes WHERE job_id = %s", (job_id,))
