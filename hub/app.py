"""Wiring: settings → store, adapters, signer, pipeline, worker. Used by the CLI and the tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass

import structlog

from adapters.population import PopulationAdapter
from hub.config import Settings, load_tenants
from hub.documents.xml_signature import XmlDocumentSigner
from hub.errors import ConfigurationError
from hub.pipeline import Pipeline
from hub.ports import Clock, SystemClock
from hub.registry import AdapterRegistry
from hub.store import OutcomeStore, open_store
from hub.worker import Worker

__all__ = ["Hub", "build_registry", "running_hub"]

log = structlog.get_logger(__name__)


def build_registry(settings: Settings) -> AdapterRegistry:
    """Every back end the hub serves. Adding one is one line here plus its package."""
    registry = AdapterRegistry()
    registry.register(PopulationAdapter(settings.magda, settings.backend("population")))
    return registry


@dataclass
class Hub:
    settings: Settings
    store: OutcomeStore
    registry: AdapterRegistry
    worker: Worker


@asynccontextmanager
async def running_hub(settings: Settings, *, clock: Clock | None = None) -> AsyncIterator[Hub]:
    """Open the store, start adapters, build the worker; close everything on exit.

    The caller runs ``hub.worker.run()``; it is not started here so tests can control it.
    """
    tenants = load_tenants(settings.tenants_dir)
    if not tenants:
        raise ConfigurationError(f"no tenants configured in {settings.tenants_dir}")
    signer = XmlDocumentSigner(settings.documents.signing_key, settings.documents.signing_cert)
    registry = build_registry(settings)
    store = await open_store(settings.store.url)
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="documents")
    try:
        await registry.start_all()
        pipeline = Pipeline(
            registry=registry,
            tenants=tenants,
            signer=signer,
            clock=clock or SystemClock(),
            document_pool=pool,
        )
        worker = Worker(
            settings, pipeline=pipeline, store=store, capabilities=registry.capabilities
        )
        yield Hub(settings=settings, store=store, registry=registry, worker=worker)
    finally:
        await registry.close_all()
        await store.close()
        pool.shutdown(wait=True)
