"""Reply signatures and the faults that spoil replies: entities, tampering, no signature, size;
MTOM replies signed over their XOP-decoded form, checked by our verifier and by xmlsec1."""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from lxml import etree

from adapters.magda.wssecurity import BodySignature, ReplySignatureInvalid
from adapters.magda.xop import reassemble, unpack
from hub.devpki import KeyPair
from simulators.magda import MagdaSimulator, MagdaSimulatorSettings, start_magda_simulator
from simulators.magda.mtom import XOP_NS
from simulators.magda.signing import ReplySigner, render_reply
from simulators.population_data import WELL_KNOWN, Population
from simulators.wssecurity import (
    WSSE_NS,
    SignatureVerificationError,
    SignatureVerifier,
    UnsafeXMLError,
    parse_untrusted_xml,
)
from tests.simulators.conftest import (
    SOAP_NS,
    BuildRequest,
    Mtom,
    SoapReply,
    extract_fetch_inhoud,
    extract_request_inhoud,
    person_inhoud,
    status_inhoud,
)

HEAD = WELL_KNOWN["household_head"]
SERVICE = "GeefGezinssamenstelling"
EXTRACT = "GeefUittrekselStrafregister"
STATUS = "GeefStatusUittrekselStrafregister"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
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
        return await self.send(service, person_inhoud(insz), signer=signer)

    async def send(self, service: str, inhoud: dict[str, Any],
                   signer: str | None = "trusted") -> SoapReply:
        body = self.build(service, inhoud, signer=signer)
        async with self.http.post(self.simulator.url_for(service), data=body,
                                  headers={"Content-Type": "text/xml"}) as response:
            return SoapReply(response.status, response.headers["Content-Type"],
                             await response.read())

    async def ready_extract(self) -> str:
        """Ask for a model 595 extract and its status once (it is then ready); its number."""
        insz = WELL_KNOWN["single"]
        reply = await self.send(EXTRACT, extract_request_inhoud(insz))
        number = reply.payload.findtext(".//Inhoud//Identificatienummer")
        assert number, reply.body[:500]
        status = await self.send(STATUS, status_inhoud(INSZ=insz))
        assert status.status == 200, status.body[:500]
        return number

    async def fetch(self, number: str) -> Mtom:
        """Fetch a ready extract: an MTOM reply."""
        reply = await self.send(EXTRACT, extract_fetch_inhoud(number))
        assert reply.status == 200 and reply.content_type.startswith("multipart/related")
        return Mtom(reply.content_type, reply.body)

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
    """A simulator whose reply signing is switched off (MAGDA, and by default the simulator,
    sign every reply)."""
    unsigned = dataclasses.replace(settings, reply_signing=None)
    async with _sim(unsigned, population, build_service_request) as sim:
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


@pytest.mark.parametrize("kind", ["tampered-reply-signature", "tampered-reply-attachment"])
async def test_tampering_needs_reply_signing(plain: Sim, kind: str) -> None:
    status, body = await plain.fault(kind=kind)
    assert status == 400 and "reply_signing" in body["error"] and kind in body["error"]


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


# -- MTOM: signed with the document inline, then packaged -------------------------------------


def _decoded(reply: Mtom) -> etree._Element:
    """The XOP-decoded envelope, rebuilt with the hub's own code (adapters.magda.xop)."""
    root, attachments = unpack(reply.body, reply.content_type)
    return reassemble(parse_untrusted_xml(root), attachments)


async def test_the_simulator_signs_its_replies_by_default(
    simulator: MagdaSimulator, http: aiohttp.ClientSession, build_service_request: BuildRequest,
    settings: MagdaSimulatorSettings,
) -> None:
    """As MAGDA does; with the development gateway pair the hub trusts by default."""
    assert settings.reply_signing is not None
    body = build_service_request(SERVICE, person_inhoud(HEAD))
    async with http.post(simulator.url_for(SERVICE), data=body,
                         headers={"Content-Type": "text/xml"}) as response:
        reply = await response.read()
    SignatureVerifier.from_files([settings.reply_signing.cert]).verify(parse_untrusted_xml(reply))


async def test_an_mtom_reply_is_signed_over_its_xop_decoded_form(
    signing: Sim, verifier: SignatureVerifier
) -> None:
    reply = await signing.fetch(await signing.ready_extract())
    # As it travels, the Bestand holds an xop:Include, which the gateway never signed ...
    on_the_wire = reply.envelope(inline=False)
    assert on_the_wire.find(f".//Bestand/{{{XOP_NS}}}Include") is not None
    with pytest.raises(SignatureVerificationError, match="does not verify"):
        verifier.verify(on_the_wire)
    # ... put back as base64 (the test helper and the hub's reassemble agree), it verifies.
    result = verifier.verify(reply.envelope(inline=True))
    decoded = _decoded(reply)
    assert etree.tostring(decoded) == etree.tostring(reply.envelope(inline=True))
    assert verifier.verify(decoded).signed_ids == result.signed_ids


