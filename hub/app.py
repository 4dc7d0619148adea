"""Wiring: settings → store, adapters, document workers, pipeline, worker.

Used by the CLI and the tests. Everything that can be wrong in the configuration (keys, files,
tenants) fails here, before the first message is consumed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import structlog

from adapters.backoffice import BackofficeAdapter
from adapters.backoffice.routes import load_routes
from adapters.civil_status import CivilStatusAdapter
from adapters.criminal_record import CriminalRecordAdapter
from adapters.magda.client import ServiceSpec
from adapters.magda.services import MagdaServiceSet
from adapters.population import PopulationAdapter
from adapters.population.client import PopulationClients
from adapters.prefill import PrefillAdapter
from adapters.selfreg import SelfRegistrationAdapter
from hub import topology
from hub.backoffice_auth import TenantSecrets
from hub.breaker import BackendGate, CircuitBreaker
from hub.config import (
    BackendSettings,
    Settings,
    SigningSettings,
    TenantSettings,
    load_tenants,
    resolve_path,
)
from hub.contract_decoding import prepare_job_checks
from hub.documents.keys import SigningKeySpec
from hub.documents.levels import LongTermSpec
from hub.documents.pool import DocumentWorkers
from hub.errors import ConfigurationError
from hub.maintenance import Maintenance
from hub.metrics import HubMetrics, watch_event_loop
from hub.pipeline import Pipeline
from hub.ports import Clock, Consultation, SystemClock
from hub.registry import AdapterRegistry
from hub.runtime.operations import AmqpOperations
from hub.status.dosis import DosisClient
from hub.status.mapping import load_status_table
from hub.status.pusher import StatusPusher
from hub.store import OutcomeStore, open_store
from hub.worker import Worker

__all__ = [
    "Backends",
    "Hub",
    "build_backends",
    "build_registry",
    "pki_directory",
    "pki_served_by",
    "running_hub",
    "signing_identities",
]

log = structlog.get_logger(__name__)
DEFAULT_IDENTITY = "default"


BACKOFFICE_BREAKER_PREFIX = "backoffice."


def _gate(name: str, backend: BackendSettings) -> BackendGate:
    return BackendGate(_breaker(name, backend), backend.concurrency)


def _breaker(name: str, backend: BackendSettings) -> CircuitBreaker:
    return CircuitBreaker(
        name,
        failure_threshold=backend.breaker_failure_threshold,
        reset_timeout_s=backend.breaker_reset_timeout_s,
        half_open_max_calls=backend.breaker_half_open_calls,
    )


@dataclass
class Backends:
    """One client, one breaker and one concurrency limit per back end, shared by every adapter
    that calls it: the population register (population, prefill and back-office adapters),
    DABS (civil status), the criminal record, DOSIS (the status pusher) and each back office
    (by product).

    The MAGDA clients are opened here, once, not by the adapters that share them; DOSIS and
    the back offices get a :class:`~hub.breaker.BackendGate` (breaker and limit) each.
    """

    population: PopulationClients
    civil_status: MagdaServiceSet
    criminal_record: MagdaServiceSet
    dosis: BackendGate | None  # None: status.enabled is off
    backoffices: dict[str, BackendGate]

    @property
    def clients(self) -> tuple[MagdaServiceSet, ...]:
        return (self.population, self.civil_status, self.criminal_record)

    @property
    def breakers(self) -> dict[str, CircuitBreaker]:
        """Every back end's breaker by its name, one entry each (health, metrics, admin)."""
        named = {client.breaker.name: client.breaker for client in self.clients
                 if client.breaker is not None}
        gates = (*([self.dosis] if self.dosis else []), *self.backoffices.values())
        return named | {gate.name: gate.breaker for gate in gates}

    async def start(self) -> None:
        for client in self.clients:
            await client.start()

    async def close(self) -> None:
        for client in self.clients:
            await client.close()


def build_backends(settings: Settings, tenants: dict[str, TenantSettings]) -> Backends:
    def magda(name: str, specs: tuple[ServiceSpec, ...]) -> MagdaServiceSet:
        backend = settings.backend(name)
        return MagdaServiceSet(specs, settings.magda, backend, tenants,
                               breaker=_breaker(name, backend))

    population = settings.backend("population")
    routes = load_routes(settings.backoffice.routes_file)
    return Backends(
        population=PopulationClients(settings.magda, population, tenants,
                                     breaker=_breaker("population", population)),
        civil_status=magda("civil-status", CivilStatusAdapter.SERVICES),
        criminal_record=magda("criminal-record", CriminalRecordAdapter.SERVICES),
        dosis=_gate("dosis", settings.backend("dosis")) if settings.status.enabled else None,
        backoffices={
            product: _gate(BACKOFFICE_BREAKER_PREFIX + product, settings.backend("backoffice"))
            for product, route in sorted(routes.items()) if route.transport != "none"
        },
    )


def _guarded(client: MagdaServiceSet) -> tuple[CircuitBreaker, ...]:
    return (client.breaker,) if client.breaker is not None else ()


