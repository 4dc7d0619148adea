"""The SQLite store's jobs: claims, leases, results, and what retention removes of them."""

from __future__ import annotations

import json
import sqlite3
import time

from hub.store.base import Claim, ClaimState
from hub.store.register import outcome_of, registered
from hub.store.sqlite.connection import SqliteBase
from hub.store.sqlite.schema import PURGE

__all__ = ["SqliteJobs"]


class SqliteJobs(SqliteBase):
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
                    entry = registered(message)
                    conn.execute(
                        "INSERT INTO job_outcomes (job_id, state, owner, lease_until, created_at,"
                        " message, fingerprint, updated_at, job_type, product_id, tenant,"
                        " dossier_id, applicant) VALUES (?, 'in-progress', ?, ?, ?, ?, ?, ?,"
                        " ?, ?, ?, ?, ?)",
                        (job_id, owner, now + lease_s, now, message, fingerprint, now,
                         *(entry.values() if entry else (None,) * 5)),
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
                            conn.execute(PURGE + " WHERE job_id = ?", (now, job_id))
                        return Claim(ClaimState.EXPIRED)
                    return Claim(ClaimState.DONE, bytes(result), bool(published))
                if state == "in-progress" and lease_until > now:
                    return Claim(ClaimState.BUSY)
                if state == "waiting" and not continuation:
                    return Claim(ClaimState.WAITING, bytes(interim) if interim else None)
                conn.execute(
                    "UPDATE job_outcomes SET state = 'in-progress', owner = ?, lease_until = ?,"
                    " message = COALESCE(?, message), updated_at = ? WHERE job_id = ?",
                    (owner, now + lease_s, message, now, job_id),
                )
                return Claim(ClaimState.ACQUIRED, journal=json.loads(journal) if journal else {})
            finally:
                conn.execute("COMMIT")

        return await self._run(claim)

    async def release(self, job_id: str, owner: str, *, due_in_s: float | None = None) -> None:
        # A job with a journal waits for its next poll; one without starts over. A released
        # job's lease_until says when its next attempt is due (for take_overdue).
        now = time.time()
        due = None if due_in_s is None else now + due_in_s
        await self._run(
            lambda c: c.execute(
                "UPDATE job_outcomes SET owner = NULL, updated_at = ?,"
                " lease_until = CASE WHEN journal IS NULL THEN ? END,"
                " state = CASE WHEN journal IS NULL THEN 'released' ELSE 'waiting' END"
                " WHERE job_id = ? AND owner = ? AND state = 'in-progress'",
                (now, due, job_id, owner),
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
        now = time.time()
        due = None if due_in_s is None else now + due_in_s
        await self._run(
            lambda c: c.execute(
                "UPDATE job_outcomes SET state = 'waiting', owner = NULL, lease_until = ?,"
                " journal = ?, interim = ?, outcome = ?, updated_at = ?"
                " WHERE job_id = ? AND owner = ?",
                (due, json.dumps(journal), interim, outcome_of(interim), now, job_id, owner),
            )
        )

    async def complete(self, job_id: str, owner: str, result: bytes) -> None:
        now = time.time()
        await self._run(
            lambda c: c.execute(
                "INSERT INTO job_outcomes (job_id, state, owner, result, created_at, completed_at,"
                " outcome, updated_at) VALUES (?, 'done', ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (job_id) DO UPDATE SET state = 'done', owner = excluded.owner,"
                " result = excluded.result, completed_at = excluded.completed_at,"
                " outcome = excluded.outcome, updated_at = excluded.updated_at,"
                " lease_until = NULL WHERE job_outcomes.state <> 'done'",
                (job_id, owner, result, now, now, outcome_of(result), now),
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
            PURGE + " WHERE state = 'done' AND created_at < ? AND purged_at IS NULL",
            (time.time(), created_before)))
        return int(cursor.rowcount)

    async def forget_jobs(self, created_before: float) -> int:
        cursor = await self._run(lambda c: c.execute(
            "DELETE FROM job_outcomes WHERE state = 'done' AND created_at < ?",
            (created_before,)))
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

    async def forget_outcome(self, job_id: str) -> None:
        await self._run(lambda c: c.execute("DELETE FROM job_outcomes WHERE job_id = ?",
                                            (job_id,)))
