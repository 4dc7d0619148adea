"""The SQLite store, put together from its concerns (each a module of this package)."""

from __future__ import annotations

from hub.store.sqlite.audit import SqliteAudit
from hub.store.sqlite.jobs import SqliteJobs
from hub.store.sqlite.letters import SqliteLetters
from hub.store.sqlite.requests import SqliteRequests
from hub.store.sqlite.statuses import SqliteStatuses

__all__ = ["SqliteStore"]


class SqliteStore(SqliteJobs, SqliteAudit, SqliteRequests, SqliteStatuses, SqliteLetters):
    """The embedded default: a file, no server. Claims are serialised by the single connection
    thread; searches read beside it on a connection of their own."""
