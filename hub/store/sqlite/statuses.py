"""The SQLite store's status pushes to the citizen profile, and what DOSIS made of them."""

from __future__ import annotations

import datetime as dt

from hub.store.base import StatusPush
from hub.store.sql import where_equal
from hub.store.sqlite.connection import SqliteBase

__all__ = ["SqliteStatuses"]


class SqliteStatuses(SqliteBase):
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
        where, params = where_equal("?", dossier_id=dossier_id, result=result)
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
