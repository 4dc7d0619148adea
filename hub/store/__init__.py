"""The outcome store: idempotency of jobs (one consultation, one result per job id).

SQLite by default (a file, no server); PostgreSQL when the store URL is ``postgresql://…``, for
several workers on several machines. :func:`open_store` picks one from the URL.
"""

from __future__ import annotations

from hub.store.base import Claim, ClaimState, OutcomeStore
from hub.store.factory import open_store

__all__ = ["Claim", "ClaimState", "OutcomeStore", "open_store"]
