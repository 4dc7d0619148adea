"""Every answer kind of the simulated DABS and criminal-record services validates against MAGDA's
published response schema of that service (``../shared/magda-reference``).

The questions are built by zeep from our WSDL, as the hub builds them, and posted to a running
simulator; each answer's Body payload is checked with :func:`reference.schema_errors`. The
criminal record's extract travels MTOM: its root part is checked as it comes (MAGDA's schema has
``Bestand`` hold the ``xop:Include`` itself).
"""

# ruff: noqa: F811  (the simulator fixtures are imported by name, then used as arguments)
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from lxml import etree

from adapters.magda.envelope import ParsedReply, parse_reply
from hub.config import REPO_ROOT
from simulators.population_data import WELL_KNOWN, WELL_KNOWN_ACTS
from tests.conformance import reference
from tests.simulators.conftest import (  # noqa: F401  (fixtures)
    SOAP_NS,
    Call,
    Mtom,
    SoapReply,
    act_inhoud,
    build_service_request,
    call,
    control,
    extract_fetch_inhoud,
    extract_request_inhoud,
    http,
    pki,
    population,
    search_inhoud,
    settings,
    simulator,
    status_inhoud,
    types_inhoud,
)

SEARCH = "ZoekAktenBurgerlijkeStand"
ACT = "GeefAkteBurgerlijkeStand"
EXTRACT = "GeefUittrekselStrafregister"
STATUS = "GeefStatusUittrekselStrafregister"
TYPES = "GeefTypesUittrekselStrafregister"
SINGLE = WELL_KNOWN["single"]
Control = Callable[..., Any]


@pytest.fixture(autouse=True)
def _reference() -> None:
    reference.reference_dir()  # skips (fails under CI) without MAGDA's material


def _payload(reply: SoapReply) -> etree._Element:
    assert reply.status == 200, reply.body[:300]
    if reply.content_type.startswith("multipart/related"):
        envelope = Mtom(reply.content_type, reply.body).envelope(inline=False)
        payload: etree._Element = envelope.find(f"{{{SOAP_NS}}}Body")[0]
        return payload
    return reply.payload


def _valid(reply: SoapReply, service: str) -> etree._Element:
    """The answer's payload, after checking it against MAGDA's response schema."""
    payload = _payload(reply)
    assert reference.schema_errors(payload, service, "response") == []
    return payload


def _antwoord(payload: etree._Element) -> etree._Element:
    antwoord = payload.find("Repliek/Antwoorden/Antwoord")
    assert antwoord is not None
    return antwoord


def _codes(payload: etree._Element, level: str = "Repliek/Antwoorden/Antwoord") -> list[str]:
    return [u.findtext("Identificatie") or ""
            for u in payload.findall(f"{level}/Uitzonderingen/Uitzondering")]


# ----- DABS -----

@pytest.mark.parametrize(("criteria", "count"), [
    ({"INSZ": WELL_KNOWN["child"]}, 1),
    ({"INSZ": SINGLE}, 2),
    ({"DocumentType": "ERKENNING", "INSZ": WELL_KNOWN["cohabitant"]}, 2),
    ({"Naam": "Maes", "Geboortedatum": "1972"}, 2),
    ({"DocumentType": "GEBOORTE", "DatumCreatie": "1941"}, 1),
    ({"INSZ": WELL_KNOWN["burial_declared"], "DocumentType": "LEVENLOOS_KIND"}, 1),
], ids=["birth", "two-acts", "ambiguous", "by-name", "not-digitised", "outsiders"])
async def test_search_synopses_validate(call: Call, criteria: dict[str, Any], count: int) -> None:
    payload = _valid(await call(SEARCH, search_inhoud(**criteria)), SEARCH)
    synopses = _antwoord(payload).findall(
        "Inhoud/AkteBurgerlijkeStandSynopsisLijst/AkteBurgerlijkeStandSynopsis")
    assert len(synopses) == count


