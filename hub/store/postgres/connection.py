"""The PostgreSQL store's connection pool, and how its searches read a page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from psycopg_pool import AsyncConnectionPool

from hub.store import sql
from hub.store.postgres.schema import SCHEMA
from hub.store.queries import Page

__all__ = ["DIALECT", "PostgresBase"]

T = TypeVar("T")


def _moment(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("a cursor's time has an offset")
    return moment


def _same(moment: dt.datetime) -> dt.datetime:
    return moment


DIALECT = sql.Dialect(
    mark="%s", audit_time=_same, job_time=_same, ilike="ILIKE", audit_cursor=_moment,
    job_cursor=_moment,
    cursor_text=lambda value: value.isoformat() if isinstance(value, dt.datetime) else str(value),
)


class PostgresBase:
    """The connection pool; the concerns build on it."""

    def __init__(self, dsn: str, *, max_size: int = 10) -> None:
        self._pool = AsyncConnectionPool(dsn, min_size=1, max_size=max_size, open=False)

    async def open(self) -> None:
        await self._pool.open(wait=True, timeout=15)
        async with self._pool.connection() as conn:
            # Several workers may start at once; the advisory lock keeps DDL from racing.
            await conn.execute("SELECT pg_advisory_xact_lock(7240431)")
            await conn.execute(SCHEMA)

    async def close(self) -> None:
        await self._pool.close()

    async def ping(self) -> None:
        async with self._pool.connection() as conn:
            await conn.execute("SELECT 1")

    async def _page(self, search: sql.Search, order: tuple[int, int],
                    convert: Callable[[tuple[Any, ...]], T]) -> Page[T]:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(search.select, search.select_params)
            rows = await cursor.fetchall()
            total = None
            if search.count is not None:
                cursor = await conn.execute(search.count, search.count_params)
                counted = await cursor.fetchone()
                total = int(counted[0]) if counted else 0
        return sql.page_of(rows, total, search, DIALECT, order, convert)
