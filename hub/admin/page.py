"""The operator web page: plain server-rendered HTML, a stylesheet and a little JavaScript.

The page itself is public (it shows nothing); everything it shows comes from the JSON API with
the operator's token, which the page keeps in a cookie after the operator enters it. Its actions
(replay, discard) send the CSRF token that ``GET /api/session`` gives. The files live in
``static/``; the page has no inline script or style, so the Content-Security-Policy can forbid
both.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from aiohttp import web

from hub.admin.auth import CSRF, CSRF_HEADER, OPERATOR

__all__ = ["routes"]

routes = web.RouteTableDef()


@cache
def _static(name: str) -> str:
    return resources.files("hub.admin").joinpath(f"static/{name}").read_text("utf-8")


@routes.get("/")
async def index(_: web.Request) -> web.Response:
    return web.Response(text=_static("index.html"), content_type="text/html")


@routes.get("/admin.js")
async def script(_: web.Request) -> web.Response:
    return web.Response(text=_static("admin.js"), content_type="text/javascript")


@routes.get("/admin.css")
async def style(_: web.Request) -> web.Response:
    return web.Response(text=_static("admin.css"), content_type="text/css")


@routes.get("/api/session")
async def session(request: web.Request) -> web.Response:
    """Who is signed in, and the token to send in the CSRF header with a state change."""
    return web.json_response({"operator": request[OPERATOR], "csrf_header": CSRF_HEADER,
                              "csrf_token": request[CSRF]})
