"""``POST /requests``: a forwarded request over HTTP, signed with HMAC-SHA256."""

from __future__ import annotations

import json

from aiohttp import web

from hub.hmac_signing import SignatureRejected, verify
from simulators.backoffice.records import IntakeError, parse_forwarded
from simulators.backoffice.state import STATE

__all__ = ["REQUESTS_PATH", "api_routes"]

REQUESTS_PATH = "/requests"

routes = web.RouteTableDef()


def _error(status: int, reason: str, message: str) -> web.Response:
    return web.json_response({"error": reason, "message": message}, status=status)


@routes.post(REQUESTS_PATH)
async def post_request(request: web.Request) -> web.Response:
    """Check the signature, record the request, start the script; 202 with the request id.

    The same ``request_id`` again (a retry of the hub) is answered 202 with ``duplicate``
    true and opens no second case.
    """
    state = request.app[STATE]
    rule = state.faults.take()
    if rule is not None and rule.kind == "http-503":
        return _error(503, "unavailable", "simulated outage (503)")
    body = await request.read()
    try:
        signed_at = verify(body, state.settings.secret_for(_claimed_tenant(body)),
                           request.headers, tolerance_s=state.settings.tolerance_s)
    except SignatureRejected as exc:
        state.log.refuse("http", exc.reason, exc.message)
        response = _error(401, exc.reason, exc.message)
        response.headers["WWW-Authenticate"] = 'HMAC-SHA256 realm="loket-backoffice"'
        return response
    try:
        forwarded = parse_forwarded(body)
    except IntakeError as exc:
        state.log.refuse("http", exc.reason, exc.message)
        return _error(400, exc.reason, exc.message)
    received, new = state.take(forwarded, "http", signed_at)
    if rule is not None and rule.kind == "timeout":
        # The request is taken; only the answer is late, as when it is lost on the way back.
        await state.pause(rule.delay_ms)
    return web.json_response(
        {"request_id": forwarded.request_id, "received_at": received.received_at,
         "duplicate": not new},
        status=202,
    )


api_routes = routes


def _claimed_tenant(body: bytes) -> str:
    """The tenant a forward says it is for, to pick the secret that must have signed it."""
    try:
        tenant = json.loads(body).get("tenant")
    except (ValueError, AttributeError, RecursionError):
        return ""
    return tenant if isinstance(tenant, str) else ""
