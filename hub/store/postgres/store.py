"""The PostgreSQL store, put together from its concerns (each a module of this package)."""

from __future__ import annotations

from hub.store.postgres.audit import PostgresAudit
from hub.store.postgres.jobs import PostgresJobs
from hub.store.postgres.letters import PostgresLetters
from hub.store.postgres.requests import PostgresRequests
from hub.store.postgres.statuses import PostgresStatuses

__all__ = ["PostgresStore"]


class PostgresStore(PostgresJobs, PostgresAudit, PostgresRequests, PostgresStatuses,
                    PostgresLetters):
    """For several workers on several machines: claims are one atomic upsert each."""
