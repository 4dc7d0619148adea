"""The JSON control API tests and the demo use to steer a running simulator (``/_control``)."""

from __future__ import annotations

from aiohttp import web

from simulators.control import bad_request, json_body, parse_rules
from simulators.magda.faults import SIGNING_FAULT_KINDS, FaultRuleError, parse_fault_rule
from simulators.magda.state import STATE

__all__ = ["control_routes"]

routes = web.RouteTableDef()


@routes.get("/_control/health")
async def health(request: web.Request) -> web.Response:
    """Liveness: 200 while the simulator runs."""
    state = request.app[STATE]
    return web.json_response({"status": "ok", "services": sorted(state.services)})


@routes.post("/_control/faults")
async def add_faults(request: web.Request) -> web.Response:
    """Queue one rule (an object) or several (a list), consumed in order."""
    state = request.app[STATE]
    body = await json_body(request)
    rules = parse_rules(body, lambda item: parse_fault_rule(item, state.services), FaultRuleError)
    if isinstance(rules, web.Response):
        return rules
    needing = sorted({rule.kind for rule in rules if rule.kind in SIGNING_FAULT_KINDS})
    if state.signer is None and needing:
        return bad_request(f"{', '.join(needing)} needs reply signing (reply_signing)")
    for rule in rules:
        state.faults.add(rule)
    return web.json_response({"pending": state.faults.pending()}, status=201)


@routes.get("/_control/faults")
async def list_faults(request: web.Request) -> web.Response:
    """The rules not yet consumed."""
    return web.json_response({"pending": request.app[STATE].faults.pending()})


@routes.delete("/_control/faults")
async def clear_faults(request: web.Request) -> web.Response:
    """Drop every pending rule."""
    return web.json_response({"cleared": request.app[STATE].faults.clear()})


@routes.post("/_control/latency")
async def set_latency(request: web.Request) -> web.Response:
    """Set the delay added to every SOAP call: ``{"latency_ms": 200}``."""
    body = await json_body(request)
    value = body.get("latency_ms") if isinstance(body, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        return bad_request("latency_ms must be an integer >= 0")
    request.app[STATE].latency_ms = value
    return web.json_response({"latency_ms": value})


@routes.get("/_control/calls")
async def list_calls(request: web.Request) -> web.Response:
    """Every call that got past parsing, oldest first."""
    return web.json_response([call.to_json() for call in request.app[STATE].calls])


@routes.delete("/_control/calls")
async def clear_calls(request: web.Request) -> web.Response:
    """Forget the calls log."""
    calls = request.app[STATE].calls
    count = len(calls)
    calls.clear()
    return web.json_response({"cleared": count})


@routes.get("/_control/concurrency")
async def concurrency(request: web.Request) -> web.Response:
    """SOAP requests being answered now and the most at once since the last reset."""
    state = request.app[STATE]
    return web.json_response({"in_progress": state.in_progress,
                              "peak": state.peak_in_progress})


@routes.delete("/_control/concurrency")
async def reset_peak(request: web.Request) -> web.Response:
    """Start counting the peak again from the requests in progress now."""
    state = request.app[STATE]
    state.peak_in_progress = state.in_progress
    return web.json_response({"in_progress": state.in_progress,
                              "peak": state.peak_in_progress})


@routes.get("/_control/registrations")
async def list_registrations(request: web.Request) -> web.Response:
    """Every repertorium registration, oldest first."""
    registrations = request.app[STATE].repertorium.registrations()
    return web.json_response([registration.to_json() for registration in registrations])


@routes.delete("/_control/registrations")
async def clear_registrations(request: web.Request) -> web.Response:
    """Forget every repertorium registration."""
    return web.json_response({"cleared": request.app[STATE].repertorium.clear()})


@routes.get("/_control/strafregister")
async def list_extracts(request: web.Request) -> web.Response:
    """The progress model and every criminal-record extract with its status, oldest first."""
    return web.json_response(request.app[STATE].strafregister.to_json())


@routes.post("/_control/strafregister")
async def set_progress(request: web.Request) -> web.Response:
    """Set ``{"ready_after_polls": n, "police_check_polls": m}`` (either or both)."""
    body = await json_body(request)
    keys = ("ready_after_polls", "police_check_polls")
    if not isinstance(body, dict) or not body or set(body) - set(keys):
        return bad_request("expected an object with ready_after_polls and/or police_check_polls")
    strafregister = request.app[STATE].strafregister
    try:
        strafregister.configure(**{key: body.get(key) for key in keys})
    except ValueError as exc:
        return bad_request(str(exc))
    return web.json_response({key: getattr(strafregister, key) for key in keys})


@routes.delete("/_control/strafregister")
async def clear_extracts(request: web.Request) -> web.Response:
    """Forget every extract (numbers already given out are not given out again)."""
    return web.json_response({"cleared": request.app[STATE].strafregister.clear()})


control_routes = routes
