"""The admin HTTP server of one worker: health, Prometheus metrics, a JSON API for operators.

    GET  /health/live              no token: the process answers
    GET  /health/ready             broker consuming, store reachable, breakers, certificates
    GET  /metrics                  Prometheus text format
    GET  /api/adapters             each back end: job types, breaker state
    GET  /api/queues               depth and consumers of every queue the hub serves
    GET  /api/audit                consultations by period, job type, tenant, requester (or
                                   acting person), subject, purpose, MAGDA reference, outcome;
                                   paged by cursor; ?format=csv or xlsx exports every match
    GET  /api/requests             the register of requests handled: type, product, tenant,
                                   dossier, outcome, state; paged; ?format=xlsx for a report
    GET  /api/saved-filters        saved searches (?kind=audit|requests); POST to save one,
                                   DELETE …/{id} to delete your own (hub.admin.searches)
    GET  /api/dead-letters[/{id}]  dead letters; POST …/{id}/replay, …/replay, …/{id}/discard
    GET  /api/session              the operator signed in and the CSRF token for the page
    GET  /api/status-pushes        uploads to the citizen profile and what DOSIS made of them;
                                   ?result=refused|accepted|unconfirmed|pending, ?dossier_id=
    GET  /                         the web page: adapters, queues, dead letters, audit search
Every admin action is logged with the operator's name. State changes are refused from another
site (``hub.admin.auth``); input is checked and every error is JSON (``hub.admin.guard``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any, Protocol

import aio_pika
import structlog
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from hub.admin import guard, page, searches
from hub.admin.auth import TokenBook, require_operator
from hub.breaker import BreakerState, CircuitBreaker
from hub.config import Settings
from hub.metrics import HubMetrics
from hub.registry import AdapterRegistry
from hub.store import OutcomeStore

__all__ = ["HUB", "AdminHub", "create_admin_app", "start_admin_server"]

log = structlog.get_logger(__name__)


class RunningWorker(Protocol):
    @property
    def ready(self) -> asyncio.Event: ...

    @property
    def in_flight(self) -> int: ...


class AdminHub(Protocol):
    """What the admin reads of a running hub; the composition root (``hub.app.Hub``) gives it.

    The admin imports no wiring: whatever it shows comes in through this object.
    """

    @property
    def settings(self) -> Settings: ...

    @property
    def store(self) -> OutcomeStore: ...

    @property
    def registry(self) -> AdapterRegistry: ...

    @property
    def breakers(self) -> Mapping[str, CircuitBreaker]:
        """One per back end, by its name."""

    @property
    def worker(self) -> RunningWorker: ...

    def expiring_certificates(self) -> dict[str, dt.datetime]: ...

    def queue_names(self) -> list[str]: ...

    def serve_dead_letters(self, app: web.Application) -> None: ...


HUB = web.AppKey("hub", AdminHub)
METRICS = web.AppKey("metrics", HubMetrics)
_BREAKER_VALUE = {BreakerState.CLOSED: 0.0, BreakerState.HALF_OPEN: 0.5, BreakerState.OPEN: 1.0}


async def live(_: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


async def ready(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    checks: dict[str, Any] = {"broker": hub.worker.ready.is_set()}
    try:
        await hub.store.ping()
        checks["store"] = True
    except Exception as exc:
        checks["store"] = False
        checks["store_error"] = type(exc).__name__
    checks["breakers"] = {name: b.state.value for name, b in hub.breakers.items()}
    expiring = hub.expiring_certificates()
    checks["certificates_expiring"] = {ref: at.isoformat() for ref, at in expiring.items()}
    ok = bool(checks["broker"] and checks["store"])
    return web.json_response({"ready": ok, **checks}, status=200 if ok else 503)


async def metrics(request: web.Request) -> web.Response:
    hub, registry = request.app[HUB], request.app[METRICS]
    for name, breaker in hub.breakers.items():
        registry.breaker_state.labels(backend=name).set(_BREAKER_VALUE[breaker.state])
    registry.in_flight.set(hub.worker.in_flight)
    return web.Response(body=generate_latest(registry.registry),
                        headers={"Content-Type": CONTENT_TYPE_LATEST})


async def adapters(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    listed = []
    for adapter in hub.registry:
        # An adapter is as well as the worst of the back ends it calls (several adapters can
        # share one back end, and so its breaker).
        breakers = hub.registry.breakers_of(adapter.name)
        worst = max(breakers, key=lambda b: _BREAKER_VALUE[b.state], default=None)
        listed.append({
            "name": adapter.name,
            "job_types": sorted(adapter.job_types),
            "backends": [b.name for b in breakers],
            "breaker": worst.state.value if worst is not None else BreakerState.CLOSED.value,
            "consecutive_failures": max((b.consecutive_failures for b in breakers), default=0),
            "times_opened": sum(b.times_opened for b in breakers),
        })
    return web.json_response(listed)


async def queues(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    names = hub.queue_names()
    depths = []
    try:
        connection = await aio_pika.connect(hub.settings.broker.url, timeout=10)
    except (OSError, TimeoutError, aio_pika.exceptions.AMQPError) as exc:
        return guard.json_error(503, f"the broker cannot be reached: {type(exc).__name__}")
    async with connection:
        for name in names:
            channel = await connection.channel()
            try:
                queue = await channel.declare_queue(name, passive=True)
                result = queue.declaration_result
                depths.append({"queue": name, "messages": result.message_count,
                               "consumers": result.consumer_count})
            except aio_pika.exceptions.ChannelClosed:
                depths.append({"queue": name, "missing": True})
    return web.json_response(depths)


PUSH_RESULTS = frozenset({"refused", "accepted", "unconfirmed", "pending"})


async def status_pushes(request: web.Request) -> web.Response:
    """Uploads to DOSIS, newest last: pending until read back, then accepted or refused with
    DOSIS's reasons."""
    hub = request.app[HUB]
    wanted = guard.query_choice(request, "result", PUSH_RESULTS)
    dossier = guard.query_text(request, "dossier_id")
    if wanted == "pending":
        pushes = await hub.store.pending_pushes(limit=1000)
    else:
        pushes = await hub.store.pushes(dossier_id=dossier, result=wanted or None)
    return web.json_response([
        {"upload_id": p.upload_id, "job_id": p.job_id, "dossier_id": p.dossier_id,
         "tenant": p.tenant, "status": p.status, "pushed_at": p.pushed_at.isoformat(),
         "result": p.result or "pending", "reason": p.reason}
        for p in pushes if dossier is None or p.dossier_id == dossier
    ])


