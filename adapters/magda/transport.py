"""zeep's transport interface over our aiohttp session.

zeep's own AsyncTransport (httpx) measured ~400 calls/s here without gaining from concurrency;
aiohttp reached ~670–785. Loading documents is restricted to local files: every WSDL and XSD
lives in ``wsdl/``, and a reference to the network is a configuration error, not a fetch.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import aiohttp
from lxml import etree

from hub.errors import BackendError, BackendTimeout, ConfigurationError, OurFault

__all__ = ["BEFORE_SEND", "AiohttpTransport", "ConnectionFailed", "HttpResponse"]

BEFORE_SEND: ContextVar[Awaitable[object] | None] = ContextVar("before_send", default=None)
"""What must be done before a request leaves (the consultation's audit record). The client sets
it for one call and the transport awaits it just before sending, so the work overlaps with zeep
building and signing the envelope. A future, not a coroutine: a retried send awaits it again."""


class ConnectionFailed(BackendError):
    """No connection could be made: the request never left, so trying again is safe and cheap."""

    default_code = "BACKEND_UNREACHABLE"


@dataclass(frozen=True)
class HttpResponse:
    """The little of a response that zeep and our reply parser read."""

    status_code: int
    content: bytes
    headers: Mapping[str, str]
    encoding: str | None = "utf-8"


class AiohttpTransport:
    """Duck-types ``zeep.transports.Transport`` for :class:`zeep.AsyncClient`."""

    def __init__(self, session: aiohttp.ClientSession, *, max_response_bytes: int) -> None:
        self._session = session
        self._max_response_bytes = max_response_bytes
        self.cache = None
        self.operation_timeout = None

    def load(self, url: str) -> bytes:
        scheme = urlparse(url).scheme
        if scheme in ("http", "https"):
            raise ConfigurationError(
                f"refusing to fetch {url}: every WSDL/XSD must be a local file in wsdl/"
            )
        path = url.removeprefix("file://") if scheme == "file" else url
        with open(os.path.expanduser(path), "rb") as handle:
            return handle.read()

    async def post_xml(
        self, address: str, envelope: etree._Element, headers: Mapping[str, str]
    ) -> HttpResponse:
        body = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
        return await self.post(address, body, headers)

    async def post(self, address: str, message: bytes, headers: Mapping[str, str]) -> HttpResponse:
        gate = BEFORE_SEND.get()
        if gate is not None:
            await gate
        try:
            async with self._session.post(address, data=message, headers=dict(headers)) as reply:
                content = await self._read_capped(reply)
                if len(content) > self._max_response_bytes:
                    # Too large is a property of the answer, not a passing fault: retrying
                    # would fetch the same bytes again.
                    raise OurFault(
                        f"answer larger than {self._max_response_bytes} bytes",
                        code="BACKEND_ANSWER_TOO_LARGE",
                    )
                return HttpResponse(reply.status, content, dict(reply.headers), reply.charset)
        except TimeoutError as exc:
            raise BackendTimeout(f"no answer from {urlparse(address).path} in time") from exc
        except aiohttp.ClientConnectorError as exc:
            raise ConnectionFailed(f"cannot connect: {type(exc).__name__}: {exc}") from exc
        except aiohttp.ClientError as exc:
            raise BackendError(f"transport error: {type(exc).__name__}: {exc}") from exc

    async def _read_capped(self, reply: aiohttp.ClientResponse) -> bytes:
        """The body, but never more than one byte past the limit (a hostile answer is cut)."""
        chunks: list[bytes] = []
        size = 0
        async for chunk in reply.content.iter_chunked(64 * 1024):
            chunks.append(chunk)
            size += len(chunk)
            if size > self._max_response_bytes:
                break
        return b"".join(chunks)

    @contextmanager
    def settings(self, timeout: float | None = None) -> Iterator[None]:
        yield

    async def aclose(self) -> None:
        await self._session.close()

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"AiohttpTransport has no {name!r} (zeep asked for it)")
