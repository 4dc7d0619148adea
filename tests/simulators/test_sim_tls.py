"""Mutual TLS: only a client with a trusted certificate gets through the handshake."""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from lxml import etree

from hub.devpki import KeyPair, generate_self_signed, generate_server_cert
from simulators.magda import MagdaSimulator, MagdaSimulatorSettings, start_magda_simulator
from simulators.magda.settings import TlsSettings
from simulators.population_data import WELL_KNOWN, Population
from tests.simulators.conftest import BuildRequest, person_inhoud

SERVICE = "GeefGezinssamenstelling"
TLS_VERSIONS = [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3]


@pytest.fixture(scope="module")
def tls_pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, KeyPair]:
    """The simulator's server certificate, a trusted client and a stranger."""
    directory = tmp_path_factory.mktemp("tls")
    return {
        "server": generate_server_cert(directory, "server"),
        "client": generate_self_signed(directory, "tls-client", "loket-hub test TLS client"),
        "stranger": generate_self_signed(directory, "stranger", "someone else"),
    }


def _tls(tls_pki: dict[str, KeyPair], **options: bool) -> TlsSettings:
    server = tls_pki["server"]
    return TlsSettings(server.cert, server.key, (tls_pki["client"].cert,), **options)


@pytest.fixture
async def https(
    settings: MagdaSimulatorSettings, population: Population, tls_pki: dict[str, KeyPair]
) -> AsyncIterator[MagdaSimulator]:
    """A simulator that requires a trusted client certificate."""
    secured = dataclasses.replace(settings, tls=_tls(tls_pki))
    async with await start_magda_simulator(secured, population) as simulator:
        yield simulator


def _client_context(
    server_cert: Path, pair: KeyPair | None, version: ssl.TLSVersion | None = None
) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(server_cert))
    # Strict, as Python 3.13 makes it by default: the dev server certificate must pass it too.
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    if version is not None:
        context.minimum_version = context.maximum_version = version
    if pair is not None:
        context.load_cert_chain(pair.cert, pair.key)
    return context


async def _post(
    simulator: MagdaSimulator, body: bytes, context: ssl.SSLContext
) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(simulator.url_for(SERVICE), data=body, ssl=context,
                  headers={"Content-Type": "text/xml"}) as response,
    ):
        return response.status, await response.read()


async def _calls(simulator: MagdaSimulator, context: ssl.SSLContext) -> list[object]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{simulator.base_url}/_control/calls", ssl=context) as response,
    ):
        calls: list[object] = await response.json()
        return calls


async def test_a_trusted_client_gets_an_answer(
    https: MagdaSimulator, tls_pki: dict[str, KeyPair], build_service_request: BuildRequest
) -> None:
    assert https.base_url.startswith("https://127.0.0.1:")
    context = _client_context(tls_pki["server"].cert, tls_pki["client"])
    body = build_service_request(SERVICE, person_inhoud(WELL_KNOWN["single"]))
    status, answer = await _post(https, body, context)
    assert status == 200
    envelope = etree.fromstring(answer)
    assert envelope.find(".//Inhoud/Gezinsleden/Gezinslid/INSZ").text == WELL_KNOWN["single"]
    async with (
        aiohttp.ClientSession() as http,
        http.get(https.url_for(SERVICE) + "?wsdl", ssl=context) as response,
    ):
        wsdl = etree.fromstring(await response.read())
    location = wsdl.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address").get("location")
    assert location == https.url_for(SERVICE)


@pytest.mark.parametrize("client", [None, "stranger"], ids=["no-cert", "untrusted-cert"])
async def test_other_clients_fail_the_handshake(
    https: MagdaSimulator, tls_pki: dict[str, KeyPair], build_service_request: BuildRequest,
    client: str | None,
) -> None:
    pair = None if client is None else tls_pki[client]
    server_cert = tls_pki["server"].cert
    # TLS 1.2: the server checks the client certificate before its Finished, so the client's
    # own handshake fails.
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        await asyncio.open_connection(
            https.host, https.port, ssl=_client_context(server_cert, pair, TLS_VERSIONS[0])
        )
    # TLS 1.3: the client believes it is done, then the server drops the connection before
    # a single byte of HTTP.
    reader, writer = await asyncio.open_connection(
        https.host, https.port, ssl=_client_context(server_cert, pair, TLS_VERSIONS[1])
    )
    writer.write(b"GET /_control/health HTTP/1.1\r\nHost: sim\r\n\r\n")
    try:
        assert await reader.read() == b""
    except (ssl.SSLError, ConnectionResetError):
        pass
    finally:
        writer.close()
    body = build_service_request(SERVICE, person_inhoud(WELL_KNOWN["single"]))
    for version in TLS_VERSIONS:
        with pytest.raises(aiohttp.ClientConnectionError):
            await _post(https, body, _client_context(server_cert, pair, version))
    trusted = _client_context(server_cert, tls_pki["client"])
    assert await _calls(https, trusted) == []


async def test_plain_http_gets_nothing(https: MagdaSimulator) -> None:
    with pytest.raises(aiohttp.ClientConnectionError):
        async with (
            aiohttp.ClientSession() as http,
            http.get(https.base_url.replace("https", "http") + "/_control/health"),
        ):
            pass


async def test_client_certificate_can_be_optional(
    settings: MagdaSimulatorSettings, population: Population, tls_pki: dict[str, KeyPair],
    build_service_request: BuildRequest,
) -> None:
    relaxed = dataclasses.replace(settings, tls=_tls(tls_pki, require_client_cert=False))
    async with await start_magda_simulator(relaxed, population) as simulator:
        body = build_service_request(SERVICE, person_inhoud(WELL_KNOWN["single"]))
        status, _ = await _post(simulator, body, _client_context(tls_pki["server"].cert, None))
    assert status == 200


async def test_a_required_client_certificate_needs_a_trusted_one(
    settings: MagdaSimulatorSettings, tls_pki: dict[str, KeyPair]
) -> None:
    server = tls_pki["server"]
    nobody = dataclasses.replace(settings, tls=TlsSettings(server.cert, server.key))
    with pytest.raises(ValueError, match="client_cas"):
        await start_magda_simulator(nobody)
