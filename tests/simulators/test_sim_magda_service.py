"""The MAGDA simulator end to end: zeep-built, zeep-signed requests over HTTP."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
import requests
import zeep
from lxml import etree
from zeep.transports import Transport

from simulators.magda import MagdaSimulator, MagdaSimulatorSettings, start_magda_simulator
from simulators.population_data import WELL_KNOWN, Population

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SERVICE_NS = "http://magda.vlaanderen.be/persoon/soap/geefgezinssamenstelling/v02_02"
ERR_025 = "ERR_025: Verification Failure"
ERR_10001 = "10001 - Fout formaat in de vraag"
Post = Callable[..., Any]
Control = Callable[..., Any]


def _uitzondering_codes(element: etree._Element, path: str) -> list[str]:
    return [u.findtext("Identificatie") or "" for u in element.findall(f"{path}/Uitzondering")]


async def test_a_signed_request_gets_the_household(
    post: Post,
    build_request: Callable[..., bytes],
    household_schema: etree.XMLSchema,
    population: Population,
    zeep_clients: dict[str | None, zeep.Client],
) -> None:
    head = WELL_KNOWN["household_head"]
    referte = str(uuid.uuid4())
    reply = await post(build_request(head, referte=referte))

    assert reply.status == 200
    assert reply.content_type == "text/xml; charset=utf-8"
    payload = reply.payload
    assert payload.tag == f"{{{SERVICE_NS}}}GeefGezinssamenstellingResponse"
    assert household_schema.validate(payload), household_schema.error_log

    context = payload.find("Repliek/Context")
    assert context.findtext("Naam") == "GeefGezinssamenstelling"
    assert context.findtext("Versie") == "02.02.0000"
    assert context.findtext("Bericht/Type") == "ANTWOORD"
    assert context.findtext("Bericht/Afzender/Identificatie") == "vip.vlaanderen.be"
    assert context.findtext("Bericht/Afzender/Naam") == "MagdaGateway"
    assert uuid.UUID(context.findtext("Bericht/Afzender/Referte") or "")
    assert context.findtext("Bericht/Afzender/Referte") != referte
    assert context.findtext("Bericht/Ontvanger/Identificatie") == (
        "kb.vlaanderen.be/aiv/loket-hub-test"
    )
    assert context.findtext("Bericht/Ontvanger/Referte") == referte
    assert context.findtext("Bericht/Ontvanger/Hoedanigheid") == "1234"

    antwoord = payload.find("Repliek/Antwoorden/Antwoord")
    assert antwoord.findtext("Referte") == referte
    assert antwoord.find("Uitzonderingen") is None
    household = population.household_of(head)
    assert household is not None
    leden = antwoord.findall("Inhoud/Gezinsleden/Gezinslid")
    assert [lid.findtext("INSZ") for lid in leden] == [m.insz for m in household.members]
    assert leden[0].findtext("Positie/Code") == "01"
    assert all(lid.findtext("Adressen/Hoofdverblijfplaats/NISCodeGemeente") == "11002"
               for lid in leden)

    # zeep reads the answer with the same WSDL.
    client = zeep_clients[None]
    parsed = client.get_element("ns0:GeefGezinssamenstellingResponse").parse(
        payload, client.wsdl.types
    )
    gezinslid = parsed.Repliek.Antwoorden.Antwoord.Inhoud.Gezinsleden.Gezinslid[0]
    assert gezinslid.Naam.Achternamen.Achternaam == [household.head.last_name]


async def test_soap12_content_type_is_accepted(
    post: Post, build_request: Callable[..., bytes]
) -> None:
    reply = await post(build_request(WELL_KNOWN["single"]), content_type="application/soap+xml")
    assert reply.status == 200
    leden = reply.payload.findall("Repliek/Antwoorden/Antwoord/Inhoud/Gezinsleden/Gezinslid")
    assert len(leden) == 1


async def test_other_content_types_are_refused(
    post: Post, build_request: Callable[..., bytes]
) -> None:
    reply = await post(build_request(WELL_KNOWN["single"]), content_type="application/json")
    assert reply.status == 415


@pytest.mark.parametrize(
    ("insz", "code", "oorsprong"),
    [(WELL_KNOWN["unknown"], "30001", "MAGDA"), (WELL_KNOWN["invalid_check"], "20002", "MAGDA")],
)
async def test_unknown_or_invalid_insz_is_an_antwoord_error(
    post: Post,
    build_request: Callable[..., bytes],
    household_schema: etree.XMLSchema,
    insz: str,
    code: str,
    oorsprong: str,
) -> None:
    reply = await post(build_request(insz))
    assert reply.status == 200
    payload = reply.payload
    assert household_schema.validate(payload), household_schema.error_log
    antwoord = payload.find("Repliek/Antwoorden/Antwoord")
    assert antwoord.find("Inhoud") is None
    assert _uitzondering_codes(antwoord, "Uitzonderingen") == [code]
    assert antwoord.findtext("Uitzonderingen/Uitzondering/Oorsprong") == oorsprong
    assert antwoord.findtext("Uitzonderingen/Uitzondering/Type") == "FOUT"


async def test_more_than_one_vraag_is_a_10001_fault(
    settings: MagdaSimulatorSettings, build_request: Callable[..., bytes],
    http: aiohttp.ClientSession,
) -> None:
    # MAGDA's schema allows exactly one Vraag per Verzoek: a second one is a format error (it
    # was a Repliek-level 20110 when our schema allowed several). zeep builds one Vraag only,
    # so the second is added by hand, unsigned, to a simulator that does not ask a signature.
    envelope = etree.fromstring(build_request(WELL_KNOWN["single"], signer=None))
    vragen = envelope.find(f"{{{SOAP_NS}}}Body")[0].find("Verzoek/Vragen")
    vragen.append(etree.fromstring(etree.tostring(vragen[0])))
    relaxed = dataclasses.replace(settings, require_signature=False)
    async with (
        await start_magda_simulator(relaxed) as simulator,
        http.post(simulator.url_for("GeefGezinssamenstelling"), data=etree.tostring(envelope),
                  headers={"Content-Type": "text/xml"}) as response,
    ):
        assert response.status == 500
        assert b"10001 - Fout formaat in de vraag" in await response.read()


@pytest.mark.parametrize("signer", [None, "untrusted"], ids=["unsigned", "untrusted-cert"])
async def test_unsigned_or_untrusted_requests_get_err_025(
    post: Post, build_request: Callable[..., bytes], signer: str | None
) -> None:
    reply = await post(build_request(WELL_KNOWN["single"], signer=signer))
    assert reply.status == 500
    assert reply.faultstring == ERR_025


async def test_one_changed_byte_in_the_body_gets_err_025(
    post: Post, build_request: Callable[..., bytes]
) -> None:
    document = build_request(WELL_KNOWN["household_head"])
    tampered = document.replace(b"<INSZ>85673003360<", b"<INSZ>85673003361<")
    assert tampered != document
    reply = await post(tampered)
    assert reply.status == 500
    assert reply.faultstring == ERR_025


@pytest.mark.parametrize(
    "document",
    [
        b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        b"<soapenv:Body>&x;</soapenv:Body></soapenv:Envelope>",
        b'<!DOCTYPE lol [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><lol>&b;</lol>',
        b"this is not xml",
        b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        b"<soapenv:Body/></soapenv:Envelope>",
    ],
    ids=["xxe", "entity-bomb", "not-xml", "empty-body"],
)
async def test_unreadable_requests_get_10001(post: Post, document: bytes) -> None:
    reply = await post(document)
    assert reply.status == 500
    assert reply.faultstring == ERR_10001


async def test_a_schema_invalid_signed_request_gets_10001(
    post: Post, build_request: Callable[..., bytes], control: Control
) -> None:
    reply = await post(build_request("123"))
    assert reply.status == 500
    assert reply.faultstring == ERR_10001
    _, calls = await control("GET", "calls")
    assert [c["outcome"] for c in calls] == ["invalid-request"]


async def test_the_calls_log_records_every_call(
    post: Post, build_request: Callable[..., bytes], control: Control
) -> None:
    referte = str(uuid.uuid4())
    await post(build_request(WELL_KNOWN["household_head"], referte=referte))
    await post(build_request(WELL_KNOWN["unknown"]))
    await post(build_request(WELL_KNOWN["single"], signer=None))

    status, calls = await control("GET", "calls")
    assert status == 200
    assert [(c["insz"], c["signed"], c["outcome"]) for c in calls] == [
        (WELL_KNOWN["household_head"], True, "ok"),
        (WELL_KNOWN["unknown"], True, "not-found"),
        (WELL_KNOWN["single"], False, "signature-refused"),
    ]
    first = calls[0]
    assert first["service"] == "GeefGezinssamenstelling"
    assert first["referte"] == referte and first["afzender_referte"] == referte
    assert first["at"].endswith("+00:00")

    assert await control("DELETE", "calls") == (200, {"cleared": 3})
    assert await control("GET", "calls") == (200, [])


async def test_health(control: Control) -> None:
    status, body = await control("GET", "health")
    assert status == 200 and body["services"] == [
        "GeefAkteBurgerlijkeStand", "GeefGezinssamenstelling", "GeefHistoriekPersoon",
        "GeefPersoon", "GeefStatusUittrekselStrafregister", "GeefTypesUittrekselStrafregister",
        "GeefUittrekselStrafregister", "RegistreerInschrijving", "ZoekAktenBurgerlijkeStand",
    ]


async def test_signature_optional_mode_accepts_unsigned_requests(
    pki: Any, population: Population, build_request: Callable[..., bytes]
) -> None:
    settings = MagdaSimulatorSettings(
        port=0, trusted_certs=(pki["trusted"].cert,), require_signature=False
    )
    async with await start_magda_simulator(settings, population) as sim:
        url = sim.url_for("GeefGezinssamenstelling")
        async with aiohttp.ClientSession() as http:
            for signer in (None, "trusted", "untrusted"):
                async with http.post(url, data=build_request(WELL_KNOWN["single"], signer=signer),
                                     headers={"Content-Type": "text/xml"}) as response:
                    assert response.status == 200
            async with http.get(f"{sim.base_url}/_control/calls") as response:
                calls = await response.json()
    assert [c["signed"] for c in calls] == [False, True, False]


async def test_the_wsdl_is_served_with_this_simulators_address(
    simulator: MagdaSimulator, http: aiohttp.ClientSession
) -> None:
    url = simulator.url_for("GeefGezinssamenstelling")
    assert simulator.port != 0 and url.startswith(simulator.base_url)
    async with http.get(url + "?wsdl") as response:
        assert response.status == 200
        wsdl = etree.fromstring(await response.read())
    address = wsdl.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert address.get("location") == url
    schema_url = wsdl.find(".//{http://www.w3.org/2001/XMLSchema}import").get("schemaLocation")
    assert schema_url == (
        f"{simulator.base_url}/wsdl/GeefGezinssamenstelling-02.02/GeefGezinssamenstelling.xsd"
    )
    for path in (schema_url, f"{simulator.base_url}/wsdl/common/MagdaCommon.xsd"):
        async with http.get(path) as response:
            assert response.status == 200
            etree.fromstring(await response.read())
    for path in ("/wsdl/common/..%2F..%2F..%2Fpyproject.toml", "/wsdl/missing.xsd"):
        async with http.get(simulator.base_url + path) as response:
            assert response.status == 404


async def test_zeep_loads_the_served_wsdl_over_http(simulator: MagdaSimulator) -> None:
    def load() -> zeep.Client:
        session = requests.Session()
        session.trust_env = False  # never through a proxy to our own loopback simulator
        return zeep.Client(
            simulator.url_for("GeefGezinssamenstelling") + "?wsdl",
            transport=Transport(session=session, timeout=5),
        )

    # zeep loads synchronously; a thread keeps this loop free to serve it.
    client = await asyncio.to_thread(load)
    assert client.service._binding_options["address"] == simulator.url_for(
        "GeefGezinssamenstelling"
    )


@pytest.mark.parametrize(
    "service", ["GeefPersoon", "GeefHistoriekPersoon", "RegistreerInschrijving"]
)
async def test_every_service_serves_its_wsdl(
    simulator: MagdaSimulator, http: aiohttp.ClientSession, service: str
) -> None:
    url = simulator.url_for(service)
    async with http.get(url + "?wsdl") as response:
        assert response.status == 200
        wsdl = etree.fromstring(await response.read())
    assert wsdl.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address").get("location") == url
    schema_url = wsdl.find(".//{http://www.w3.org/2001/XMLSchema}import").get("schemaLocation")
    async with http.get(schema_url) as response:
        assert response.status == 200
