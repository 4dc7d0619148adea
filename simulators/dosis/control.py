"""The JSON control API tests use to steer and inspect a running simulator (``/_control``)."""

from __future__ import annotations

import time

from aiohttp import web

from simulators.control import bad_request, json_body, parse_rules
from simulators.dosis.faults import FaultRuleError, parse_fault_rule
from simulators.dosis.state import STATE

__all__ = ["control_routes"]

routes = web.RouteTableDef()


@routes.get("/_control/health")
async def health(request: web.Request) -> web.Response:
    """Liveness: 200 while the simulator runs, even inside a down window."""
    state = request.app[STATE]
    return web.json_response({"status": "ok", "down": state.down_for() is not None,
                              "clients": state.tokens.clients})


@routes.get("/_control/dossiers")
async def list_dossiers(request: web.Request) -> web.Response:
    """Every accepted upload in arrival order, with its result (None until processed)."""
    now = time.monotonic()
    uploads = request.app[STATE].dossiers.uploads()
    return web.json_response([upload.control_json(now) for upload in uploads])


@routes.get("/_control/notifications")
async def list_notifications(request: web.Request) -> web.Response:
    """Every accepted notification in arrival order."""
    return web.json_response(request.app[STATE].notifications.to_json())


@routes.get("/_control/token-requests")
async def list_token_requests(request: web.Request) -> web.Response:
    """The form fields of the last 100 token requests, oldest first, refused ones too."""
    return web.json_response(list(request.app[STATE].token_requests))


@routes.post("/_control/faults")
async def add_faults(request: web.Request) -> web.Response:
    """Queue one rule (an object) or several (a list), consumed in order."""
    body = await json_body(request)
    rules = parse_rules(body, parse_fault_rule, FaultRuleError)
    if isinstance(rules, web.Response):
        return rules
    faults = request.app[STATE].faults
    for rule in rules:
        faults.add(rule)
    return web.json_response({"pending": faults.pending()}, status=201)


@routes.get("/_control/faults")
async def list_faults(request: web.Request) -> web.Response:
    """The rules not yet consumed."""
    return web.json_response({"pending": request.app[STATE].faults.pending()})


@routes.post("/_control/down")
async def go_down(request: web.Request) -> web.Response:
    """Answer 503 to every API call for ``{"seconds": s}`` (the control API stays up)."""
    body = await json_body(request)
    seconds = body.get("seconds") if isinstance(body, dict) else None
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds <= 0:
        return bad_request("seconds must be a number > 0")
    request.app[STATE].go_down(float(seconds))
    return web.json_response({"down": True, "seconds": seconds})


@routes.post("/_control/up")
async def go_up(request: web.Request) -> web.Response:
    """End a down window now."""
    request.app[STATE].go_up()
    return web.json_response({"down": False})


@routes.delete("/_control/tokens")
async def forget_tokens(request: web.Request) -> web.Response:
    """Drop every issued token, so the next API call with one gets 401 (as after expiry)."""
    return web.json_response({"cleared": request.app[STATE].tokens.forget_tokens()})


@routes.delete("/_control/state")
async def reset(request: web.Request) -> web.Response:
    """Forget uploads, notifications, tokens, used jtis and faults; end a down window."""
    return web.json_response({"cleared": request.app[STATE].reset()})


control_routes = routes