needs_xmlsec1 = pytest.mark.skipif(shutil.which("xmlsec1") is None,
                                   reason="xmlsec1 not installed")


def _xmlsec1(
    envelope: etree._Element, cert: Path, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "reply.xml"
    path.write_bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))
    # The key comes from the certificate given: xmlsec1 does not follow the WS-Security token
    # reference. The Body's id is wsu:Id, registered by its local name.
    return subprocess.run(
        ["xmlsec1", "--verify", "--pubkey-cert-pem", str(cert),
         "--id-attr:Id", f"{SOAP_NS}:Body", str(path)],
        capture_output=True, text=True, check=False,
    )


@needs_xmlsec1
async def test_xmlsec1_verifies_the_reassembled_mtom_reply(
    signing: Sim, gateway_pair: KeyPair, tmp_path: Path
) -> None:
    """An independent implementation agrees: the XOP-decoded envelope carries a valid Body
    signature, and the package as it travels does not."""
    reply = await signing.fetch(await signing.ready_extract())
    done = _xmlsec1(_decoded(reply), gateway_pair.cert, tmp_path)
    assert done.returncode == 0 and "OK" in done.stderr, done.stderr
    undecoded = _xmlsec1(reply.envelope(inline=False), gateway_pair.cert, tmp_path)
    assert undecoded.returncode != 0, undecoded.stderr
    # And the hub's verifier, under verify, says the same.
    hub = BodySignature(gateway_pair.key, gateway_pair.cert, response_policy="verify",
                        response_cert_file=gateway_pair.cert)
    root, attachments = unpack(reply.body, reply.content_type)
    hub.verify(parse_untrusted_xml(root), attachments)


@pytest.mark.parametrize(
    ("kind", "refusal"),
    [
        ("tampered-reply-attachment", "does not verify"),
        ("tampered-reply-signature", "does not verify"),
        ("unsigned-reply", "wsse:Security"),
    ],
)
async def test_reply_faults_work_on_mtom_replies(
    signing: Sim, verifier: SignatureVerifier, kind: str, refusal: str
) -> None:
    number = await signing.ready_extract()
    clean = await signing.fetch(number)
    assert (await signing.fault(kind=kind, service=EXTRACT))[0] == 201
    spoilt = await signing.fetch(number)
    # Still an MTOM reply with its PDF part, only no longer what the gateway signed.
    (original,), (changed,) = clean.parts[1:], spoilt.parts[1:]
    assert changed.content.startswith(b"%PDF-")
    differing = sum(a != b for a, b in zip(original.content, changed.content, strict=True))
    assert differing == (1 if kind == "tampered-reply-attachment" else 0)
    with pytest.raises(SignatureVerificationError, match=refusal):
        verifier.verify(_decoded(spoilt))
    verifier.verify(_decoded(await signing.fetch(number)))  # consumed: the next one is clean


async def test_tampered_attachment_without_a_part_spoils_the_body(
    signing: Sim, verifier: SignatureVerifier
) -> None:
    assert (await signing.fault(kind="tampered-reply-attachment", service=SERVICE))[0] == 201
    reply = await signing.ask()
    assert reply.status == 200 and reply.content_type.startswith("text/xml")
    with pytest.raises(SignatureVerificationError, match="does not verify"):
        verifier.verify(parse_untrusted_xml(reply.body))


async def test_rsa_sha1_as_magdas_official_client_signs(
    signing: Sim, gateway_pair: KeyPair
) -> None:
    """The hub accepts the algorithm MAGDA's official client uses (RSA-SHA1, SHA-1 digests),
    and refuses the same reply once its Body changed."""
    payload = (await signing.ask()).payload
    signed = parse_untrusted_xml(render_reply(payload, ReplySigner(gateway_pair,
                                                                   method="rsa-sha1"), None))
    method = signed.find(f".//{{{DS_NS}}}SignatureMethod")
    assert method is not None
    assert method.get("Algorithm") == "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
    hub = BodySignature(gateway_pair.key, gateway_pair.cert, response_policy="verify",
                        response_cert_file=gateway_pair.cert)
    hub.verify(signed)
    referte = signed.find(f"{{{SOAP_NS}}}Body/*/Repliek/Context/Bericht/Afzender/Referte")
    assert referte is not None
    text = referte.text or ""
    referte.text = ("1" if text.startswith("0") else "0") + text[1:]
    with pytest.raises(ReplySignatureInvalid, match="does not match"):
        hub.verify(signed)
