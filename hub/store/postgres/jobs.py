"""The PostgreSQL store's jobs: claims are one atomic upsert each; leases, results, and what
retention removes of them."""

from __future__ import annotations

from psycopg.types.json import Jsonb

from hub.store.base import Claim, ClaimState
from hub.store.postgres.connection import PostgresBase
from hub.store.postgres.schema import CLAIM, PURGE
from hub.store.register import outcome_of, registered

__all__ = ["PostgresJobs"]

_REGISTER = ("job_type", "product_id", "tenant", "dossier_id", "applicant")


def _register(message: bytes | None) -> dict[str, object]:
    """The register's columns of a job's first claim (None when the message is no job)."""
    entry = registered(message)
    return dict(zip(_REGISTER, entry.values() if entry else (None,) * 5, strict=True))


class PostgresJobs(PostgresBase):
    async def claim(
        self, job_id: str, owner: str, lease_s: float, *, continuation: bool = False,
        message: bytes | None = None, fingerprint: str | None = None,
        expired_before: float | None = None,
    ) -> Claim:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                CLAIM,
                {"job_id": job_id, "owner": owner, "lease": lease_s,
                 "continuation": continuation, "message": message,
                 "fingerprint": fingerprint, **_register(message)},
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
                        await conn.execute(PURGE + " WHERE job_id = %s", (job_id,))
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
                "UPDATE job_outcomes SET owner = NULL, updated_at = now(),"
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
                " journal = %s, interim = %s, outcome = %s, updated_at = now()"
                " WHERE job_id = %s AND owner = %s",
                (due_in_s, due_in_s, Jsonb(journal), interim, outcome_of(interim), job_id,
                 owner),
            )

    async def complete(self, job_id: str, owner: str, result: bytes) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO job_outcomes (job_id, state, owner, result, completed_at, outcome,"
                " updated_at) VALUES (%s, 'done', %s, %s, now(), %s, now())"
                " ON CONFLICT (job_id) DO UPDATE SET state = 'done', owner = EXCLUDED.owner,"
                " result = EXCLUDED.result, completed_at = now(), lease_until = NULL,"
                " outcome = EXCLUDED.outcome, updated_at = now()"
                " WHERE job_outcomes.state <> 'done'",
                (job_id, owner, result, outcome_of(result)),
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
                PURGE + " WHERE state = 'done' AND created_at < to_timestamp(%s)"
                " AND purged_at IS NULL", (created_before,))
            return cursor.rowcount

    async def forget_jobs(self, created_before: float) -> int:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "DELETE FROM job_outcomes WHERE state = 'done'"
                " AND created_at < to_timestamp(%s)", (created_before,))
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

    async def forget_outcome(self, job_id: str) -> None:
        async with self._pool.connection() as conn:
            await conn.execute("DELETE FROM job_outcomes WHERE job_id = %s", (job_id,))
