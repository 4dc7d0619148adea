"""HTTP hygiene of the admin server: JSON errors, security headers, checked input.

Every answer is JSON with an ``error`` message when something is wrong (400 for bad input, 404
for an unknown id or path, 405, 413, 415 …), and no input an operator (or anyone) can send makes
the server answer 500: input is checked here before it reaches the store. A 500 is kept for a
genuine bug; it is logged with its traceback and says nothing about the inside.

Every response carries a strict Content-Security-Policy (no inline script or style, no framing)
and the other browser headers, whatever route or error produced it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Collection, Mapping
from typing import Any, NoReturn

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

__all__ = [
    "MAX_ID",
    "SECURITY_HEADERS",
    "bad_request",
    "checked_text",
    "handle_errors",
    "json_error",
    "json_object_body",
    "not_found",
    "path_id",
    "query_choice",
    "query_limit",
    "query_text",
    "query_time",
    "query_whole",
    "set_security_headers",
]

log = structlog.get_logger(__name__)

MAX_ID = 2**63 - 1  # ids are BIGSERIAL (PostgreSQL) / INTEGER (SQLite): both signed 64-bit
MAX_QUERY_TEXT = 512

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}
# C0 controls (tab, newline and carriage return included: no query value needs them) and DEL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def json_error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def bad_request(message: str) -> NoReturn:
    raise web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


def not_found(message: str) -> NoReturn:
    raise web.HTTPNotFound(text=json.dumps({"error": message}), content_type="application/json")


async def set_security_headers(_: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: every response, including errors and the 401."""
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value


def _is_json(response: web.HTTPException) -> bool:
    return response.content_type == "application/json"


@web.middleware
async def handle_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost: an HTTP error becomes a JSON message; anything else is logged, answered 500."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or _is_json(exc):
            raise
        message = {
            404: f"no such path: {request.path}",
            405: f"{request.method} is not allowed on {request.path}",
            413: "the request body is too large",
        }.get(exc.status, exc.reason)
        headers = {k: v for k, v in exc.headers.items()
                   if k.lower() in {"allow", "www-authenticate"}}
        return web.json_response({"error": message}, status=exc.status, headers=headers)
    except Exception:
        log.exception("admin.request.failed", method=request.method, path=request.path)
        return json_error(500, "the admin server failed on this request (see its log)")


# -- input -------------------------------------------------------------------------------------


def checked_text(name: str, value: str) -> str:
    if len(value) > MAX_QUERY_TEXT:
        bad_request(f"{name}: longer than {MAX_QUERY_TEXT} characters")
    if _CONTROL.search(value):
        bad_request(f"{name}: control characters are not allowed")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        bad_request(f"{name}: not valid UTF-8")
    return value


Params = web.Request | Mapping[str, str]
"""Where parameters come from: a request's query, or a saved search's filters."""


def _params(source: Params) -> Mapping[str, str]:
    return source.query if isinstance(source, web.Request) else source


def query_text(request: Params, name: str) -> str | None:
    """A free-text query parameter; absent or empty is ``None``."""
    value = _params(request).get(name)
    return checked_text(name, value) if value else None


def query_choice(request: Params, name: str, choices: Collection[str]) -> str | None:
    value = query_text(request, name)
    if value is not None and value not in choices:
        bad_request(f"{name}: {value!r} is not one of {', '.join(sorted(choices))}")
    return value


def _whole(value: str) -> bool:
    """ASCII digits only, and few enough that ``int()`` takes them (it refuses 4,300+)."""
    return value.isascii() and value.isdigit() and len(value) <= 20


def query_limit(request: Params, *, default: int, maximum: int) -> int:
    value = _params(request).get("limit")
    if not value:
        return default
    if not _whole(value) or not 1 <= int(value) <= maximum:
        bad_request(f"limit: expected a whole number from 1 to {maximum}, got {value[:40]!r}")
    return int(value)


def query_time(request: Params, name: str, *, end_of_day: bool = False) -> dt.datetime | None:
    """An ISO 8601 date or date-time (UTC when no offset is given).

    A date alone means the start of that day, or with ``end_of_day`` the start of the next (so
    that ``to=2026-03-01`` includes the first of March).
    """
    value = query_text(request, name)
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        bad_request(f"{name}: {value!r} is not an ISO 8601 date or date-time "
                    "(e.g. 2026-03-01 or 2026-03-01T08:00:00+01:00)")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        moment = moment.astimezone(dt.UTC)
        if end_of_day and "T" not in value.upper() and " " not in value:
            moment += dt.timedelta(days=1)
    except OverflowError:
        bad_request(f"{name}: {value!r} is out of range")
    return moment


def query_whole(request: Params, name: str) -> int | None:
    """A whole number (0 up to :data:`MAX_ID`); absent or empty is ``None``."""
    value = query_text(request, name)
    if value is None:
        return None
    if not _whole(value) or int(value) > MAX_ID:
        bad_request(f"{name}: expected a whole number, got {value[:40]!r}")
    return int(value)


def path_id(request: web.Request, name: str = "id") -> int:
    raw = request.match_info[name]
    if not _whole(raw) or not 1 <= int(raw) <= MAX_ID:
        bad_request(f"{name}: expected a positive whole number, got {raw[:40]!r}")
    return int(raw)


async def json_object_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object; no body is ``{}``. Anything else is a 400 that says why."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        bad_request("the body is not UTF-8")
    try:
        data = json.loads(text)
    except ValueError as exc:
        bad_request(f"the body is not JSON: {exc}")
    except RecursionError:
        bad_request("the body is JSON nested too deep")
    if not isinstance(data, dict):
        bad_request(f"the body must be a JSON object, not {type(data).__name__}")
    return data
