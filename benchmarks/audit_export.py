"""The audit's xlsx export against the event loop (issue 19): streamed off the loop, or made on it.

    .venv/bin/python -m benchmarks.audit_export --rows 100000

A SQLite store with ``--rows`` consultations and an admin server with the search routes, in this
process. Each way exports every record as xlsx while, on the same event loop, a ticker sleeps
5 ms at a time (its longest gap is the longest the loop was held) and a client asks
``/health/live`` every 50 ms. "on the loop" is what the admin did before: read the records,
build the workbook in the handler, answer. Prints per way the export's time, the longest loop
gap and the health answers' median and longest time (from when each was due), then the ratio
of the longest gaps.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Handler

from benchmarks.audit_search import _fill_sqlite
from hub.admin import export, searches
from hub.admin.auth import OPERATOR
from hub.store import open_store
from hub.store.base import AUDIT_COLUMNS
from hub.store.sqlite import SqliteStore


@web.middleware
async def _operator(request: web.Request, handler: Handler) -> web.StreamResponse:
    request[OPERATOR] = "bench"
    return await handler(request)


def _app(store: SqliteStore) -> web.Application:
    async def live(_: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def on_the_loop(_: web.Request) -> web.Response:
        records = await store.audit_records(limit=10_000_000)
        body = export.xlsx_bytes("consultations", AUDIT_COLUMNS,
                                 ([getattr(r, c) for c in AUDIT_COLUMNS] for r in records))
        return web.Response(body=body, content_type=export.MEDIA_TYPES["xlsx"])

    app = web.Application(middlewares=[_operator])
    app[searches.STORE] = store
    app.add_routes(searches.routes)
    app.router.add_get("/health/live", live)
    app.router.add_get("/old", on_the_loop)
    return app


async def _ticks(done: asyncio.Event) -> float:
    longest, last = 0.0, time.perf_counter()
    while not done.is_set():
        await asyncio.sleep(0.005)
        now = time.perf_counter()
        longest, last = max(longest, now - last - 0.005), now
    return longest


async def _probe(http: aiohttp.ClientSession, url: str, done: asyncio.Event) -> list[float]:
    """How long each health check took from when it was due (every 50 ms) to its answer."""
    times, due = [], time.perf_counter()
    while not done.is_set():
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        async with http.get(url) as reply:
            await reply.read()
        times.append(time.perf_counter() - due)
        due = max(due + 0.05, time.perf_counter())
    return times


async def _measure(http: aiohttp.ClientSession, base: str, path: str) -> tuple[float, ...]:
    done = asyncio.Event()
    ticker = asyncio.create_task(_ticks(done))
    probe = asyncio.create_task(_probe(http, f"{base}/health/live", done))

    async def fetch() -> int:
        async with http.get(f"{base}{path}") as reply:
            return len(await reply.read())

    start = time.perf_counter()
    size = await fetch()
    took = time.perf_counter() - start
    done.set()
    longest, health = await ticker, await probe
    return took, longest, statistics.median(health), max(health), size / 1e6


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    path = Path(tempfile.mkdtemp(prefix="loket-export-bench-")) / "audit.db"
    store = await open_store(f"sqlite:///{path}")
    assert isinstance(store, SqliteStore)
    await _fill_sqlite(store, args.rows)
    runner = web.AppRunner(_app(store), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    ways: dict[str, Callable[[aiohttp.ClientSession], Awaitable[tuple[float, ...]]]] = {
        "streamed": lambda http: _measure(http, base, "/api/audit?format=xlsx"),
        "on the loop": lambda http: _measure(http, base, "/old"),
    }
    gaps = {}
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as http:
            for name, way in ways.items():
                took, longest, health_p50, health_max, megabytes = await way(http)
                gaps[name] = longest
                print(f"{name:12} {args.rows} rows, {megabytes:.1f} MB in {took:.1f} s;"
                      f" longest loop gap {longest * 1000:.0f} ms;"
                      f" /health/live median {health_p50 * 1000:.1f} ms,"
                      f" longest {health_max * 1000:.0f} ms")
    finally:
        await runner.cleanup()
        await store.close()
    ratio = gaps["on the loop"] / gaps["streamed"]
    print(f"ratio longest loop gap on the loop/streamed: {ratio:.1f}")


if __name__ == "__main__":
    asyncio.run(main())
