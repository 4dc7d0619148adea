"""The SQLite store's register of requests and the searches staff save."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from typing import Any

from hub.store import sql
from hub.store.queries import Page, RequestQuery, RequestRecord, SavedFilter
from hub.store.register import request_record
from hub.store.sqlite.connection import DIALECT, SqliteBase

__all__ = ["SqliteRequests"]


class SqliteRequests(SqliteBase):
    async def search_requests(self, query: RequestQuery) -> Page[RequestRecord]:
        search = sql.request_search(query, DIALECT)
        return await self._page(search, sql.REQUEST_ORDER, request_record)

    async def save_filter(self, saved: SavedFilter) -> int:
        now = dt.datetime.now(dt.UTC).isoformat()

        def save(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                f"INSERT INTO saved_filters ({sql.FILTER_COLUMNS})"
                " VALUES (NULL, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, owner, name) DO UPDATE"
                " SET shared = excluded.shared, filters = excluded.filters,"
                " saved_at = excluded.saved_at RETURNING id",
                (saved.kind, saved.name, saved.owner, int(saved.shared),
                 json.dumps(saved.filters), now)).fetchone()
            return int(row[0])

        return await self._run(save)

    async def saved_filters(self, kind: str, operator: str) -> list[SavedFilter]:
        rows = await self._run(lambda c: c.execute(
            f"SELECT {sql.FILTER_COLUMNS} FROM saved_filters WHERE kind = ?"
            " AND (owner = ? OR shared = 1) ORDER BY name, owner, id",
            (kind, operator)).fetchall())
        return [_saved(row) for row in rows]

    async def delete_filter(self, filter_id: int, owner: str) -> bool:
        cursor = await self._run(lambda c: c.execute(
            "DELETE FROM saved_filters WHERE id = ? AND owner = ?", (filter_id, owner)))
        return cursor.rowcount == 1


def _saved(row: tuple[Any, ...]) -> SavedFilter:
    filter_id, kind, name, owner, shared, filters, saved_at = row
    return SavedFilter(kind, name, owner, bool(shared), json.loads(filters), int(filter_id),
                       dt.datetime.fromisoformat(saved_at))
