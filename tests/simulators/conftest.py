"""Fixtures for the simulator tests: dev certificates, zeep-built requests, a running simulator."""

from __future__ import annotations

import base64
import datetime as dt
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import xmlsec
import zeep
from lxml import etree
from requests_toolbelt.multipart.decoder import MultipartDecoder
from zeep.wsse.signature import BinarySignature

from hub.devpki import KeyPair, generate_self_signed
from simulators.magda import MagdaSimulator, MagdaSimulatorSettings, start_magda_simulator
from simulators.magda.mtom import XOP_NS
from simulators.population_data import Population, generate_population

REPO = Path(__file__).resolve().parents[2]
WSDL_DIR = REPO / "wsdl" / "magda"
HOUSEHOLD_WSDL = WSDL_DIR / "GeefGezinssamenstelling-02.02" / "GeefGezinssamenstelling.wsdl"
HOUSEHOLD_XSD = WSDL_DIR / "GeefGezinssamenstelling-02.02" / "GeefGezinssamenstelling.xsd"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SERVICE_NS = "http://magda.vlaanderen.be/persoon/soap/geefgezinssamenstelling/v02_02"
CLIENT_ID = "kb.vlaanderen.be/aiv/loket-hub-test"
SERVICE_FILES = {
    "GeefGezinssamenstelling": ("GeefGezinssamenstelling-02.02", "02.02.0000"),
    "GeefPersoon": ("GeefPersoon-02.02", "02.02.0000"),
    "GeefHistoriekPersoon": ("GeefHistoriekPersoon-02.02", "02.02.0000"),
    "RegistreerInschrijving": ("RegistreerInschrijving-02.01", "02.01.0000"),
    "ZoekAktenBurgerlijkeStand": ("ZoekAktenBurgerlijkeStand-02.00", "02.00.0000"),
    "GeefAkteBurgerlijkeStand": ("GeefAkteBurgerlijkeStand-02.00", "02.00.0000"),
    "GeefUittrekselStrafregister": ("GeefUittrekselStrafregister-02.00", "02.00.0000"),
    "GeefStatusUittrekselStrafregister": ("GeefStatusUittrekselStrafregister-02.00",
                                          "02.00.0000"),
    "GeefTypesUittrekselStrafregister": ("GeefTypesUittrekselStrafregister-02.00", "02.00.0000"),
}
"""Service -> (folder under wsdl/magda, Context/Versie)."""

BuildRequest = Callable[..., bytes]


def service_file(service: str, suffix: str) -> Path:
    """The service's WSDL (``.wsdl``) or XSD (``.xsd``)."""
    return WSDL_DIR / SERVICE_FILES[service][0] / f"{service}{suffix}"


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, KeyPair]:
    """A trusted client key pair and one the simulator has never heard of."""
    directory = tmp_path_factory.mktemp("pki")
    return {
        "trusted": generate_self_signed(directory, "trusted", "loket-hub test client"),
        "untrusted": generate_self_signed(directory, "untrusted", "someone else"),
    }


@pytest.fixture(scope="session")
def household_schema() -> etree.XMLSchema:
    """The service XSD, compiled once."""
    return etree.XMLSchema(etree.parse(str(HOUSEHOLD_XSD)))


@pytest.fixture(scope="session")
def zeep_clients(pki: dict[str, KeyPair]) -> dict[str | None, zeep.Client]:
    """zeep clients on our WSDL: unsigned (None) and signing as the hub does (RSA-SHA256)."""
    clients: dict[str | None, zeep.Client] = {None: zeep.Client(str(HOUSEHOLD_WSDL))}
    for name, pair in pki.items():
        signer = BinarySignature(
            str(pair.key),
            str(pair.cert),
            signature_method=xmlsec.Transform.RSA_SHA256,
            digest_method=xmlsec.Transform.SHA256,
        )
        clients[name] = zeep.Client(str(HOUSEHOLD_WSDL), wsse=signer)
    return clients


def verzoek(insz: str | list[str], *, referte: str | None = None) -> dict[str, Any]:
    """A GeefGezinssamenstelling Verzoek as zeep takes it; one Vraag per INSZ (MAGDA's schema
    allows one: several build only with a non-strict zeep client, and are a 10001 fault)."""
    referte = referte or str(uuid.uuid4())
    inszs = [insz] if isinstance(insz, str) else insz
    return {
        "Context": {
            "Naam": "GeefGezinssamenstelling",
            "Versie": "02.02.0000",
            "Bericht": {
                "Type": "VRAAG",
                "Tijdstip": {"Datum": "2025-03-04", "Tijd": "09:15:00.000"},
                "Afzender": {"Identificatie": CLIENT_ID, "Referte": referte,
                             "Hoedanigheid": "1234"},
                "Ontvanger": {"Identificatie": "vip.vlaanderen.be", "Naam": "VIP"},
            },
        },
        "Vragen": {
            "Vraag": [
                {"Referte": referte, "Inhoud": {"Criteria": {"INSZ": value}, "Taal": "nl"}}
                for value in inszs
            ]
        },
    }


