"""Reply signatures and the faults that spoil replies: entities, tampering, no signature, size."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from lxml import etree

from hub.devpki import KeyPair
from simulators.magda import MagdaSimulator, MagdaSimulatorSettings, start_magda_simulator
from simulators.population_data import WELL_KNOWN, Population
from simulators.wssecurity import (
    WSSE_NS,
    SignatureVerificationError,
    SignatureVerifier,
    UnsafeXMLError,
    parse_untrusted_xml,
)
from tests.simulators.conftest import SOAP_NS, BuildRequest, SoapReply, person_inhoud

HEAD = WELL_KNOWN["household_head"]
SERVICE = "GeefGezinssamenstelling"
WSU_ID = "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd}Id"


class Sim:
    """A simulator with a posting helper and the control API, for one test."""

    def __init__(self, simulator: MagdaSimulator, http: aiohttp.ClientSession,
                 build: BuildRequest) -> None:
        self.simulator = simulator
        self.http = http
        self.build = build

    async def ask(self, service: str = SERVICE, insz: str = HEAD,
                  signer: str | None = "trusted") -> SoapReply:
        body = self.build(service, person_inhoud(insz), signer=signer)
        async with self.http.post(self.simulator.url_for(service), data=body,
                                  headers={"Content-Type": "text/xml"}) as response:
            return SoapReply(response.status, response.content_type, await response.read())

    async def fault(self, **rule: Any) -> tuple[int, Any]:
        async with self.http.post(f"{self.simulator.base_url}/_control/faults",
                                  json=rule) as response:
            return response.status, await response.json()


@contextlib.asynccontextmanager
async def _sim(settings: MagdaSimulatorSettings, population: Population,
               build: BuildRequest) -> AsyncIterator[Sim]:
    async with (
        await start_magda_simulator(settings, population) as simulator,
        aiohttp.ClientSession() as http,
    ):
        yield Sim(simulator, http, build)


@pytest.fixture
async def signing(
    settings: MagdaSimulatorSettings, population: Population, gateway_pair: KeyPair,
    build_service_request: BuildRequest,
) -> AsyncIterator[Sim]:
    """A simulator that signs its replies with ``gateway_pair``."""
    signed = dataclasses.replace(settings, reply_signing=gateway_pair)
    async with _sim(signed, population, build_service_request) as sim:
        yield sim


@pytest.fixture
async def plain(
    settings: MagdaSimulatorSettings, population: Population, build_service_request: BuildRequest
) -> AsyncIterator[Sim]:
    """A simulator that does not sign its replies (the default)."""
    async with _sim(settings, population, build_service_request) as sim:
        yield sim


@pytest.fixture(scope="module")
def verifier(gateway_pair: KeyPair) -> SignatureVerifier:
    return SignatureVerifier.from_files([gateway_pair.cert])


def _security(reply: SoapReply) -> etree._Element | None:
    return etree.fromstring(reply.body).find(f"{{{SOAP_NS}}}Header/{{{WSSE_NS}}}Security")


@pytest.mark.parametrize("service", ["GeefGezinssamenstelling", "GeefPersoon"])
async def test_replies_are_signed_and_verify(
    signing: Sim, verifier: SignatureVerifier, schemas: dict[str, etree.XMLSchema], service: str
) -> None:
    # GeefPersoon without registration answers 40003: an error reply is signed all the same.
    reply = await signing.ask(service)
    assert reply.status == 200
    envelope = parse_untrusted_xml(reply.body)
    result = verifier.verify(envelope)
    body = envelope.find(f"{{{SOAP_NS}}}Body")
    assert result.signed_ids == (body.get(WSU_ID),)
    assert schemas[service].validate(body[0]), schemas[service].error_log
    method = envelope.find(".//{http://www.w3.org/2000/09/xmldsig#}SignatureMethod")
    assert method.get("Algorithm") == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"


async def test_faults_are_not_signed(signing: Sim) -> None:
    reply = await signing.ask(signer=None)
    assert reply.status == 500 and reply.faultstring == "ERR_025: Verification Failure"
    assert _security(reply) is None


async def test_no_signature_when_signing_is_off(plain: Sim) -> None:
    reply = await plain.ask()
    assert reply.status == 200 and _security(reply) is None


async def test_unsigned_reply(signing: Sim, verifier: SignatureVerifier) -> None:
    assert (await signing.fault(kind="unsigned-reply"))[0] == 201
    reply = await signing.ask()
    assert reply.status == 200 and _security(reply) is None
    with pytest.raises(SignatureVerificationError, match="wsse:Security"):
        verifier.verify(parse_untrusted_xml(reply.body))
    assert _security(await signing.ask()) is not None  # consumed: the next one is signed


async def test_tampered_reply_signature(signing: Sim, verifier: SignatureVerifier) -> None:
    assert (await signing.fault(kind="tampered-reply-signature", service=SERVICE))[0] == 201
    reply = await signing.ask()
    assert reply.status == 200
    assert reply.payload.find("Repliek/Antwoorden/Antwoord/Inhoud/Gezinsleden") is not None
    with pytest.raises(SignatureVerificationError, match="does not verify"):
        verifier.verify(parse_untrusted_xml(reply.body))


async def test_tampering_needs_reply_signing(plain: Sim) -> None:
    status, body = await plain.fault(kind="tampered-reply-signature")
    assert status == 400 and "reply_signing" in body["error"]


async def test_entity_declaration(signing: Sim, verifier: SignatureVerifier) -> None:
    assert (await signing.fault(kind="entity-declaration"))[0] == 201
    reply = await signing.ask()
    assert reply.status == 200
    assert reply.body.startswith(b"<!DOCTYPE soapenv:Envelope [<!ENTITY ")
    assert b"&gateway;" in reply.body.split(b"Body", 1)[1]
    with pytest.raises(UnsafeXMLError, match="DOCTYPE"):
        parse_untrusted_xml(reply.body)
    # A parser that expands entities reads the normal, validly signed answer: nothing visibly
    # wrong, which is exactly why the hub must refuse it before parsing.
    expanded = etree.fromstring(reply.body, etree.XMLParser(resolve_entities=True))
    assert expanded.findtext(f".//{{{SOAP_NS}}}Body/*/Repliek/Context/Bericht/Afzender/Naam") == (
        "MagdaGateway"
    )
    verifier.verify(expanded)


async def test_huge_answer(plain: Sim, schemas: dict[str, etree.XMLSchema]) -> None:
    assert (await plain.fault(kind="huge-answer"))[0] == 201
    reply = await plain.ask()
    assert reply.status == 200 and len(reply.body) > 3_000_000
    payload = reply.payload
    schema = schemas[SERVICE]
    assert schema.validate(payload), schema.error_log
    antwoord = payload.find("Repliek/Antwoorden/Antwoord")
    assert antwoord.find("Inhoud/Gezinsleden") is not None
    assert antwoord.findtext("Uitzonderingen/Uitzondering/Type") == "WAARSCHUWING"
    assert len(antwoord.findtext("Uitzonderingen/Uitzondering/Diagnose") or "") == 3_000_000
    with pytest.raises(UnsafeXMLError, match="larger"):
        parse_untrusted_xml(reply.body, max_bytes=1_000_000)
    parse_untrusted_xml(reply.body)  # within the default 10 MB


async def test_huge_answer_size_is_configurable_and_checked(plain: Sim) -> None:
    normal = len((await plain.ask()).body)
    assert (await plain.fault(kind="huge-answer", size_bytes=5_000))[0] == 201
    reply = await plain.ask()
    # The padding warning adds the size asked for, plus its own few elements.
    assert normal + 5_000 < len(reply.body) < normal + 6_000
    status, body = await plain.fault(kind="huge-answer", size_bytes=0)
    assert status == 400 and "size_bytes" in body["error"]


async def test_huge_answer_can_be_signed(signing: Sim, verifier: SignatureVerifier) -> None:
    assert (await signing.fault(kind="huge-answer", size_bytes=200_000))[0] == 201
    reply = await signing.ask()
    verifier.verify(parse_untrusted_xml(reply.body))
