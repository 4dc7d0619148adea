"""The DABS and criminal-record services in the shared machinery: WSDLs, faults, signatures,
reply signing with MTOM."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
import zeep
from lxml import etree

from hub.devpki import KeyPair
from simulators.magda import MagdaSimulator, MagdaSimulatorSettings, start_magda_simulator
from simulators.population_data import WELL_KNOWN, WELL_KNOWN_ACTS, Population
from simulators.wssecurity import SignatureVerificationError, SignatureVerifier
from tests.simulators.conftest import (
    SOAP_NS,
    BuildRequest,
    Call,
    Mtom,
    SoapReply,
    act_inhoud,
    extract_fetch_inhoud,
    extract_request_inhoud,
    search_inhoud,
    service_file,
    status_inhoud,
    types_inhoud,
)

Control = Callable[..., Any]
SINGLE = WELL_KNOWN["single"]
EXTRACT = "GeefUittrekselStrafregister"
STATUS = "GeefStatusUittrekselStrafregister"
INHOUD: dict[str, dict[str, Any]] = {
    "ZoekAktenBurgerlijkeStand": search_inhoud(INSZ=SINGLE),
    "GeefAkteBurgerlijkeStand": act_inhoud(WELL_KNOWN_ACTS["birth_single"]),
    EXTRACT: extract_request_inhoud(SINGLE),
    STATUS: status_inhoud(INSZ=SINGLE),
    "GeefTypesUittrekselStrafregister": types_inhoud(),
}
"""A question each new service answers without an error."""
KINDS: dict[str, dict[str, Any]] = {
    "http-500": {},
    "soap-fault": {"faultstring": "99997 - Dienst niet beschikbaar"},
    "magda-error": {"code": "60006", "oorsprong": "DABS"},
    "malformed-xml": {},
    "timeout": {"delay_ms": 20},
    "entity-declaration": {},
    "huge-answer": {"size_bytes": 5_000},
    "unsigned-reply": {},
}


NAMESPACES = {
    "ZoekAktenBurgerlijkeStand":
        "http://webservice.zoekaktenburgerlijkestanddienst-02_00.persoon-02_00.vip.vlaanderen.be",
    "GeefAkteBurgerlijkeStand":
        "http://webservice.geefakteburgerlijkestanddienst-02_00.persoon-02_00.vip.vlaanderen.be",
    EXTRACT:
        "http://webservice.geefuittrekselstrafregisterdienst-02_00.justitie-02_00.vip.vlaanderen.be",
    STATUS: "http://webservice.geefstatusuittrekselstrafregisterdienst-02_00.justitie-02_00"
            ".vip.vlaanderen.be",
    "GeefTypesUittrekselStrafregister":
        "http://webservice.geeftypesuittrekselstrafregisterdienst-02_00.justitie-02_00"
        ".vip.vlaanderen.be",
}


@pytest.mark.parametrize("service", sorted(INHOUD))
async def test_wsdl_loads_in_zeep_builds_valid_requests_and_is_served(
    service: str, build_service_request: BuildRequest, schemas: dict[str, etree.XMLSchema],
    simulator: MagdaSimulator,
) -> None:
    client = zeep.Client(str(service_file(service, ".wsdl")))
    assert client.service._binding._operations[service].soapaction == ""
    assert client.service._binding_options["address"] == (
        f"http://127.0.0.1:8701/{service}Dienst-02.00/soap/WebService"
    )
    envelope = etree.fromstring(build_service_request(service, INHOUD[service], signer=None))
    payload = envelope.find(f"{{{SOAP_NS}}}Body")[0]
    assert payload.tag == f"{{{NAMESPACES[service]}}}{service}"
    assert all(etree.QName(e).namespace is None for e in payload.iterdescendants())
    assert schemas[service].validate(payload), schemas[service].error_log
    url = simulator.url_for(service)
    async with aiohttp.ClientSession() as http, http.get(url + "?wsdl") as response:
        assert response.status == 200
        wsdl = etree.fromstring(await response.read())
    assert wsdl.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address").get("location") == url


def _codes(payload: etree._Element) -> list[str | None]:
    return [u.findtext("Identificatie")
            for u in payload.findall("Repliek/Antwoorden/Antwoord/Uitzonderingen/Uitzondering")]


def _check(kind: str, reply: SoapReply, schema: etree.XMLSchema) -> None:
    """The reply shows the fault ``kind`` (and a SOAP answer stays schema-valid)."""
    if kind == "http-500":
        assert reply.status == 500 and reply.content_type.startswith("text/html")
        return
    if kind == "soap-fault":
        assert reply.status == 500 and reply.faultstring == "99997 - Dienst niet beschikbaar"
        return
    assert reply.status == 200
    if kind == "malformed-xml":
        with pytest.raises(etree.XMLSyntaxError):
            etree.fromstring(reply.body)
        return
    if kind == "entity-declaration":
        assert reply.body.startswith(b"<!DOCTYPE soapenv:Envelope [<!ENTITY ")
    assert schema.validate(reply.payload), schema.error_log
    answered = reply.payload.find("Repliek/Antwoorden/Antwoord/Inhoud") is not None
    if kind == "magda-error":
        assert _codes(reply.payload) == ["60006"] and not answered
    elif kind == "huge-answer":
        assert _codes(reply.payload) == ["99000"] and answered and len(reply.body) > 5_000
    else:
        assert _codes(reply.payload) == [] and answered


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("service", sorted(INHOUD))
async def test_every_fault_kind_works_for_the_new_services(
    call: Call, control: Control, schemas: dict[str, etree.XMLSchema], service: str, kind: str
) -> None:
    status, body = await control("POST", "faults", {"service": service, "kind": kind,
                                                    **KINDS[kind]})
    assert status == 201, body
    _check(kind, await call(service, INHOUD[service]), schemas[service])
    normal = await call(service, INHOUD[service])  # the rule was used up
    assert normal.status == 200 and schemas[service].validate(normal.payload)
    assert _codes(normal.payload) == []
    _, calls = await control("GET", "calls")
    assert calls[0]["service"] == service
    assert calls[0]["outcome"] == ("magda-error:60006" if kind == "magda-error"
                                   else f"fault:{kind}")


async def test_faults_for_one_insz_reach_the_new_services(
    call: Call, control: Control
) -> None:
    await control("POST", "faults", {"kind": "http-500", "insz": SINGLE, "times": 3})
    for service in ("ZoekAktenBurgerlijkeStand", EXTRACT, STATUS):
        assert (await call(service, INHOUD[service])).status == 500, service
    assert (await call(EXTRACT, extract_request_inhoud(WELL_KNOWN["mover"]))).status == 200


async def test_the_new_services_need_a_valid_signature(call: Call) -> None:
    for service, inhoud in INHOUD.items():
        reply = await call(service, inhoud, signer="untrusted")
        assert reply.faultstring == "ERR_025: Verification Failure", service


async def test_an_invalid_request_is_a_10001_fault(call: Call) -> None:
    # A TypeUittreksel of more than 50 characters: the schema refuses it before the service
    # sees it.
    reply = await call(EXTRACT, extract_request_inhoud(SINGLE, "5" * 51))
    assert reply.status == 500 and (reply.faultstring or "").startswith("10001")


async def _ready_extract(call: Call) -> str:
    reply = await call(EXTRACT, extract_request_inhoud(SINGLE, Referentie="ready"))
    number = reply.payload.findtext("Repliek/Antwoorden/Antwoord/Inhoud/UittrekselStrafregister/"
                                    "Identificatienummer") or ""
    for _ in range(2):
        await call(STATUS, status_inhoud(Referentie="ready"))
    return number


async def test_a_warning_comes_with_the_attachment(
    call: Call, control: Control, schemas: dict[str, etree.XMLSchema]
) -> None:
    number = await _ready_extract(call)
    await control("POST", "faults", {"service": EXTRACT, "kind": "magda-error", "code": "30004",
                                     "type": "WAARSCHUWING"})
    reply = await call(EXTRACT, extract_fetch_inhoud(number))
    mtom = Mtom(reply.content_type, reply.body)
    payload = mtom.envelope(inline=False).find(f"{{{SOAP_NS}}}Body")[0]
    assert schemas[EXTRACT].validate(payload), schemas[EXTRACT].error_log
    assert _codes(payload) == ["30004"]
    assert mtom.parts[1].content.startswith(b"%PDF-")


async def test_malformed_xml_spoils_the_soap_part_of_an_mtom_reply(
    call: Call, control: Control
) -> None:
    number = await _ready_extract(call)
    await control("POST", "faults", {"service": EXTRACT, "kind": "malformed-xml"})
    reply = await call(EXTRACT, extract_fetch_inhoud(number))
    assert reply.status == 200 and reply.content_type.startswith("multipart/related")
    root, attachment = Mtom(reply.content_type, reply.body).parts
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(root.content)
    assert attachment.content.startswith(b"%PDF-")


@pytest.fixture
async def signing(
    settings: MagdaSimulatorSettings, population: Population, gateway_pair: KeyPair,
) -> AsyncIterator[MagdaSimulator]:
    """A simulator that signs its replies with ``gateway_pair``."""
    signed = dataclasses.replace(settings, reply_signing=gateway_pair)
    async with await start_magda_simulator(signed, population) as simulator:
        yield simulator


async def test_a_signed_mtom_reply_verifies_with_the_attachment_put_back(
    signing: MagdaSimulator, gateway_pair: KeyPair, build_service_request: BuildRequest
) -> None:
    verifier = SignatureVerifier.from_files([gateway_pair.cert])
    async with aiohttp.ClientSession() as http:
        async def call(service: str, inhoud: dict[str, Any]) -> SoapReply:
            async with http.post(signing.url_for(service), data=build_service_request(
                    service, inhoud), headers={"Content-Type": "text/xml"}) as response:
                return SoapReply(response.status, response.headers["Content-Type"],
                                 await response.read())

        number = await _ready_extract(call)
        reply = await call(EXTRACT, extract_fetch_inhoud(number))
        mtom = Mtom(reply.content_type, reply.body)
        # Signed as WS-Security with MTOM prescribes: over the document inline, not the include.
        verifier.verify(mtom.envelope())
        with pytest.raises(SignatureVerificationError):
            verifier.verify(mtom.envelope(inline=False))
        async with http.post(f"{signing.base_url}/_control/faults", json={
                "service": EXTRACT, "kind": "tampered-reply-signature"}) as response:
            assert response.status == 201
        tampered = await call(EXTRACT, extract_fetch_inhoud(number))
        with pytest.raises(SignatureVerificationError, match="does not verify"):
            verifier.verify(Mtom(tampered.content_type, tampered.body).envelope())
        act = await call("GeefAkteBurgerlijkeStand", INHOUD["GeefAkteBurgerlijkeStand"])
        verifier.verify(etree.fromstring(act.body))
