"""The PostgreSQL store's status pushes to the citizen profile, and what DOSIS made of them."""

from __future__ import annotations

from hub.store.base import StatusPush
from hub.store.postgres.connection import PostgresBase
from hub.store.sql import where_equal

__all__ = ["PostgresStatuses"]


class PostgresStatuses(PostgresBase):
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
        where, params = where_equal("%s", dossier_id=dossier_id, result=result)
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
