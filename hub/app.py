"""Wiring: settings → store, adapters, signer, pipeline, worker. Used by the CLI and the tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass

import structlog

from adapters.population import PopulationAdapter
from hub.breaker import CircuitBreaker
from hub.config import Settings, TenantSettings, load_tenants
from hub.documents.xml_signature import XmlDocumentSigner
from hub.errors import ConfigurationError
from hub.pipeline import Pipeline
from hub.ports import Clock, SystemClock
from hub.registry import AdapterRegistry
from hub.store import OutcomeStore, open_store
from hub.worker import Worker

__all__ = ["Hub", "build_breakers", "build_registry", "running_hub"]

log = structlog.get_logger(__name__)


def build_registry(settings: Settings, tenants: dict[str, TenantSettings]) -> AdapterRegistry:
    """Every back end the hub serves. Adding one is one line here plus its package."""
    registry = AdapterRegistry()
    registry.register(
        PopulationAdapter(settings.magda, settings.backend("population"), tenants)
    )
    return registry


def build_breakers(settings: Settings, registry: AdapterRegistry) -> dict[str, CircuitBreaker]:
    breakers = {}
    for adapter in registry:
        backend = settings.backend(adapter.name)
        breakers[adapter.name] = CircuitBreaker(
            adapter.name,
            failure_threshold=backend.breaker_failure_threshold,
            reset_timeout_s=backend.breaker_reset_timeout_s,
            half_open_max_calls=backend.breaker_half_open_calls,
        )
    return breakers


@dataclass
class Hub:
    settings: Settings
    store: OutcomeStore
    registry: AdapterRegistry
    worker: Worker
    breakers: dict[str, CircuitBreaker]


@asynccontextmanager
async def running_hub(settings: Settings, *, clock: Clock | None = None) -> AsyncIterator[Hub]:
    """Open the store, start adapters, build the worker; close everything on exit.

    The caller runs ``hub.worker.run()``; it is not started here so tests can control it.
    """
    tenants = load_tenants(settings.tenants_dir)
    if not tenants:
        raise ConfigurationError(f"no tenants configured in {settings.tenants_dir}")
    signer = XmlDocumentSigner(settings.documents.signing_key, settings.documents.signing_cert)
    registry = build_registry(settings, tenants)
    breakers = build_breakers(settings, registry)
    store = await open_store(settings.store.url)
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="documents")
    try:
        await registry.start_all()
        retention = dt.timedelta(days=round(365.25 * settings.audit.retention_years))
        purged = await store.purge_audit(dt.datetime.now(dt.UTC) - retention)
        if purged:
            log.info("audit.purged", records=purged, retention_years=settings.audit.retention_years)
        pipeline = Pipeline(
            registry=registry,
            tenants=tenants,
            signer=signer,
            clock=clock or SystemClock(),
            document_pool=pool,
            audit=store,
            breakers=breakers,
        )
        worker = Worker(
            settings, pipeline=pipeline, store=store, capabilities=registry.capabilities
        )
        yield Hub(
            settings=settings, store=store, registry=registry, worker=worker, breakers=breakers
        )
    finally:
        await registry.close_all()
        await store.close()
        pool.shutdown(wait=True)
