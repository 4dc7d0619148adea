"""The JSON control API tests use to steer and inspect the simulated back office."""

from __future__ import annotations

from aiohttp import web

from simulators.backoffice.faults import FaultRuleError, parse_fault_rule
from simulators.backoffice.script import ScriptError, parse_script
from simulators.backoffice.state import STATE
from simulators.control import bad_request, json_body, parse_rules

__all__ = ["control_routes"]

routes = web.RouteTableDef()


@routes.get("/_control/health")
async def health(request: web.Request) -> web.Response:
    """Liveness, and whether answers go to a broker."""
    return web.json_response({"status": "ok", "broker": request.app[STATE].sink is not None})


@routes.get("/_control/requests")
async def list_requests(request: web.Request) -> web.Response:
    """Every request taken in, in arrival order."""
    requests = request.app[STATE].log.requests.values()
    return web.json_response([item.to_json() for item in requests])


@routes.get("/_control/refusals")
async def list_refusals(request: web.Request) -> web.Response:
    """Every refused attempt (bad signature, bad body), in order."""
    return web.json_response(request.app[STATE].log.refusals)


@routes.get("/_control/answers")
async def list_answers(request: web.Request) -> web.Response:
    """Every answer sent or attempted: routing key, body, delivery and error."""
    return web.json_response(request.app[STATE].answers)


@routes.get("/_control/script")
async def get_script(request: web.Request) -> web.Response:
    """The script new requests get."""
    return web.json_response({"actions": [s.to_json() for s in request.app[STATE].script]})


@routes.post("/_control/script")
async def set_script(request: web.Request) -> web.Response:
    """Replace the script for new requests: ``{"actions": ["received", {"action": …}, …]}``."""
    body = await json_body(request)
    actions = body.get("actions") if isinstance(body, dict) else None
    if not isinstance(actions, list):
        return bad_request('expected {"actions": [...]}')
    try:
        script = parse_script(actions)
    except ScriptError as exc:
        return bad_request(str(exc))
    state = request.app[STATE]
    state.script = script
    return web.json_response({"actions": [s.to_json() for s in script]})


@routes.post("/_control/requests/{request_id}/actions")
async def answer_now(request: web.Request) -> web.Response:
    """Send one action for a recorded request now: ``{"action": …, "message"?: …}``."""
    state = request.app[STATE]
    received = state.log.requests.get(request.match_info["request_id"])
    if received is None:
        return web.json_response({"error": "no such request"}, status=404)
    try:
        (step,) = parse_script([await json_body(request)])
    except ScriptError as exc:
        return bad_request(str(exc))
    state.answer_now(received.request, step)
    return web.json_response({"scheduled": step.to_json()}, status=202)


@routes.post("/_control/faults")
async def add_faults(request: web.Request) -> web.Response:
    """Queue one rule (an object) or several (a list): ``{"kind": "http-503", "times": 2}``."""
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


@routes.delete("/_control/state")
async def reset(request: web.Request) -> web.Response:
    """Forget requests, refusals, answers and faults; stop running scripts; default script."""
    return web.json_response({"cleared": await request.app[STATE].reset()})


control_routes = routes