def build_registry(
    settings: Settings, tenants: dict[str, TenantSettings], backends: Backends | None = None
) -> AdapterRegistry:
    """Every back end the hub serves. Adding one is one line here plus its package."""
    backends = backends or build_backends(settings, tenants)
    population = _guarded(backends.population)
    registry = AdapterRegistry()
    registry.register(PopulationAdapter(
        settings.magda, settings.backend("population"), tenants, clients=backends.population,
    ), breakers=population)
    registry.register(CivilStatusAdapter(
        settings.magda, settings.backend("civil-status"), tenants,
        services=backends.civil_status,
    ), breakers=_guarded(backends.civil_status))
    registry.register(CriminalRecordAdapter(
        settings.magda, settings.backend("criminal-record"), tenants,
        services=backends.criminal_record,
    ), breakers=_guarded(backends.criminal_record))
    registry.register(BackofficeAdapter(
        settings.backoffice, broker_url=settings.broker.url, magda=settings.magda,
        backend=settings.backend("population"), tenants=tenants,
        population=backends.population, gates=backends.backoffices,
        answer_with=topology.action_address,
    ), breakers=population + tuple(gate.breaker for gate in backends.backoffices.values()))
    registry.register(PrefillAdapter(
        settings.magda, settings.backend("population"), tenants, population=backends.population,
    ), breakers=population)
    registry.register(SelfRegistrationAdapter())
    return registry


def _spec(signing: SigningSettings) -> SigningKeySpec:
    return SigningKeySpec(
        key=resolve_path(signing.key),
        cert=resolve_path(signing.cert),
        pkcs12=resolve_path(signing.pkcs12),
        password_file=resolve_path(signing.password_file),
        password_env=signing.password_env or None,
        long_term=LongTermSpec(
            level=signing.level, tsa_url=signing.tsa_url, ocsp_url=signing.ocsp_url,
            crl_url=signing.crl_url, trust_roots=resolve_path(signing.trust_roots),
            timeout_s=signing.timeout_s,
        ),
    )


def signing_identities(
    settings: Settings, tenants: dict[str, TenantSettings]
) -> tuple[dict[str, SigningKeySpec], dict[str, str]]:
    """The signing identities to load, and which one each tenant signs with.

    A tenant with its own ``[signing]`` table signs with its own key; the others with the
    ``[documents.signing]`` default. A tenant with neither is a start-up error.
    """
    specs: dict[str, SigningKeySpec] = {}
    refs: dict[str, str] = {}
    default = settings.documents.signing
    for slug, tenant in tenants.items():
        if tenant.signing.configured:
            specs[slug] = _spec(tenant.signing)
            refs[slug] = slug
        elif default.configured:
            specs[DEFAULT_IDENTITY] = _spec(default)
            refs[slug] = DEFAULT_IDENTITY
    missing = sorted(set(tenants) - set(refs))
    if missing:
        raise ConfigurationError(
            f"no document-signing key for tenant(s) {', '.join(missing)}: add a [signing] "
            "table to their file or configure [documents.signing]"
        )
    return specs, refs


class MeteredAudit:
    """The audit trail, also timing every back-end call for the metrics (by service)."""

    def __init__(self, store: OutcomeStore, metrics: HubMetrics) -> None:
        self._store = store
        self._metrics = metrics
        self._services: dict[str, str] = {}

    async def consultation_started(self, consultation: Consultation) -> None:
        self._services[consultation.reference] = consultation.service
        await self._store.consultation_started(consultation)

    async def consultation_finished(
        self, reference: str, *, outcome: str, reply_reference: str | None, duration_ms: float
    ) -> None:
        service = self._services.pop(reference, "unknown")
        self._metrics.backend_latency.labels(service=service, outcome=outcome.split(":")[0])\
            .observe(duration_ms / 1000)
        await self._store.consultation_finished(
            reference, outcome=outcome, reply_reference=reply_reference, duration_ms=duration_ms
        )


@dataclass
class Hub:
    settings: Settings
    store: OutcomeStore
    registry: AdapterRegistry
    worker: Worker
    breakers: dict[str, CircuitBreaker]  # one per back end, by its name
    documents: DocumentWorkers
    broker: AmqpOperations  # the admin's queue depths and replays
    status_pusher: StatusPusher | None = None
    metrics: HubMetrics = field(default_factory=HubMetrics)
    pipeline: Pipeline | None = None

    def expiring_certificates(self) -> dict[str, dt.datetime]:
        """Signing certificates that end within the warning period (for the health output)."""
        return self.documents.expiring(
            self.settings.documents.expiry_warning_days, dt.datetime.now(dt.UTC)
        )


def pki_served_by(tenants: dict[str, TenantSettings], base_url: str) -> dict[str, TenantSettings]:
    """The tenants with their TSA, OCSP and CRL addresses moved to ``base_url`` (same paths):
    how the demo and the tests point the tenants at a PKI simulator on a free port."""
    def moved(url: str) -> str:
        return base_url.rstrip("/") + urlsplit(url).path if url else url

    return {
        slug: dataclasses.replace(tenant, signing=dataclasses.replace(
            tenant.signing, tsa_url=moved(tenant.signing.tsa_url),
            ocsp_url=moved(tenant.signing.ocsp_url), crl_url=moved(tenant.signing.crl_url),
        ))
        for slug, tenant in tenants.items()
    }


