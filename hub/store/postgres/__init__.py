"""PostgreSQL store for several workers: claims are one atomic upsert each.

By concern: ``connection`` (the pool, paged reads), ``schema`` (tables, upgrades, the claim),
``jobs``, ``audit``, ``requests`` (the register and saved searches), ``statuses``, ``letters``.
"""

from __future__ import annotations

from hub.store.postgres.store import PostgresStore

__all__ = ["PostgresStore"]
