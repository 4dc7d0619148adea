"""One MAGDA service (name + version) called through zeep over our aiohttp transport.

The WSDL is loaded once, from ``wsdl/``, when the adapter starts: zeep loads synchronously.
Every call has its own deadline (``asyncio.timeout``) on top of aiohttp's connect and read
timeouts, because zeep's own ``timeout`` covers WSDL loading only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
import zeep
from lxml import etree
from zeep.exceptions import Error as ZeepError
from zeep.proxy import AsyncServiceProxy

from adapters.magda.envelope import RequestIdentity, build_verzoek, new_reference, parse_reply
from adapters.magda.errors import MagdaException, error_for
from adapters.magda.transport import AiohttpTransport
from adapters.magda.wssecurity import BodySignature
from hub.errors import BackendTimeout, ConfigurationError, HubError, OurFault

__all__ = ["MagdaAnswer", "MagdaServiceClient", "ServiceSpec"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ServiceSpec:
    """A MAGDA service: ``name`` (``Context/Naam``) and full ``version`` (``02.02.0000``)."""

    name: str
    version: str
    wsdl: str  # relative to the MAGDA WSDL folder

    @property
    def path(self) -> str:
        """The production URL pattern: ``/<Service>Dienst-<vv.vv>/soap/WebService``."""
        return f"/{self.name}Dienst-{self.version[:5]}/soap/WebService"


@dataclass(frozen=True)
class MagdaAnswer:
    inhoud: etree._Element | None
    warnings: tuple[MagdaException, ...]
    request_reference: str
    reply_reference: str | None


class MagdaServiceClient:
    def __init__(
        self,
        spec: ServiceSpec,
        *,
        base_url: str,
        wsdl_dir: Path,
        identity: RequestIdentity,
        transport: AiohttpTransport,
        signature: BodySignature,
        limit: asyncio.Semaphore,
        total_timeout_s: float,
    ) -> None:
        self.spec = spec
        self._url = base_url.rstrip("/") + spec.path
        self._wsdl = wsdl_dir / spec.wsdl
        self._identity = identity
        self._transport = transport
        self._signature = signature
        self._limit = limit
        self._total_timeout_s = total_timeout_s
        self._proxy: AsyncServiceProxy | None = None

    def load(self) -> None:
        """Parse the WSDL (local files only) and bind it to the configured address."""
        if not self._wsdl.is_file():
            raise ConfigurationError(f"WSDL not found: {self._wsdl}")
        settings = zeep.Settings(
            strict=True,
            raw_response=True,
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
            xml_huge_tree=False,
        )
        client = zeep.AsyncClient(
            str(self._wsdl), transport=self._transport, wsse=self._signature, settings=settings
        )
        binding = next(iter(client.wsdl.bindings.values()))
        self._proxy = AsyncServiceProxy(client, binding, address=self._url)

    async def call(self, inhoud: dict[str, Any], *, referte: str | None = None) -> MagdaAnswer:
        """Ask one question. Raises a typed :class:`HubError` for every failure."""
        if self._proxy is None:
            raise ConfigurationError(f"{self.spec.name}: client not loaded")
        referte = referte or new_reference()
        verzoek = build_verzoek(
            service=self.spec.name,
            version=self.spec.version,
            identity=self._identity,
            inhoud=inhoud,
            referte=referte,
            now=dt.datetime.now(dt.UTC),
        )
        operation = getattr(self._proxy, self.spec.name)
        started = time.perf_counter()
        try:
            async with self._limit, asyncio.timeout(self._total_timeout_s):
                response = await operation(Verzoek=verzoek)
        except TimeoutError as exc:
            raise BackendTimeout(
                f"{self.spec.name}: no answer within {self._total_timeout_s} s",
                details={"service": self.spec.name, "magda_reference": referte},
            ) from exc
        except HubError:
            raise
        except ZeepError as exc:
            raise OurFault(f"{self.spec.name}: zeep refused to build the request: {exc}",
                           code="BACKEND_REQUEST_INVALID") from exc
        document, reply = parse_reply(
            response.content,
            response.status_code,
            service=self.spec.name,
            expected_referte=referte,
        )
        self._signature.verify(document)
        log.info(
            "magda.call.completed",
            service=self.spec.name,
            referte=referte,
            reply_referte=reply.reply_reference,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
            errors=[e.code for e in reply.errors],
            warnings=[w.code for w in reply.warnings],
        )
        if reply.errors:
            error = error_for(reply.errors[0], service=self.spec.name)
            error.details.setdefault("magda_reference", referte)
            raise error
        return MagdaAnswer(reply.inhoud, reply.warnings, referte, reply.reply_reference)
