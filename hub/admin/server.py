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
from collections.abc import Collection
from typing import Any

import structlog
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from hub.admin import deadletters, guard, page, searches
from hub.admin.auth import TokenBook, require_operator
from hub.admin.ports import HUB, AdminHub, BrokerUnavailable
from hub.breaker import BreakerState
from hub.metrics import HubMetrics

__all__ = ["HUB", "AdminHub", "create_admin_app", "start_admin_server"]

log = structlog.get_logger(__name__)


METRICS = web.AppKey("metrics", HubMetrics)
QUEUE_DEPTH_TIMEOUT_S = 5.0
"""How long a scrape waits for the broker's queue depths before it answers without them."""
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
    await _sample_queue_depths(hub, registry)
    return web.Response(body=generate_latest(registry.registry),
                        headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _sample_queue_depths(hub: AdminHub, registry: HubMetrics) -> None:
    """Every queue's depth, read now; the scrape still answers when the broker does not."""
    try:
        depths = await asyncio.wait_for(hub.broker.queue_depths(), QUEUE_DEPTH_TIMEOUT_S)
    except (BrokerUnavailable, TimeoutError) as exc:
        log.warning("metrics.queue_depths_unavailable", error=type(exc).__name__)
        registry.queue_depth_up.set(0)
        return
    for depth in depths:
        if depth.messages is not None:
            registry.queue_messages.labels(queue=depth.queue, kind=depth.kind).set(
                depth.messages)
            registry.queue_consumers.labels(queue=depth.queue, kind=depth.kind).set(
                depth.consumers or 0)
    registry.queue_depth_up.set(1)


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
    """Every queue of the topology (work, retry, poll, outbox, dead letters, back office)."""
    try:
        depths = await request.app[HUB].broker.queue_depths()
    except BrokerUnavailable as exc:
        return guard.json_error(503, str(exc))
    return web.json_response([depth.to_dict() for depth in depths])


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
    app.add_routes(deadletters.routes)
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
