"""The operator web page: plain server-rendered HTML and a little JavaScript.

The page itself is public (it shows nothing); everything it shows comes from the JSON API with
the operator's token, which the page keeps in a cookie after the operator enters it. The page
lives in ``static/index.html``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from aiohttp import web

__all__ = ["routes"]

routes = web.RouteTableDef()


@cache
def _page() -> str:
    return resources.files("hub.admin").joinpath("static/index.html").read_text("utf-8")


@routes.get("/")
async def index(_: web.Request) -> web.Response:
    return web.Response(text=_page(), content_type="text/html")