@pytest.fixture(scope="session")
def build_request(zeep_clients: dict[str | None, zeep.Client]) -> BuildRequest:
    """``build_request(insz, signer="trusted"|"untrusted"|None, referte=None) -> bytes``."""

    def build(
        insz: str | list[str], signer: str | None = "trusted", referte: str | None = None
    ) -> bytes:
        client = zeep_clients[signer]
        envelope = client.create_message(
            client.service, "GeefGezinssamenstelling", Verzoek=verzoek(insz, referte=referte)
        )
        return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))

    return build


@pytest.fixture(scope="session")
def gateway_pair(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    """The key pair the simulator signs its replies with, when asked to."""
    return generate_self_signed(tmp_path_factory.mktemp("gateway"), "gateway", "MAGDA sim")


@pytest.fixture(scope="session")
def schemas() -> dict[str, etree.XMLSchema]:
    """Every service XSD, compiled once."""
    return {name: etree.XMLSchema(etree.parse(str(service_file(name, ".xsd"))))
            for name in SERVICE_FILES}


def service_verzoek(
    service: str, inhoud: dict[str, Any], *, client_id: str = CLIENT_ID,
    referte: str | None = None,
) -> dict[str, Any]:
    """A Verzoek for ``service`` with one Vraag whose Inhoud is ``inhoud``, as zeep takes it."""
    referte = referte or str(uuid.uuid4())
    return {
        "Context": {
            "Naam": service,
            "Versie": SERVICE_FILES[service][1],
            "Bericht": {
                "Type": "VRAAG",
                "Tijdstip": {"Datum": "2025-03-04", "Tijd": "09:15:00.000"},
                "Afzender": {"Identificatie": client_id, "Referte": referte,
                             "Hoedanigheid": "1234"},
                "Ontvanger": {"Identificatie": "vip.vlaanderen.be", "Naam": "VIP"},
            },
        },
        "Vragen": {"Vraag": [{"Referte": referte, "Inhoud": inhoud}]},
    }


@pytest.fixture(scope="session")
def build_service_request(pki: dict[str, KeyPair]) -> BuildRequest:
    """``build_service_request(service, inhoud, signer="trusted", client_id=CLIENT_ID) -> bytes``.

    Built and signed by zeep from our WSDL, as the hub builds them.
    """
    clients: dict[tuple[str, str | None], zeep.Client] = {}

    def client_for(service: str, signer: str | None) -> zeep.Client:
        if (service, signer) not in clients:
            wsse = None
            if signer is not None:
                wsse = BinarySignature(
                    str(pki[signer].key), str(pki[signer].cert),
                    signature_method=xmlsec.Transform.RSA_SHA256,
                    digest_method=xmlsec.Transform.SHA256,
                )
            clients[service, signer] = zeep.Client(str(service_file(service, ".wsdl")), wsse=wsse)
        return clients[service, signer]

    def build(
        service: str, inhoud: dict[str, Any], signer: str | None = "trusted",
        client_id: str = CLIENT_ID, referte: str | None = None,
    ) -> bytes:
        client = client_for(service, signer)
        if service == "GeefGezinssamenstelling":
            # person_inhoud serves it too, but this service has no Bron (MAGDA refuses one).
            inhoud = {key: value for key, value in inhoud.items() if key != "Bron"}
        verzoek = service_verzoek(service, inhoud, client_id=client_id, referte=referte)
        envelope = client.create_message(client.service, service, Verzoek=verzoek)
        return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))

    return build


@pytest.fixture(scope="session")
def population() -> Population:
    """The default population (seed 7, 60 households)."""
    return generate_population()


@pytest.fixture
def settings(pki: dict[str, KeyPair]) -> MagdaSimulatorSettings:
    """A simulator on a free port, trusting the test client."""
    return MagdaSimulatorSettings(port=0, trusted_certs=(pki["trusted"].cert,), wsdl_dir=WSDL_DIR)


