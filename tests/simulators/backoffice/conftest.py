"""Fixtures for the simulated back office's HTTP side: an app under aiohttp's test client,
with an in-memory sink in place of the broker."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer

from hub.hmac_signing import sign
from simulators.backoffice import BackofficeSimulatorSettings, create_backoffice_app

SECRET = b"backoffice-test-secret"


class Sink:
    """Collects answers as the broker would; ``fail`` makes the next publishes raise."""

    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []
        self.fail = 0
        self._changed = asyncio.Condition()

    async def __call__(self, routing_key: str, body: dict[str, Any]) -> None:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("broker away")
        async with self._changed:
            self.published.append((routing_key, body))
            self._changed.notify_all()

    async def wait_for(self, count: int, timeout: float = 3.0) -> list[dict[str, Any]]:
        """The bodies once ``count`` answers arrived."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(self.published) >= count)
        return [body for _, body in self.published]


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 3.0) -> None:
    """Wait until ``check()`` holds (state the simulator changes in a background task)."""
    async with asyncio.timeout(timeout):
        while True:
            if await check():
                return
            await asyncio.sleep(0.01)


def forwarded(request_id: str = "req-1", **extra: Any) -> dict[str, Any]:
    """A forwarded change of contact details."""
    return {"request_id": request_id, "job_id": f"job-{request_id}", "tenant": "gent",
            "type": "backoffice.forward", "product": "contact-details",
            "contact": {"email": "els.maes@example.be", "phone_number": "09 123 45 67",
                        "mobile_number": "0470 12 34 56", "store_in_register": True},
            **extra}


Client = TestClient[web.Request, web.Application]
Post = Callable[..., Awaitable[ClientResponse]]
Start = Callable[..., Awaitable[Client]]


@pytest.fixture
def sink() -> Sink:
    return Sink()


@pytest.fixture
async def start(sink: Sink) -> AsyncIterator[Start]:
    """``await start(**settings)``: a test client of an app with ``sink``; closed after."""
    clients: list[Client] = []

    async def run(*, with_sink: bool = True, **overrides: Any) -> Client:
        settings = BackofficeSimulatorSettings(
            secret=SECRET, port=0, **{"action_delay_ms": 0, **overrides}
        )
        app = create_backoffice_app(settings, sink=sink if with_sink else None)
        client: Client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client

    yield run
    for client in clients:
        await client.close()


@pytest.fixture
async def client(start: Start) -> Client:
    """The default simulator: script received → completed, no delay between answers."""
    return await start()


@pytest.fixture
def post(client: Client) -> Post:
    """``await post(body, secret=…, timestamp=…, headers=…)``: a signed ``POST /requests``."""

    async def run(body: Any, *, secret: bytes = SECRET, timestamp: int | None = None,
                  headers: dict[str, str] | None = None, **kwargs: Any) -> ClientResponse:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        signed = sign(raw, secret, int(time.time()) if timestamp is None else timestamp)
        sent = {"Content-Type": "application/json", **signed, **(headers or {})}
        sent = {k: v for k, v in sent.items() if v}
        return await client.post("/requests", data=raw, headers=sent, **kwargs)

    return run
