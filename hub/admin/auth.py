"""Bearer tokens for the admin server, from a file (``name:token`` per line), never logged.

No token file configured means no access at all (except liveness and the empty page shell):
the safe default.
"""

from __future__ import annotations

import hmac
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from hub.errors import ConfigurationError

__all__ = ["OPERATOR", "TokenBook", "require_operator"]

OPERATOR = web.RequestKey("operator", str)


class TokenBook:
    def __init__(self, tokens: dict[str, str]) -> None:
        self._tokens = tokens  # token → operator name

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
        offered = header.removeprefix("Bearer ").strip()
        for token, name in self._tokens.items():
            # Constant-time comparison: the response time does not tell how close a guess was.
            if hmac.compare_digest(token.encode(), offered.encode()):
                return name
        return None


def require_operator(book: TokenBook) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in {"/health/live", "/"}:
            response: web.StreamResponse = await handler(request)
            return response
        operator = book.operator_for(request.headers.get("Authorization"))
        if operator is None:
            token = request.cookies.get("loket_admin_token")
            operator = book.operator_for(f"Bearer {token}") if token else None
        if operator is None:
            return web.json_response(
                {"error": "a valid bearer token is required"}, status=401,
                headers={"WWW-Authenticate": 'Bearer realm="loket-hub admin"'},
            )
        request[OPERATOR] = operator
        response = await handler(request)
        return response

    return middleware
