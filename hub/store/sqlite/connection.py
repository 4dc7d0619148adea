"""The SQLite store's connection: one, used from one dedicated thread, so the event loop never
blocks; write-ahead-log checkpoints on a second connection and thread."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import structlog

from hub.store import sql
from hub.store.queries import Page
from hub.store.sqlite.files import COMPANIONS, narrow, prepare_private_files
from hub.store.sqlite.schema import migrate

__all__ = ["DIALECT", "SqliteBase"]

log = structlog.get_logger("hub.store.sqlite")
# About 16 MB of write-ahead log (4 KiB pages) before the writer restarts it.
_WAL_RESTART_PAGES = 4096
T = TypeVar("T")


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()  # the audit's times: text order is time order


def _iso_text(text: str) -> str:
    dt.datetime.fromisoformat(text)  # a ValueError for anything else
    return text


DIALECT = sql.Dialect(
    mark="?", audit_time=_iso, job_time=lambda moment: moment.timestamp(), ilike="LIKE",
    audit_cursor=_iso_text, job_cursor=float,
    cursor_text=lambda value: value if isinstance(value, str) else repr(value),
)


class SqliteBase:
    """The connection, its thread and the checkpoints; the concerns build on :meth:`_run`."""

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
        # Searches (an operator's, an export's) read on a connection and thread of their own:
        # a search that scans never holds up a job's writes (WAL lets readers beside the writer).
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-search")
        self._read_conn: sqlite3.Connection | None = None

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._conn
        if conn is None:
            raise RuntimeError("store is not open")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, conn)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run a read-only ``fn`` on the search connection (the main one for ``:memory:``)."""
        conn = self._read_conn
        if conn is None:
            return await self._run(fn)
        return await asyncio.get_running_loop().run_in_executor(self._reader, fn, conn)

    async def _page(self, search: sql.Search, order: tuple[int, int],
                    convert: Callable[[tuple[Any, ...]], T]) -> Page[T]:
        def run(conn: sqlite3.Connection) -> tuple[list[tuple[Any, ...]], int | None]:
            conn.execute("BEGIN")  # one snapshot for the page and its count
            try:
                rows = conn.execute(search.select, search.select_params).fetchall()
                if search.count is None:
                    return rows, None
                return rows, int(conn.execute(search.count, search.count_params).fetchone()[0])
            finally:
                conn.execute("COMMIT")

        rows, total = await self._read(run)
        return sql.page_of(rows, total, search, DIALECT, order, convert)

    async def open(self) -> None:
        def connect() -> sqlite3.Connection:
            if str(self._path) != ":memory:":
                prepare_private_files(self._path)
            conn = sqlite3.connect(
                str(self._path), check_same_thread=False, isolation_level=None, timeout=30
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            migrate(conn)
            if self._checkpoints_apart:
                conn.execute("PRAGMA wal_autocheckpoint=0")
            if str(self._path) != ":memory:":
                for suffix in COMPANIONS:  # made now, from the database's mode: a check
                    narrow(self._path.with_name(self._path.name + suffix))
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
        if str(self._path) != ":memory:":
            self._read_conn = await loop.run_in_executor(
                self._reader,
                lambda: sqlite3.connect(str(self._path), check_same_thread=False,
                                        isolation_level=None, timeout=30),
            )

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
        if self._read_conn is not None:
            reader = self._read_conn
            await asyncio.get_running_loop().run_in_executor(self._reader, reader.close)
            self._read_conn = None
        self._reader.shutdown(wait=True)
        if self._conn is not None:
            await self._run(lambda c: c.close())
            self._conn = None
        self._executor.shutdown(wait=True)

    async def ping(self) -> None:
        await self._run(lambda c: c.execute("SELECT 1").fetchone())
