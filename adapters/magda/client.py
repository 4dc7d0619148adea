"""One MAGDA service (name + version) called through zeep over our aiohttp transport.

The WSDL is loaded once, from ``wsdl/``, when the adapter starts: zeep loads synchronously.
Every call has its own deadline (``asyncio.timeout``) on top of aiohttp's connect and read
timeouts, because zeep's own ``timeout`` covers WSDL loading only. A connection that could not
be made is retried at once (tenacity, a few times, within the deadline): the request never left.
Everything else that is transient goes back to the hub's delayed retry queues.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import structlog
import zeep
from lxml import etree
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential
from zeep.exceptions import Error as ZeepError
from zeep.proxy import AsyncServiceProxy

from adapters.magda.connection import MagdaConnection
from adapters.magda.envelope import build_verzoek, new_reference, parse_reply
from adapters.magda.errors import MagdaException, error_for
from adapters.magda.transport import BEFORE_SEND, ConnectionFailed, HttpResponse
from hub.breaker import CircuitBreaker
from hub.errors import BackendTimeout, ConfigurationError, HubError, OurFault

__all__ = ["ConsultationHook", "MagdaAnswer", "MagdaServiceClient", "ServiceSpec"]

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
    # MTOM/XOP attachments by Content-ID (see adapters.magda.xop.document_bytes).
    attachments: dict[str, bytes] = field(default_factory=dict)


class ConsultationHook(Protocol):
    """The audit seen from a MAGDA call: told before the call and once after it."""

    async def started(self, service: ServiceSpec, reference: str) -> None: ...

    async def finished(
        self, reference: str, *, outcome: str, reply_reference: str | None, duration_ms: float
    ) -> None: ...


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def _outcome_of(error: HubError) -> str:
    magda_code = error.details.get("magda_code")
    return f"error:{magda_code}" if magda_code else f"error:{error.code}"


class MagdaServiceClient:
    def __init__(
        self,
        spec: ServiceSpec,
        *,
        base_url: str,
        wsdl_dir: Path,
        connection: MagdaConnection,
        limit: asyncio.Semaphore,
        total_timeout_s: float,
        connect_retries: int = 2,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.spec = spec
        self._breaker = breaker
        self._url = base_url.rstrip("/") + spec.path
        self._wsdl = wsdl_dir / spec.wsdl
        self._connection = connection
        self._limit = limit
        self._total_timeout_s = total_timeout_s
        self._connect_retries = connect_retries
        self._proxy: AsyncServiceProxy | None = None

    def load(self) -> None:
        """Parse the WSDL (local files only) and bind it to the configured address."""
        if not self._wsdl.is_file():
            raise ConfigurationError(f"WSDL not found: {self._wsdl}")
        if self._connection.transport is None:
            raise ConfigurationError("MAGDA connection not opened before loading a WSDL")
        settings = zeep.Settings(
            strict=True,
            raw_response=True,
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
            xml_huge_tree=False,
        )
        client = zeep.AsyncClient(
            str(self._wsdl),
            transport=self._connection.transport,
            wsse=self._connection.signature,
            settings=settings,
        )
        binding = next(iter(client.wsdl.bindings.values()))
        self._proxy = AsyncServiceProxy(client, binding, address=self._url)

    async def _send(self, verzoek: dict[str, Any]) -> HttpResponse:
        assert self._proxy is not None
        operation = getattr(self._proxy, self.spec.name)
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(ConnectionFailed),
            stop=stop_after_attempt(1 + self._connect_retries),
            wait=wait_exponential(multiplier=0.05, max=0.5),
            reraise=True,
        ):
            with attempt:
                response: HttpResponse = await operation(Verzoek=verzoek)
        return response

    async def call(
        self,
        inhoud: dict[str, Any],
        *,
        referte: str | None = None,
        audit: ConsultationHook | None = None,
    ) -> MagdaAnswer:
        """Ask one question. Raises a typed :class:`HubError` for every failure.

        Under the back end's breaker, when it has one: while it is open the question is not
        asked (nor audited) and :class:`~hub.breaker.BreakerOpen` comes back at once.
        """
        if self._breaker is None:
            return await self._audited_call(inhoud, referte, audit)
        async with self._breaker.guard():
            return await self._audited_call(inhoud, referte, audit)

    async def _audited_call(
        self, inhoud: dict[str, Any], referte: str | None, audit: ConsultationHook | None
    ) -> MagdaAnswer:
        if self._proxy is None:
            raise ConfigurationError(f"{self.spec.name}: client not loaded")
        referte = referte or new_reference()
        verzoek = build_verzoek(
            service=self.spec.name,
            version=self.spec.version,
            identity=self._connection.profile.identity,
            inhoud=inhoud,
            referte=referte,
            now=dt.datetime.now(dt.UTC),
        )
        recorded: asyncio.Future[None] | None = None
        if audit is not None:
            # On record before the request leaves (the transport waits for it), so an
            # unanswered consultation is audited too; meanwhile zeep builds and signs.
            recorded = asyncio.ensure_future(audit.started(self.spec, referte))
        started = time.perf_counter()
        outcome, reply_reference = "error:unknown", None
        gate = BEFORE_SEND.set(recorded)
        try:
            answer = await self._call(verzoek, referte)
            reply_reference = answer.reply_reference
            outcome = "ok" if not answer.warnings else "warning:" + ",".join(
                w.code for w in answer.warnings
            )
            return answer
        except HubError as error:
            error.details.setdefault("magda_reference", referte)
            outcome = _outcome_of(error)
            replied = error.details.get("reply_reference")
            reply_reference = replied if isinstance(replied, str) else None
            raise
        finally:
            BEFORE_SEND.reset(gate)
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            if audit is not None and recorded is not None:
                await recorded  # a failed record fails the call, as it did before sending
                await asyncio.shield(audit.finished(
                    referte, outcome=outcome, reply_reference=reply_reference,
                    duration_ms=duration_ms,
                ))
            log.info("magda.call.completed", service=self.spec.name, referte=referte,
                     reply_referte=reply_reference, outcome=outcome, duration_ms=duration_ms)

    async def _call(self, verzoek: dict[str, Any], referte: str) -> MagdaAnswer:
        try:
            async with self._limit, asyncio.timeout(self._total_timeout_s):
                response = await self._send(verzoek)
        except TimeoutError as exc:
            raise BackendTimeout(
                f"{self.spec.name}: no answer within {self._total_timeout_s} s",
                details={"service": self.spec.name, "magda_reference": referte},
            ) from exc
        except ZeepError as exc:
            raise OurFault(f"{self.spec.name}: zeep refused to build the request: {exc}",
                           code="BACKEND_REQUEST_INVALID") from exc
        signature = self._connection.signature
        _, reply = parse_reply(
            response.content,
            response.status_code,
            service=self.spec.name,
            expected_referte=referte,
            content_type=_header(response.headers, "Content-Type") or "text/xml",
            # Checked on the envelope with its MTOM parts put back (adapters.magda.wssecurity).
            verify=lambda document, parts: signature.verify(document, parts,
                                                            service=self.spec.name),
        )
        if reply.errors:
            error = error_for(reply.errors[0], service=self.spec.name)
            error.details["reply_reference"] = reply.reply_reference
            raise error
        return MagdaAnswer(
            reply.inhoud, reply.warnings, referte, reply.reply_reference, reply.attachments
        )
