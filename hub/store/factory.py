"""Choose the store implementation from the configured URL."""

from __future__ import annotations

from pathlib import Path

from hub.config import REPO_ROOT
from hub.errors import ConfigurationError
from hub.store.base import OutcomeStore

__all__ = ["open_store"]


async def open_store(url: str) -> OutcomeStore:
    """``sqlite:///relative/or/absolute.db``, ``sqlite:///:memory:`` or ``postgresql://…``."""
    store: OutcomeStore
    if url.startswith("sqlite:///"):
        from hub.store.sqlite import SqliteStore

        raw = url.removeprefix("sqlite:///")
        path = Path(raw) if raw == ":memory:" or raw.startswith("/") else REPO_ROOT / raw
        store = SqliteStore(path)
    elif url.startswith(("postgresql://", "postgres://")):
        from hub.store.postgres import PostgresStore

        store = PostgresStore(url)
    else:
        scheme = url.split(":")[0]
        raise ConfigurationError(
            f"store.url must start with sqlite:/// or postgresql://, not {scheme}"
        )
    await store.open()
    return store
