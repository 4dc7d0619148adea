"""Bearer tokens for the admin server, from a file (``name:token`` per line), never logged.

No token file configured means no access at all (except liveness and the page shell with its
script and style): the safe default.

Reading needs the token, either in ``Authorization: Bearer …`` or in the ``loket_admin_token``
cookie the operator page keeps. A state-changing request (anything but GET, HEAD, OPTIONS) must
also not come from another site:

- with the ``Authorization`` header it is accepted (a browser never adds that header to a
  cross-site request by itself);
- with the cookie alone it also needs the ``X-CSRF-Token`` header, a synchronizer token that
  ``GET /api/session`` gives to the page (an HMAC of the operator's token under a key of this
  process: another site can neither read it nor compute it);
- an ``Origin`` header, when present, must be the admin's own origin, and a browser's
  ``Sec-Fetch-Site`` must say ``same-origin`` (or ``none``);
- a body must be JSON with ``Content-Type: application/json`` (a cross-site form or a
  ``text/plain`` "simple request" is refused before it reaches a handler).

Each refusal is a 403 (415 for the content type) with a JSON message, logged without the token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Collection
from pathlib import Path
from urllib.parse import unquote

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from hub.errors import ConfigurationError

__all__ = ["CSRF", "CSRF_HEADER", "OPERATOR", "PUBLIC_PATHS", "TOKEN_COOKIE", "TokenBook",
           "require_operator"]

log = structlog.get_logger(__name__)
OPERATOR = web.RequestKey("operator", str)
CSRF = web.RequestKey("csrf", str)
TOKEN_COOKIE = "loket_admin_token"
CSRF_HEADER = "X-CSRF-Token"
PUBLIC_PATHS = frozenset({"/health/live", "/", "/admin.js", "/admin.css"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenBook:
    def __init__(self, tokens: dict[str, str]) -> None:
        self._tokens = tokens  # token → operator name
        # Key of the CSRF tokens: new for every process (a page signs in again after a restart).
        self._csrf_key = secrets.token_bytes(32)

    @classmethod
    def from_file(cls, path: Path | None) -> TokenBook:
        if path is None:
            return cls({})
        tokens: dict[str, str] = {}
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigurationError(f"cannot read the admin token file {path}: {exc}") from exc
        for number, line in enumerate(lines, start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, sep, token = line.partition(":")
            if not sep or len(token.strip()) < 16:
                raise ConfigurationError(
                    f"{path}:{number}: expected 'name:token' with a token of 16+ characters"
                )
            tokens[token.strip()] = name.strip()
        return cls(tokens)

    def operator_for(self, header: str | None) -> str | None:
        if not header or not header.startswith("Bearer "):
            return None
        return self.operator_for_token(header.removeprefix("Bearer ").strip())

    def operator_for_token(self, offered: str) -> str | None:
        offered_bytes = offered.encode("utf-8", "replace")
        for token, name in self._tokens.items():
            # Constant-time comparison: the response time does not tell how close a guess was.
            if hmac.compare_digest(token.encode(), offered_bytes):
                return name
        return None

    def csrf_token(self, token: str) -> str:
        """The synchronizer token that goes with an operator's token (cookie sessions)."""
        return hmac.new(self._csrf_key, token.encode("utf-8", "replace"),
                        hashlib.sha256).hexdigest()

    def csrf_matches(self, token: str, offered: str | None) -> bool:
        return offered is not None and hmac.compare_digest(
            self.csrf_token(token).encode(), offered.encode("utf-8", "replace"))


def _refuse(request: web.Request, status: int, message: str, why: str) -> web.Response:
    log.warning("admin.request.refused", method=request.method, path=request.path, why=why,
                origin=request.headers.get("Origin"))
    return web.json_response({"error": message}, status=status)


def _own_origins(request: web.Request, extra: Collection[str]) -> set[str]:
    schemes = {request.scheme}
    forwarded = request.headers.get("X-Forwarded-Proto")
    if forwarded in {"http", "https"}:
        schemes.add(forwarded)
    return {f"{scheme}://{request.host}".lower() for scheme in schemes} | {
        origin.rstrip("/").lower() for origin in extra}


def _cross_site(request: web.Request, origins: Collection[str]) -> str | None:
    """Why this request looks like it comes from another site, or ``None``."""
    origin = request.headers.get("Origin")
    if origin is not None and origin.rstrip("/").lower() not in _own_origins(request, origins):
        return "origin"
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in {"same-origin", "none"}:
        return "sec-fetch-site"
    return None


def _bad_content_type(request: web.Request) -> bool:
    """A body that is not declared JSON (an empty body may say anything: clients differ)."""
    return request.body_exists and request.content_type != "application/json"


def require_operator(book: TokenBook, *, origins: Collection[str] = ()) -> Middleware:
    """``origins``: more origins the admin is reached as (e.g. ``https://admin.example``
    behind a TLS proxy); the admin's own ``scheme://host`` always counts."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in PUBLIC_PATHS and request.method in SAFE_METHODS:
            response: web.StreamResponse = await handler(request)
            return response
        bearer = request.headers.get("Authorization")
        token: str | None = None
        operator = book.operator_for(bearer)
        if operator is None and bearer is None:
            # The page writes the cookie with encodeURIComponent.
            token = unquote(request.cookies.get(TOKEN_COOKIE) or "") or None
            operator = book.operator_for_token(token) if token else None
        if operator is None:
            return web.json_response(
                {"error": "a valid bearer token is required"}, status=401,
                headers={"WWW-Authenticate": 'Bearer realm="loket-hub admin"'},
            )
        if request.method not in SAFE_METHODS:
            why = _cross_site(request, origins)
            if why is not None:
                return _refuse(request, 403, "a state-changing request must come from the "
                               "admin's own origin", why)
            if token is not None and not book.csrf_matches(token, request.headers.get(
                    CSRF_HEADER)):
                return _refuse(request, 403, f"a state-changing request with the cookie needs "
                               f"the {CSRF_HEADER} header (from GET /api/session), or use the "
                               "Authorization: Bearer header", "csrf")
            if _bad_content_type(request):
                return _refuse(request, 415, "a request body must be JSON, sent with "
                               "Content-Type: application/json", "content-type")
        request[OPERATOR] = operator
        request[CSRF] = book.csrf_token(token if token is not None
                                        else (bearer or "").removeprefix("Bearer ").strip())
        response = await handler(request)
        return response

    return middleware
