"""Helpers shared by the simulators' ``/_control`` APIs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

__all__ = ["bad_request", "json_body", "parse_rules", "start_site"]

R = TypeVar("R")


async def json_body(request: web.Request) -> Any:
    """The request's JSON; a 400 with the reason when it is not JSON."""
    try:
        return await request.json()
    except ValueError as exc:  # bad JSON or bad UTF-8
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"invalid JSON: {exc}"}), content_type="application/json"
        ) from exc


def bad_request(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


def parse_rules(
    body: Any, parse: Callable[[Any], R], error: type[Exception]
) -> list[R] | web.Response:
    """One rule (an object) or several (a list), or a 400 naming what is wrong."""
    items = body if isinstance(body, list) else [body]
    try:
        return [parse(item) for item in items]
    except error as exc:
        return bad_request(str(exc))


async def start_site(
    app: web.Application, host: str, port: int, **runner_options: Any
) -> tuple[web.AppRunner, int]:
    """Serve ``app`` on ``host:port`` (0 = a free port): its runner and the port it got."""
    runner = web.AppRunner(app, **runner_options)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner, int(runner.addresses[0][1])
