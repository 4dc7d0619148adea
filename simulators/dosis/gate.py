"""What every API call goes through: the down window, injected faults, the bearer token; and the
error bodies (DOSIS ``{code, message, description, errors}``, OAuth ``{error, error_description}``).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web

from simulators.dosis.faults import TRANSPORT_KINDS
from simulators.dosis.state import STATE
from simulators.dosis.tokens import AccessToken, BearerError
from simulators.dosis.validation import FieldError

__all__ = ["authorize", "dosis_error", "guarded", "oauth_error", "read_json", "validation_error"]

Handler = Callable[[web.Request], Awaitable[web.Response]]

_CODES = {
    400: "VALIDATIE_FOUT",
    401: "NIET_GEAUTHENTICEERD",
    403: "NIET_GEAUTORISEERD",
    404: "NIET_GEVONDEN",
    415: "ONGELDIG_MEDIATYPE",
    500: "INTERNE_FOUT",
    503: "NIET_BESCHIKBAAR",
}
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def dosis_error(
    status: int,
    description: str,
    errors: Iterable[FieldError] = (),
    headers: dict[str, str] | None = None,
) -> web.Response:
    """A DOSIS error body: ``{code, message, description, errors: [{field, message}]}``."""
    body = {
        "code": _CODES[status],
        "message": _TITLES[status],
        "description": description,
        "errors": list(errors),
    }
    return web.json_response(body, status=status, headers=headers)


def validation_error(errors: list[FieldError]) -> web.Response:
    """400 listing every field problem."""
    return dosis_error(400, f"{len(errors)} validatiefout(en)", errors)


def oauth_error(status: int, error: str, description: str) -> web.Response:
    """An RFC 6749 §5.2 error body."""
    return web.json_response({"error": error, "error_description": description}, status=status,
                             headers={"Cache-Control": "no-store"})


async def read_json(request: web.Request) -> Any | web.Response:
    """The request's JSON document, or a 415/400 response when it has none."""
    if request.content_type != "application/json":
        return dosis_error(415, f"Content-Type moet application/json zijn, niet "
                                f"{request.content_type}")
    try:
        return await request.json(loads=_strict_loads)
    except ValueError as exc:  # bad JSON, bad UTF-8, or NaN/Infinity
        return dosis_error(400, f"geen geldig JSON-document: {exc}")


def _strict_loads(text: str) -> Any:
    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is geen JSON")

    return json.loads(text, parse_constant=refuse)


def guarded(endpoint: str, *, oauth: bool = False) -> Callable[[Handler], Handler]:
    """Wrap a handler with the down window and the transport faults of ``endpoint``.

    With ``oauth`` (the token endpoint) failures use the OAuth error body.
    """

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def handle(request: web.Request) -> web.Response:
            state = request.app[STATE]
            remaining = state.down_for()
            if remaining is not None:
                return _unavailable(oauth, "de dienst is tijdelijk niet beschikbaar",
                                    retry_after=math.ceil(remaining))
            rule = state.faults.take(endpoint, TRANSPORT_KINDS)
            if rule is not None and rule.kind == "http-503":
                return _unavailable(oauth, "gesimuleerde storing (503)")
            if rule is not None and rule.kind == "http-500":
                if oauth:
                    return oauth_error(500, "server_error", "gesimuleerde fout (500)")
                return dosis_error(500, "gesimuleerde fout (500)")
            if rule is not None and rule.kind == "http-404":
                return dosis_error(404, "gesimuleerde fout (404)")
            if rule is not None and rule.kind == "empty-200":
                return web.json_response({})
            response = await handler(request)
            if rule is not None and rule.kind == "timeout":
                # The work is done and recorded; only the answer is late, as when it is lost.
                await state.pause(rule.delay_ms)
            return response

        return handle

    return decorate


def _unavailable(oauth: bool, description: str, retry_after: int | None = None) -> web.Response:
    response = (oauth_error(503, "temporarily_unavailable", description) if oauth
                else dosis_error(503, description))
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def authorize(request: web.Request, scope: str) -> AccessToken | web.Response:
    """The caller's token when it is valid and holds ``scope``; else the 401/403 to answer."""
    try:
        return request.app[STATE].tokens.authorize(request.headers.get("Authorization"), scope)
    except BearerError as exc:
        challenge = ('Bearer error="invalid_token"' if exc.status == 401
                     else f'Bearer error="insufficient_scope", scope="{exc.scope}"')
        return dosis_error(exc.status, exc.message, headers={"WWW-Authenticate": challenge})