@pytest.mark.parametrize(("criteria", "code"), [
    ({"INSZ": WELL_KNOWN["foreigner"]}, "30001"),
    ({}, "20100"),
    ({"INSZ": "46061400106"}, "20002"),
])
async def test_search_refusals_validate(call: Call, criteria: dict[str, Any], code: str) -> None:
    payload = _valid(await call(SEARCH, search_inhoud(**criteria)), SEARCH)
    assert _codes(payload) == [code]
    assert _antwoord(payload).find("Inhoud") is None


@pytest.mark.parametrize("copy", [False, True], ids=["extract", "copy"])
@pytest.mark.parametrize("act", ["birth_child", "marriage_head", "death_deceased"])
async def test_act_documents_validate(call: Call, act: str, copy: bool) -> None:
    payload = _valid(await call(ACT, act_inhoud(WELL_KNOWN_ACTS[act], copy=copy)), ACT)
    document = _antwoord(payload).find(
        f"Inhoud/AkteBurgerlijkeStand/{'Afschrift' if copy else 'Uittreksel'}/Document")
    assert document is not None and document.get("Formaat") == "PDF"


@pytest.mark.parametrize(("reference_", "code"), [
    ("AKTE-00000-1900-000000", "30001"),
    (WELL_KNOWN_ACTS["birth_parent_not_digitised"], "30010"),
])
async def test_act_refusals_validate(call: Call, reference_: str, code: str) -> None:
    payload = _valid(await call(ACT, act_inhoud(reference_)), ACT)
    assert _codes(payload) == [code]


# ----- criminal record -----

async def _request(call: Call, insz: str = SINGLE, model: str = "595",
                   activity: str | None = None) -> str:
    payload = _valid(await call(EXTRACT, extract_request_inhoud(insz, model, activity=activity,
                                                                Referentie="conformance")),
                     EXTRACT)
    extract = _antwoord(payload).find("Inhoud/UittrekselStrafregister")
    assert extract is not None and extract.findtext("Status") == "IN_BEHANDELING"
    return extract.findtext("Identificatienummer") or ""


async def _status(call: Call, **criteria: Any) -> list[tuple[str, str]]:
    payload = _valid(await call(STATUS, status_inhoud(**criteria)), STATUS)
    infos = _antwoord(payload).findall(
        "Inhoud/StatusUittrekselStrafregister/InformatieUittreksels/InformatieUittreksel")
    return [(i.findtext("Identificatienummer") or "", i.findtext("Status") or "") for i in infos]


async def _fetch(call: Call, number: str) -> etree._Element:
    return _valid(await call(EXTRACT, extract_fetch_inhoud(number)), EXTRACT)


async def test_the_asynchronous_flow_validates_at_every_step(call: Call) -> None:
    number = await _request(call)
    fetched = await _fetch(call, number)  # not ready yet: the status, no Bestand
    extract = _antwoord(fetched).find("Inhoud/UittrekselStrafregister")
    assert extract is not None and extract.find("Bestand") is None
    assert await _status(call, INSZ=SINGLE) == [(number, "IN_BEHANDELING")]
    assert await _status(call, INSZ=SINGLE, KlaarVoorDownload="1") == [(number, "KLAAR")]
    fetched = await _fetch(call, number)  # ready: the PDF as an MTOM attachment
    bestand = _antwoord(fetched).find("Inhoud/UittrekselStrafregister/Bestand")
    assert bestand is not None and bestand.findtext("Naam")
    assert await _status(call, Referentie="conformance") == [(number, "KLAAR")]


async def test_a_refused_police_check_validates(call: Call) -> None:
    refused = WELL_KNOWN["police_check_refused"]
    number = await _request(call, refused, "596.2", "JEUGDWERK")
    states = [await _status(call, INSZ=refused) for _ in range(4)]
    assert [s[0][1] for s in states] == ["IN_BEHANDELING"] * 3 + ["GEWEIGERD"]
    extract = _antwoord(await _fetch(call, number)).find("Inhoud/UittrekselStrafregister")
    assert extract is not None and extract.findtext("Status") == "GEWEIGERD"