@pytest.fixture
async def simulator(
    settings: MagdaSimulatorSettings, population: Population
) -> AsyncIterator[MagdaSimulator]:
    """A running simulator, closed after the test."""
    running = await start_magda_simulator(settings, population)
    try:
        yield running
    finally:
        await running.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP client session."""
    async with aiohttp.ClientSession() as session:
        yield session


class SoapReply:
    """A posted request's status, raw body and (when well-formed) the Body's payload."""

    def __init__(self, status: int, content_type: str, body: bytes) -> None:
        self.status = status
        self.content_type = content_type
        self.body = body

    @property
    def payload(self) -> etree._Element:
        """The single element in the SOAP Body."""
        envelope = etree.fromstring(self.body)
        return envelope.find(f"{{{SOAP_NS}}}Body")[0]

    @property
    def faultstring(self) -> str | None:
        """The Fault's faultstring, if this is a Fault."""
        payload = self.payload
        if payload.tag != f"{{{SOAP_NS}}}Fault":
            return None
        text: str | None = payload.findtext("faultstring")
        return text


Post = Callable[..., Any]


@pytest.fixture
def post(simulator: MagdaSimulator, http: aiohttp.ClientSession) -> Post:
    """``await post(body_bytes, content_type="text/xml", client_timeout=None) -> SoapReply``."""

    async def send(
        body: bytes,
        content_type: str = "text/xml; charset=utf-8",
        client_timeout: float | None = None,
    ) -> SoapReply:
        async with http.post(
            simulator.url_for("GeefGezinssamenstelling"),
            data=body,
            headers={"Content-Type": content_type, "SOAPAction": '""'},
            timeout=aiohttp.ClientTimeout(total=client_timeout),
        ) as response:
            return SoapReply(response.status, response.headers["Content-Type"],
                             await response.read())

    return send


Call = Callable[..., Any]


@pytest.fixture
def call(
    simulator: MagdaSimulator, http: aiohttp.ClientSession, build_service_request: BuildRequest
) -> Call:
    """``await call(service, inhoud, signer="trusted", client_id=CLIENT_ID) -> SoapReply``."""

    async def send(service: str, inhoud: dict[str, Any], **options: Any) -> SoapReply:
        body = build_service_request(service, inhoud, **options)
        async with http.post(simulator.url_for(service), data=body,
                             headers={"Content-Type": "text/xml; charset=utf-8"}) as response:
            return SoapReply(response.status, response.headers["Content-Type"],
                             await response.read())

    return send


def person_inhoud(insz: str) -> dict[str, Any]:
    """Vraag/Inhoud of GeefPersoon (and of GeefGezinssamenstelling)."""
    return {"Criteria": {"INSZ": insz}, "Bron": "RR", "Taal": "nl"}


def history_inhoud(insz: str, day: dt.date, op: str) -> dict[str, Any]:
    """Vraag/Inhoud of GeefHistoriekPersoon: Datum with its Op attribute."""
    return {"Criteria": {"INSZ": insz, "Datum": {"_value_1": day, "Op": op}},
            "Bron": "RR", "Taal": "nl"}


def registration_inhoud(insz: str | list[str], client_id: str = CLIENT_ID) -> dict[str, Any]:
    """Vraag/Inhoud of RegistreerInschrijving for one INSZ or several."""
    keys = [insz] if isinstance(insz, str) else insz
    return {
        "Inschrijving": {
            "Identificatie": client_id,
            "Hoedanigheid": "1234",
            "BetrokkenSubject": {
                "Type": "PERS",
                "Subjecten": {"Subject": [{"Type": "PERS", "Sleutel": key} for key in keys]},
            },
            "Periode": {"Begin": "2025-01-01", "Einde": "2025-12-31"},
        }
    }


@pytest.fixture
def control(simulator: MagdaSimulator, http: aiohttp.ClientSession) -> Callable[..., Any]:
    """``await control(method, path, json=None) -> (status, parsed JSON)`` on /_control."""

    async def call(method: str, path: str, json: Any = None) -> tuple[int, Any]:
        async with http.request(method, f"{simulator.base_url}/_control/{path}",
                                json=json) as response:
            return response.status, await response.json()

    return call


# ----- civil status (DABS) and criminal record -----

GEMEENTE = "44021"
"""The municipality (Gent) that asks in the DABS and criminal-record tests."""
OFFICIAL = "85073003328"
"""Gemeente/Aanvrager: the official who asks for a criminal-record extract."""


def partial_date(day: dt.date | str | dict[str, str]) -> dict[str, str]:
    """A PartieelDatum: ``dt.date`` in full, or ``"1972"`` / ``"1972-05"`` for part of one (a
    dict is taken as it is)."""
    if isinstance(day, dict):
        return day
    if isinstance(day, dt.date):
        return {"Jaar": f"{day.year:04d}", "Maand": f"{day.month:02d}", "Dag": f"{day.day:02d}"}
    parts = day.split("-")
    return dict(zip(("Jaar", "Maand", "Dag"), parts, strict=False))