def pki_directory(tenants: dict[str, TenantSettings]) -> Path | None:
    """Where the CA of the first tenant that needs time stamps lives (its trust roots' folder),
    or None when no tenant signs above B-B."""
    for tenant in tenants.values():
        if tenant.signing.level != "B-B" and tenant.signing.trust_roots:
            root = resolve_path(tenant.signing.trust_roots)
            return root.parent if root is not None else None
    return None


async def _status_pusher(
    settings: Settings, store: OutcomeStore, tenants: dict[str, TenantSettings],
    metrics: HubMetrics, stack: AsyncExitStack, gate: BackendGate | None,
) -> StatusPusher | None:
    """The citizen profile's pusher and its reconciler, when status pushes are enabled;
    ``gate``: DOSIS's breaker and concurrency limit."""
    if not settings.status.enabled:
        return None
    dosis = DosisClient(settings.status, gate=gate)
    await dosis.open()
    stack.push_async_callback(dosis.close)
    pusher = StatusPusher(settings.status, client=dosis, store=store, tenants=tenants,
                          table=load_status_table(), metrics=metrics)
    reconciler = asyncio.create_task(pusher.reconcile_forever())
    stack.callback(reconciler.cancel)
    return pusher


async def _background(
    settings: Settings, store: OutcomeStore, worker: Worker, metrics: HubMetrics,
    stack: AsyncExitStack,
) -> None:
    """The worker's recovery loop, the retention rounds and the event loop's lag watcher,
    cancelled on exit."""
    recovery = asyncio.create_task(worker.recover_forever())
    stack.callback(recovery.cancel)
    lag = asyncio.create_task(watch_event_loop(metrics))
    stack.callback(lag.cancel)
    maintenance = Maintenance(settings, store, worker.worker_id, metrics)
    # The first round before the first message: a worker that was down for a long time
    # replays nothing past its retention.
    await maintenance.run_once()
    retention = asyncio.create_task(maintenance.run_forever())
    stack.callback(retention.cancel)


@asynccontextmanager
async def running_hub(
    settings: Settings, *, clock: Clock | None = None,
    tenants: dict[str, TenantSettings] | None = None,
) -> AsyncIterator[Hub]:
    """Open the store, start adapters and document workers; close everything on exit.

    The caller runs ``hub.worker.run()``; it is not started here so tests can control it.
    ``tenants``: instead of those in ``settings.tenants_dir`` (e.g. :func:`pki_served_by`).
    """
    tenants = tenants if tenants is not None else load_tenants(settings.tenants_dir)
    if not tenants:
        raise ConfigurationError(f"no tenants configured in {settings.tenants_dir}")
    specs, signing_refs = signing_identities(settings, tenants)
    documents = DocumentWorkers(
        settings.documents.pool_size, specs,
        mode="thread" if settings.documents.pool_mode == "thread" else "process",
    )
    backends = build_backends(settings, tenants)
    registry = build_registry(settings, tenants, backends)
    store = await open_store(settings.store.url)
    metrics = HubMetrics()
    stack = AsyncExitStack()
    try:
        prepare_job_checks()
        await documents.start()
        await registry.start_all()  # checks every adapter's configuration first
        await backends.start()
        pipeline = Pipeline(
            registry=registry,
            tenants=tenants,
            documents=documents,
            signing_refs=signing_refs,
            clock=clock or SystemClock(),
            audit=MeteredAudit(store, metrics),
        )
        pusher = await _status_pusher(settings, store, tenants, metrics, stack, backends.dosis)
        secrets = TenantSecrets.from_files(
            {slug: tenant.backoffice_secret_path for slug, tenant in tenants.items()},
            max_age_s=settings.backoffice.signature_max_age_s,
            max_skew_s=settings.backoffice.signature_max_skew_s,
        )
        worker = Worker(
            settings, pipeline=pipeline, store=store, capabilities=registry.capabilities,
            status_pusher=pusher, metrics=metrics, secrets=secrets, tenants=sorted(tenants),
        )
        await _background(settings, store, worker, metrics, stack)
        operations = AmqpOperations(settings.broker.url, topology.declared_queues(
            registry.capabilities, settings.broker.retry_delays_s, settings.broker.poll_delays_s,
            approval_tenants=(sorted(tenants) if settings.backoffice.approval_queues
                              == "per-tenant" else None)))
        stack.push_async_callback(operations.close)
        hub = Hub(settings=settings, store=store, registry=registry, worker=worker,
                  breakers=backends.breakers, documents=documents, broker=operations,
                  status_pusher=pusher,
                  metrics=metrics, pipeline=pipeline)
        for ref, not_after in hub.expiring_certificates().items():
            log.warning("signing.certificate.expiring", identity=ref,
                        not_after=not_after.isoformat())
        yield hub
    finally:
        await stack.aclose()
        await registry.close_all()
        await backends.close()
        await store.close()
        documents.close()