async def test_nothing_found_is_an_empty_page(call: Call) -> None:
    assert await _status(call, INSZ=WELL_KNOWN["mover"]) == []


@pytest.mark.parametrize(("inhoud", "code"), [
    (extract_request_inhoud("46061400106"), "20002"),
    (extract_request_inhoud(SINGLE, "596.3"), "20121"),
    (extract_fetch_inhoud("99999999-9"), "30001"),
])
async def test_criminal_record_refusals_validate(
    call: Call, inhoud: dict[str, Any], code: str
) -> None:
    payload = _valid(await call(EXTRACT, inhoud), EXTRACT)
    assert _codes(payload) == [code]


async def test_status_refusal_validates(call: Call) -> None:
    payload = _valid(await call(STATUS, status_inhoud(INSZ="46061400106")), STATUS)
    assert _codes(payload) == ["20002"]


async def test_the_types_list_validates(call: Call) -> None:
    payload = _valid(await call(TYPES, types_inhoud()), TYPES)
    codes = [t.findtext("Code") for t in _antwoord(payload).findall("Inhoud/TypesUittreksel")]
    assert {"593", "595", "596.1-TAXI", "596.2-JEUGDWERK"} <= set(codes)


# ----- exceptions at each level, for every service -----

QUESTIONS: dict[str, dict[str, Any]] = {
    SEARCH: search_inhoud(INSZ=SINGLE),
    ACT: act_inhoud(WELL_KNOWN_ACTS["birth_single"]),
    EXTRACT: extract_request_inhoud(SINGLE),
    STATUS: status_inhoud(INSZ=SINGLE),
    TYPES: types_inhoud(),
}


@pytest.mark.parametrize(("level", "kind"), [
    ("repliek", "FOUT"), ("antwoord", "FOUT"), ("antwoord", "WAARSCHUWING"),
    ("antwoord", "INFORMATIE"),
])
@pytest.mark.parametrize("service", sorted(QUESTIONS))
async def test_exceptions_validate_at_each_level(
    call: Call, control: Control, service: str, level: str, kind: str
) -> None:
    status, body = await control("POST", "faults", {
        "service": service, "kind": "magda-error", "code": "99996", "level": level,
        "type": kind, "oorsprong": "MAGDA"})
    assert status == 201, body
    payload = _valid(await call(service, QUESTIONS[service]), service)
    if level == "repliek":
        assert _codes(payload, "Repliek") == ["99996"]
        assert payload.find("Repliek/Antwoorden") is None
    else:
        assert _codes(payload)[0] == "99996"
        assert (_antwoord(payload).find("Inhoud") is None) == (kind == "FOUT")


@pytest.mark.parametrize("service", sorted(QUESTIONS))
async def test_a_huge_answer_validates(call: Call, control: Control, service: str) -> None:
    await control("POST", "faults", {"service": service, "kind": "huge-answer",
                                     "size_bytes": 20_000})
    _valid(await call(service, QUESTIONS[service]), service)


# ----- the golden answers the mapping tests read are MAGDA's structure -----

GOLDEN = REPO_ROOT / "tests" / "golden"
ROOTS = {f"{service}Response": service for service in (SEARCH, ACT, EXTRACT, STATUS, TYPES)}


def _golden_answers() -> list[str]:
    return sorted(str(path.relative_to(GOLDEN)) for folder in ("civil-status", "criminal-record")
                  for path in (GOLDEN / folder).glob("*.xml"))


@pytest.mark.parametrize("name", _golden_answers())
def test_each_golden_answer_validates(name: str) -> None:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.parse(str(GOLDEN / name), parser).getroot()
    service = ROOTS[etree.QName(root).localname]
    assert reference.schema_errors(root, service, "response") == []


def test_the_golden_mtom_reply_validates() -> None:
    folder = GOLDEN / "criminal-record"
    content_type = (folder / "fetch-mtom.content-type").read_text(encoding="ascii").strip()
    mtom = Mtom(content_type, (folder / "fetch-mtom.bin").read_bytes())
    payload = mtom.envelope(inline=False).find(f"{{{SOAP_NS}}}Body")[0]
    assert reference.schema_errors(payload, EXTRACT, "response") == []