def search_inhoud(**criteria: Any) -> dict[str, Any]:
    """Vraag/Inhoud of ZoekAktenBurgerlijkeStand, MAGDA's: Criteria, GemeenteVanAfgifte, Taal.

    ``ZoekInRijksregister`` defaults to "0"; dates become PartieelDatum.
    """
    criteria.setdefault("ZoekInRijksregister", "0")
    for key in ("DatumCreatie", "Geboortedatum"):
        if key in criteria:
            criteria[key] = partial_date(criteria[key])
    order = ("DocumentType", "DocumentStatus", "DatumCreatie", "INSZ", "Naam", "Voornaam",
             "Geboortedatum", "GemeenteVanOpmaak", "ZoekInRijksregister")
    return {"Criteria": {key: criteria[key] for key in order if key in criteria},
            "GemeenteVanAfgifte": GEMEENTE, "Taal": "nl"}


def act_inhoud(reference: str, *, copy: bool = False, taal: str = "nl",
               model: str | None = None) -> dict[str, Any]:
    """Vraag/Inhoud of GeefAkteBurgerlijkeStand: an extract (with its Model), or a ``copy``."""
    chosen: dict[str, Any] = {"DocumentReferte": reference, "Taal": taal}
    if not copy:
        chosen["Model"] = model or "GEBOORTE"  # an extract's Model is required
    key = "CriteriaAfschrift" if copy else "CriteriaUittreksel"
    return {"Criteria": {key: chosen}, "GemeenteVanAfgifte": GEMEENTE, "Taal": taal}


def extract_request_inhoud(insz: str, model: str = "595", *, activity: str | None = None,
                           **extra: Any) -> dict[str, Any]:
    """Vraag/Inhoud of GeefUittrekselStrafregister asking for a new extract.

    TypeUittreksel is ``model``, or ``model-activity`` for a model per activity.
    """
    criteria: dict[str, Any] = {
        "INSZ": insz, "INSZOpUittreksel": "1", "Taal": "nl",
        "TypeUittreksel": model if activity is None else f"{model}-{activity}",
    }
    criteria.update(extra)
    return {"Gemeente": {"NISCode": GEMEENTE, "Aanvrager": OFFICIAL}, "Criteria": criteria}


def extract_fetch_inhoud(number: str) -> dict[str, Any]:
    """Vraag/Inhoud of GeefUittrekselStrafregister fetching an extract by its number."""
    return {"Gemeente": {"NISCode": GEMEENTE, "Aanvrager": OFFICIAL},
            "Criteria": {"Identificatienummer": number}}


def status_inhoud(**criteria: Any) -> dict[str, Any]:
    """Vraag/Inhoud of GeefStatusUittrekselStrafregister."""
    return {"Gemeente": {"NISCode": GEMEENTE, "Aanvrager": OFFICIAL}, "Criteria": criteria}


def types_inhoud(taal: str = "nl") -> dict[str, Any]:
    """Vraag/Inhoud of GeefTypesUittrekselStrafregister."""
    return {"Criteria": {"Taal": taal}}


def pdf_text(pdf: bytes) -> str:
    """What poppler's ``pdftotext`` reads in a PDF."""
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True,
                          check=True, timeout=30)
    return done.stdout.decode("utf-8")


@dataclass(frozen=True)
class Mtom:
    """An MTOM reply: its Content-Type, raw body and MIME parts."""

    content_type: str
    body: bytes

    @property
    def parts(self) -> Any:
        """The MIME parts, the SOAP envelope first."""
        return MultipartDecoder(self.body, self.content_type).parts

    def envelope(self, *, inline: bool = True) -> etree._Element:
        """The root part; with ``inline`` the attachment's exact bytes put back as base64."""
        root, *attachments = self.parts
        envelope = etree.fromstring(root.content)
        if inline:
            for part in attachments:
                content_id = part.headers[b"Content-ID"].decode()
                include = envelope.find(f".//{{{XOP_NS}}}Include")
                assert include.get("href") == "cid:" + content_id.strip("<>")
                parent, before = include.getparent(), include.getprevious()
                parent.remove(include)
                # Where the Include stood: after Bestand/Naam, or as the element's content.
                encoded = base64.b64encode(part.content).decode()
                if before is not None:
                    before.tail = encoded
                else:
                    parent.text = encoded
        return envelope
