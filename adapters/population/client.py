"""The MAGDA population-register services this adapter uses, and their transport."""

from __future__ import annotations

import asyncio

import aiohttp

from adapters.magda.client import MagdaServiceClient, ServiceSpec
from adapters.magda.envelope import RequestIdentity
from adapters.magda.transport import AiohttpTransport
from adapters.magda.wssecurity import BodySignature
from hub.config import BackendSettings, MagdaSettings

__all__ = ["HOUSEHOLD", "PopulationClients"]

HOUSEHOLD = ServiceSpec(
    name="GeefGezinssamenstelling",
    version="02.02.0000",
    wsdl="GeefGezinssamenstelling-02.02/GeefGezinssamenstelling.wsdl",
)

MAX_RESPONSE_BYTES = 5 * 1024 * 1024


class PopulationClients:
    """One aiohttp session and concurrency limit shared by the population services."""

    def __init__(self, magda: MagdaSettings, backend: BackendSettings) -> None:
        self._magda = magda
        self._backend = backend
        self._session: aiohttp.ClientSession | None = None
        self.household: MagdaServiceClient | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(
                total=None,
                connect=self._backend.connect_timeout_s,
                sock_read=self._backend.read_timeout_s,
            ),
            connector=aiohttp.TCPConnector(limit=self._backend.concurrency),
            headers={"Content-Type": "text/xml; charset=utf-8"},
        )
        transport = AiohttpTransport(self._session, max_response_bytes=MAX_RESPONSE_BYTES)
        signature = BodySignature(self._magda.signing_key, self._magda.signing_cert)
        identity = RequestIdentity(
            client_identification=self._magda.client_identification,
            hoedanigheid=self._magda.hoedanigheid,
            receiver_identification=self._magda.receiver_identification,
        )
        limit = asyncio.Semaphore(self._backend.concurrency)
        self.household = MagdaServiceClient(
            HOUSEHOLD,
            base_url=self._magda.base_url,
            wsdl_dir=self._magda.wsdl_dir,
            identity=identity,
            transport=transport,
            signature=signature,
            limit=limit,
            total_timeout_s=self._backend.total_timeout_s,
        )
        self.household.load()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
