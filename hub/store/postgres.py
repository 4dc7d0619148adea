"""PostgreSQL store for several workers: claims are one atomic upsert each."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from hub.store.base import Claim, ClaimState

__all__ = ["PostgresStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS job_outcomes (
    job_id       TEXT PRIMARY KEY,
    state        TEXT NOT NULL CHECK (state IN ('in-progress', 'released', 'done')),
    owner        TEXT,
    lease_until  TIMESTAMPTZ,
    result       BYTEA,
    published    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    completed_at TIMESTAMPTZ
);
"""

# Take the row when it is new, released, or its lease ran out; otherwise leave it untouched
# and RETURNING yields nothing, which tells us to read why.
_CLAIM = """
INSERT INTO job_outcomes (job_id, state, owner, lease_until)
VALUES (%(job_id)s, 'in-progress', %(owner)s, now() + make_interval(secs => %(lease)s))
ON CONFLICT (job_id) DO UPDATE
   SET state = 'in-progress', owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until
 WHERE job_outcomes.state = 'released'
    OR (job_outcomes.state = 'in-progress' AND job_outcomes.lease_until < now())
RETURNING job_id
"""


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

    async def claim(self, job_id: str, owner: str, lease_s: float) -> Claim:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                _CLAIM, {"job_id": job_id, "owner": owner, "lease": lease_s}
            )
            if await cursor.fetchone() is not None:
                return Claim(ClaimState.ACQUIRED)
            cursor = await conn.execute(
                "SELECT state, result, published FROM job_outcomes WHERE job_id = %s", (job_id,)
            )
            row = await cursor.fetchone()
        if row is not None and row[0] == "done":
            return Claim(ClaimState.DONE, bytes(row[1]), bool(row[2]))
        return Claim(ClaimState.BUSY)

    async def release(self, job_id: str, owner: str) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE job_outcomes SET state = 'released', owner = NULL, lease_until = NULL"
                " WHERE job_id = %s AND owner = %s AND state = 'in-progress'",
                (job_id, owner),
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
        return bytes(row[0]) if row else None
