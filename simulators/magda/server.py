"""The MAGDA simulator application: routes, WSDL serving, start and stop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from aiohttp import web
from lxml import etree

from simulators.magda.control import control_routes
from simulators.magda.documents import DocumentFactory
from simulators.magda.official import OfficialAnswers
from simulators.magda.services import SERVICES
from simulators.magda.settings import MagdaSimulatorSettings
from simulators.magda.signing import ReplySigner
from simulators.magda.soap import soap_handler
from simulators.magda.state import STATE, LoadedService, SimulatorState
from simulators.magda.strafregister import Strafregister
from simulators.magda.tls import server_ssl_context
from simulators.population_data import Population, generate_population
from simulators.wssecurity import SignatureVerifier

__all__ = ["MagdaSimulator", "create_magda_app", "start_magda_simulator"]

_WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
_WSDL_SOAP_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
_XSD_NS = "http://www.w3.org/2001/XMLSchema"
_SERVED_SUFFIXES = (".wsdl", ".xsd")


def create_magda_app(settings: MagdaSimulatorSettings, population: Population) -> web.Application:
    """An aiohttp application serving every service in ``SERVICES`` plus ``/_control``.

    WSDLs, schemas, trusted certificates and the reply-signing key are loaded here, once, not
    per request.
    """
    services = {
        name: LoadedService(spec, _load_schema(settings.wsdl_dir / spec.schema))
        for name, spec in SERVICES.items()
    }
    state = SimulatorState(
        settings=settings,
        population=population,
        services=services,
        verifier=SignatureVerifier.from_files(settings.trusted_certs),
        latency_ms=settings.latency_ms,
        signer=None if settings.reply_signing is None else ReplySigner(settings.reply_signing),
        official=None if settings.official_answers is None
        else OfficialAnswers(settings.official_answers),
        strafregister=Strafregister(settings.strafregister_ready_after_polls,
                                    settings.strafregister_police_check_polls),
        # The seal key is read on the first document, not here: most runs deliver none.
        documents=DocumentFactory(seal=settings.seal_documents, seal_pair=settings.document_seal),
    )
    app = web.Application()
    app[STATE] = state
    for name, loaded in services.items():
        app.router.add_post(loaded.spec.path, soap_handler(name))
        app.router.add_get(loaded.spec.path, _wsdl_handler(name))
    app.router.add_get("/wsdl/{path:.+}", _serve_schema_file)
    app.add_routes(control_routes)
    app.on_shutdown.append(_wake_sleepers)
    return app


async def _wake_sleepers(app: web.Application) -> None:
    # Injected timeouts sleep up to a minute; let shutdown end them instead of waiting.
    app[STATE].closing.set()


def _load_schema(path: Path) -> etree.XMLSchema:
    # Our own files from the repository; imports resolve relative to the file, never the network.
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.parse(str(path), parser))


def _wsdl_handler(service: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        if "wsdl" not in request.query:
            raise web.HTTPMethodNotAllowed("GET", ["POST"])
        state = request.app[STATE]
        spec = state.services[service].spec
        base = str(request.url.origin())
        document = _rewritten_wsdl(state.settings.wsdl_dir, spec.wsdl, base, base + spec.path)
        return web.Response(body=document, content_type="text/xml", charset="utf-8")

    return handle


def _rewritten_wsdl(wsdl_dir: Path, relative: str, base: str, address: str) -> bytes:
    """The WSDL with this simulator's address and absolute URLs to its schemas under /wsdl/."""
    tree = etree.parse(str(wsdl_dir / relative), etree.XMLParser(no_network=True))
    folder = Path(relative).parent
    for location in tree.iter(f"{{{_WSDL_SOAP_NS}}}address"):
        location.set("location", address)
    for include in tree.iter(f"{{{_XSD_NS}}}import", f"{{{_XSD_NS}}}include"):
        target = include.get("schemaLocation")
        if target and "://" not in target:
            include.set("schemaLocation", f"{base}/wsdl/{(folder / target).as_posix()}")
    return bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))


async def _serve_schema_file(request: web.Request) -> web.StreamResponse:
    """A WSDL or XSD from the WSDL folder, as is: relative imports resolve under /wsdl/."""
    root = request.app[STATE].settings.wsdl_dir.resolve()
    target = (root / request.match_info["path"]).resolve()
    if not target.is_relative_to(root) or target.suffix not in _SERVED_SUFFIXES:
        raise web.HTTPNotFound()
    if not target.is_file():
        raise web.HTTPNotFound()
    return web.Response(body=target.read_bytes(), content_type="text/xml", charset="utf-8")


@dataclass
class MagdaSimulator:
    """A running simulator; ``port`` is the real one when 0 was asked for."""

    runner: web.AppRunner
    host: str
    port: int
    population: Population
    scheme: str = "http"
    """``https`` when the settings have ``tls``."""

    @property
    def base_url(self) -> str:
        """``http(s)://host:port`` without a trailing slash."""
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def app(self) -> web.Application:
        """The running application."""
        return self.runner.app

    def url_for(self, service: str) -> str:
        """The SOAP endpoint URL of a service, e.g. ``GeefGezinssamenstelling``."""
        return self.base_url + SERVICES[service].path

    async def close(self) -> None:
        """Stop listening and end in-flight calls."""
        await self.runner.cleanup()

    async def __aenter__(self) -> MagdaSimulator:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


async def start_magda_simulator(
    settings: MagdaSimulatorSettings, population: Population | None = None
) -> MagdaSimulator:
    """Start the simulator on ``settings.host:settings.port`` (0 = a free port).

    With ``settings.tls`` it serves HTTPS only (mutual TLS unless the client certificate is
    optional); the TLS files are read before anything listens.
    """
    population = population or generate_population(settings.seed, settings.households)
    ssl_context = None if settings.tls is None else server_ssl_context(settings.tls)
    app = create_magda_app(settings, population)
    # handler_cancellation: a client that gives up on an injected timeout ends its handler too.
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=5.0)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port, ssl_context=ssl_context)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    port = int(runner.addresses[0][1])
    return MagdaSimulator(runner=runner, host=settings.host, port=port, population=population,
                          scheme="http" if ssl_context is None else "https")
