"""The PostgreSQL store's register of requests and the searches staff save."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from hub.store import sql
from hub.store.postgres.connection import DIALECT, PostgresBase
from hub.store.queries import Page, RequestQuery, RequestRecord, SavedFilter
from hub.store.register import request_record

__all__ = ["PostgresRequests"]


class PostgresRequests(PostgresBase):
    async def search_requests(self, query: RequestQuery) -> Page[RequestRecord]:
        return await self._page(sql.request_search(query, DIALECT), sql.REQUEST_ORDER,
                                request_record)

    async def save_filter(self, saved: SavedFilter) -> int:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "INSERT INTO saved_filters (kind, name, owner, shared, filters)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (kind, owner, name) DO UPDATE"
                " SET shared = EXCLUDED.shared, filters = EXCLUDED.filters, saved_at = now()"
                " RETURNING id",
                (saved.kind, saved.name, saved.owner, saved.shared, Jsonb(saved.filters)))
            row = await cursor.fetchone()
        assert row is not None
        return int(row[0])

    async def saved_filters(self, kind: str, operator: str) -> list[SavedFilter]:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                f"SELECT {sql.FILTER_COLUMNS} FROM saved_filters WHERE kind = %s"
                " AND (owner = %s OR shared) ORDER BY name, owner, id", (kind, operator))
            rows = await cursor.fetchall()
        return [_saved(row) for row in rows]

    async def delete_filter(self, filter_id: int, owner: str) -> bool:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                "DELETE FROM saved_filters WHERE id = %s AND owner = %s", (filter_id, owner))
            return cursor.rowcount == 1


def _saved(row: tuple[Any, ...]) -> SavedFilter:
    filter_id, kind, name, owner, shared, filters, saved_at = row
    return SavedFilter(kind, name, owner, bool(shared), dict(filters), int(filter_id), saved_at)