def create_admin_app(hub: AdminHub, book: TokenBook, registry: HubMetrics, *,
                     origins: Collection[str] = ()) -> web.Application:
    """``origins``: more origins the admin is reached as (a TLS proxy in front of it)."""
    app = web.Application(middlewares=[guard.handle_errors,
                                       require_operator(book, origins=origins)])
    app.on_response_prepare.append(guard.set_security_headers)
    app[HUB] = hub
    app[METRICS] = registry
    app.router.add_get("/health/live", live)
    app.router.add_get("/health/ready", ready)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/adapters", adapters)
    app.router.add_get("/api/queues", queues)
    app[searches.STORE] = hub.store
    app.add_routes(searches.routes)
    app.router.add_get("/api/status-pushes", status_pushes)
    hub.serve_dead_letters(app)
    app.add_routes(page.routes)
    return app


async def start_admin_server(
    hub: AdminHub, book: TokenBook, registry: HubMetrics, *, host: str, port: int,
    origins: Collection[str] = (),
) -> tuple[web.AppRunner, int]:
    """Start serving; returns the runner (``await runner.cleanup()`` to stop) and the port."""
    runner = web.AppRunner(create_admin_app(hub, book, registry, origins=origins),
                           access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    addresses = runner.addresses
    bound = int(addresses[0][1]) if addresses else port
    log.info("admin.listening", host=host, port=bound)
    return runner, bound