# ----- the hub reads Uitzonderingen where MAGDA puts them -----

_UITZONDERING = """<Uitzondering><Identificatie>{code}</Identificatie>
<Oorsprong>{origin}</Oorsprong><Type>{kind}</Type><Tijdstip><Datum>2025-03-04</Datum><Tijd>09:15:00.123</Tijd></Tijdstip>
<Diagnose>{diagnose}</Diagnose></Uitzondering>"""
_CONTEXT = """<Context><Naam>{service}</Naam><Versie>02.00.0000</Versie><Bericht>
<Type>ANTWOORD</Type><Tijdstip><Datum>2025-03-04</Datum><Tijd>09:15:00.123</Tijd></Tijdstip><Afzender>
<Identificatie>vip.vlaanderen.be</Identificatie><Referte>reply-1</Referte></Afzender></Bericht>
</Context>"""
_NAMESPACES = {
    SEARCH: "http://webservice.zoekaktenburgerlijkestanddienst-02_00.persoon-02_00.vip.vlaanderen.be",
    STATUS: "http://webservice.geefstatusuittrekselstrafregisterdienst-02_00.justitie-02_00"
            ".vip.vlaanderen.be",
}


def _envelope(service: str, repliek: str) -> bytes:
    return (f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}"><soapenv:Body>'
            f'<ns:{service}Response xmlns:ns="{_NAMESPACES[service]}"><Repliek>'
            f"{_CONTEXT.format(service=service)}{repliek}</Repliek></ns:{service}Response>"
            "</soapenv:Body></soapenv:Envelope>").encode()


def _parsed(service: str, repliek: str) -> ParsedReply:
    content = _envelope(service, repliek)
    payload = etree.fromstring(content).find(f"{{{SOAP_NS}}}Body")[0]
    assert reference.schema_errors(payload, service, "response") == []  # MAGDA's shape
    return parse_reply(content, 200, service=service, expected_referte="vraag-1")[1]


def test_a_question_level_warning_comes_with_the_data() -> None:
    warning = _UITZONDERING.format(code="30004", origin="RR", kind="WAARSCHUWING",
                                   diagnose="Persoon heeft een nieuw INSZ")
    reply = _parsed(STATUS, f"""<Antwoorden><Antwoord><Referte>vraag-1</Referte><Inhoud>
<StatusUittrekselStrafregister><Pagina><Paginanummer>1</Paginanummer>
<TotaalAantalPaginas>0</TotaalAantalPaginas><TotaalAantalResultaten>0</TotaalAantalResultaten>
</Pagina></StatusUittrekselStrafregister></Inhoud><Uitzonderingen>{warning}</Uitzonderingen>
</Antwoord></Antwoorden>""")
    assert reply.errors == () and reply.inhoud is not None
    (read,) = reply.warnings
    assert (read.code, read.origin, read.type, read.diagnosis) == (
        "30004", "RR", "WAARSCHUWING", "Persoon heeft een nieuw INSZ")


def test_message_and_question_level_errors_are_read() -> None:
    fout = _UITZONDERING.format(code="99996", origin="MAGDA", kind="FOUT",
                                diagnose="Bron niet beschikbaar")
    message = _parsed(SEARCH, f"<Uitzonderingen>{fout}</Uitzonderingen>")
    assert [(e.code, e.origin, e.type) for e in message.errors] == [("99996", "MAGDA", "FOUT")]
    assert message.inhoud is None
    notfound = _UITZONDERING.format(code="30001", origin="DABS", kind="FOUT",
                                    diagnose="Geen akten gevonden")
    question = _parsed(SEARCH, f"""<Antwoorden><Antwoord><Referte>vraag-1</Referte>
<Uitzonderingen>{notfound}</Uitzonderingen></Antwoord></Antwoorden>""")
    assert [(e.code, e.origin, e.diagnosis) for e in question.errors] == [
        ("30001", "DABS", "Geen akten gevonden")]
