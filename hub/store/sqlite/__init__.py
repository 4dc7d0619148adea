"""SQLite store: one connection used from one dedicated thread, so the event loop never blocks.

By concern: ``connection`` (threads, checkpoints), ``schema`` (tables and upgrades), ``jobs``,
``audit``, ``requests`` (the register and saved searches), ``statuses``, ``letters``; ``files``
keeps the database its owner's only.
"""

from __future__ import annotations

from hub.store.sqlite.store import SqliteStore

__all__ = ["SqliteStore"]
