"""The simulator's person answers against MAGDA's published response schemas, over SOAP/HTTP.

For every person of the simulator's population (the named personas and the generated people)
and each of GeefPersoon, GeefHistoriekPersoon and GeefGezinssamenstelling 02.02, the answer's
``<Naam>Response`` element validates against MAGDA's own ``<Naam>Response.xsd``: data answers,
warnings (30004) and refusals (20002, 30001, 40003, 40098) alike. A second set of tests reads
the answers in MAGDA's structure and checks that their facts are the persona's facts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import zeep
from lxml import etree

from simulators.magda import MagdaSimulator, MagdaSimulatorSettings, start_magda_simulator
from simulators.population_data import WELL_KNOWN, Person, PersonFacts, Population
from simulators.population_model import COUNTRIES, register_date
from tests.conformance.reference import official_answers, reference_dir, schema_errors

WSDL_DIR = Path(__file__).resolve().parents[2] / "wsdl" / "magda"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SERVICES = ("GeefPersoon", "GeefHistoriekPersoon", "GeefGezinssamenstelling")
FOLDERS = {name: f"{name}-02.02" for name in SERVICES}
CLIENT_ID = "kb.vlaanderen.be/aiv/loket-hub-conformance"
SEX = {"M": "1", "V": "2"}

Ask = Callable[..., Any]


@pytest.fixture(autouse=True)
def _reference() -> None:
    reference_dir()


@pytest.fixture
async def simulator() -> AsyncIterator[MagdaSimulator]:
    settings = MagdaSimulatorSettings(port=0, require_signature=False, wsdl_dir=WSDL_DIR,
                                      enforce_repertorium=False)
    running = await start_magda_simulator(settings)
    try:
        yield running
    finally:
        await running.close()


@pytest.fixture(scope="module")
def clients() -> dict[str, zeep.Client]:
    """zeep clients on our WSDLs: the requests are built as the hub builds them."""
    return {name: zeep.Client(str(WSDL_DIR / FOLDERS[name] / f"{name}.wsdl"))
            for name in SERVICES}


def _inhoud(service: str, insz: str, bron: str) -> dict[str, Any]:
    criteria: dict[str, Any] = {"INSZ": insz}
    if service == "GeefHistoriekPersoon":
        criteria["Datum"] = {"_value_1": dt.date(1900, 1, 1), "Op": "0"}
    if service == "GeefGezinssamenstelling":
        return {"Criteria": criteria, "Taal": "nl"}
    return {"Criteria": criteria, "Bron": bron, "Taal": "nl"}


@pytest.fixture
async def ask(
    simulator: MagdaSimulator, clients: dict[str, zeep.Client]
) -> AsyncIterator[Ask]:
    """``await ask(service, insz, bron="RR") -> the <Naam>Response element`` over HTTP."""
    async with _asking(simulator, clients) as send:
        yield send


@contextlib.asynccontextmanager
async def _asking(
    simulator: MagdaSimulator, clients: dict[str, zeep.Client]
) -> AsyncIterator[Ask]:
    async with aiohttp.ClientSession() as http:

        async def send(service: str, insz: str, bron: str = "RR") -> etree._Element:
            referte = str(uuid.uuid4())
            verzoek = {
                "Context": {
                    "Naam": service, "Versie": "02.02.0000",
                    "Bericht": {
                        "Type": "VRAAG",
                        "Tijdstip": {"Datum": dt.date(2025, 3, 4), "Tijd": "09:15:00.000"},
                        "Afzender": {"Identificatie": CLIENT_ID, "Referte": referte,
                                     "Hoedanigheid": "1234"},
                    },
                },
                "Vragen": {"Vraag": [{"Referte": referte,
                                      "Inhoud": _inhoud(service, insz, bron)}]},
            }
            client = clients[service]
            message = client.create_message(client.service, service, Verzoek=verzoek)
            async with http.post(simulator.url_for(service), data=etree.tostring(message),
                                 headers={"Content-Type": "text/xml; charset=utf-8"}) as reply:
                assert reply.status == 200, await reply.text()
                envelope = etree.fromstring(await reply.read())
            payload: etree._Element = envelope.find(f"{{{SOAP_NS}}}Body")[0]
            return payload

        yield send


def _everyone(population: Population) -> Iterator[str]:
    yield from (person.insz for person in population.persons())
    yield from (WELL_KNOWN[key] for key in ("unknown", "invalid_check", "renumbered_old"))


@pytest.mark.parametrize("service", SERVICES)
async def test_every_answer_validates_against_magdas_response_schema(
    ask: Ask, simulator: MagdaSimulator, service: str
) -> None:
    failures: dict[str, list[str]] = {}
    codes: set[str] = set()
    named = set(WELL_KNOWN.values())
    for insz in _everyone(simulator.population):
        # Bron KSZ matters for a bis number; asked of the named personas, not of everyone.
        for bron in ("RR", "KSZ") if insz in named else ("RR",):
            if bron == "KSZ" and service == "GeefGezinssamenstelling":
                continue
            payload = await ask(service, insz, bron)
            errors = schema_errors(payload, service, "response")
            if errors:
                failures[f"{insz}/{bron}"] = errors[:3]
            codes.update(e.text or "" for e in payload.iter("Identificatie")
                         if e.getparent() is not None and e.getparent().tag == "Uitzondering")
    assert not failures, failures
    # The refusals and warnings were among what was validated.
    expected = {"20002", "30001", "30004"} | ({"40098"} if service == "GeefGezinssamenstelling"
                                              else set())
    assert expected <= codes, codes


@pytest.mark.parametrize("service", ["GeefPersoon", "GeefHistoriekPersoon"])
async def test_unregistered_insz_answers_40003_in_magdas_shape(service: str) -> None:
    settings = MagdaSimulatorSettings(port=0, require_signature=False, wsdl_dir=WSDL_DIR)
    clients = {service: zeep.Client(str(WSDL_DIR / FOLDERS[service] / f"{service}.wsdl"))}
    async with await start_magda_simulator(settings) as simulator, \
            _asking(simulator, clients) as ask:
        payload = await ask(service, WELL_KNOWN["household_head"])
    assert schema_errors(payload, service, "response") == []
    uitzondering = payload.find("Repliek/Antwoorden/Antwoord/Uitzonderingen/Uitzondering")
    assert [c.tag for c in uitzondering] == [
        "Identificatie", "Oorsprong", "Type", "Tijdstip", "Diagnose"]
    assert (uitzondering.findtext("Identificatie"), uitzondering.findtext("Type")) == (
        "40003", "FOUT")
    assert payload.find("Repliek/Antwoorden/Antwoord/Inhoud") is None


# ----- the facts -----

def _antwoord(payload: etree._Element) -> etree._Element:
    antwoord: etree._Element = payload.find("Repliek/Antwoorden/Antwoord")
    return antwoord


def _texts(element: etree._Element, path: str) -> list[str]:
    return [e.text or "" for e in element.findall(path)]


def _check_name(naam: etree._Element, person: Person) -> None:
    assert tuple(_texts(naam, "Achternamen/Achternaam")) == person.last_names
    assert tuple(_texts(naam, "Voornamen/Voornaam")) == person.first_names
    assert (naam.find("Voornamen") is None) == (not person.first_names)


def _check_address(plaats: etree._Element, facts: PersonFacts) -> None:
    last = facts.last_residence
    assert last is not None
    adres = last.address
    street = plaats.findtext("Straatnaam/String") or plaats.findtext(
        "NietGestandaardiseerdeStraatnaam/String")
    town = plaats.findtext("Gemeentenaam/String") or plaats.findtext(
        "NietGestandaardiseerdeGemeentenaam/String")
    assert (street, plaats.findtext("Huisnummer"), plaats.findtext("Busnummer"),
            plaats.findtext("Postcode"), plaats.findtext("NISCodeGemeente"), town) == (
        adres.street, adres.house_number, adres.box, adres.postcode, adres.nis_code,
        adres.municipality)
    assert plaats.get("DatumBegin") == last.begin.isoformat()


async def test_geefpersoon_facts_are_the_personas_facts(
    ask: Ask, simulator: MagdaSimulator
) -> None:
    population = simulator.population
    for person in population.persons():
        facts = population.facts_of(person.insz)
        assert facts is not None
        bron = "KSZ" if person.insz == WELL_KNOWN["bis_number"] else "RR"
        persoon = _antwoord(await ask("GeefPersoon", person.insz, bron)).find("Inhoud/Persoon")
        assert persoon is not None, person.insz
        assert persoon.get("Bron") == bron
        assert persoon.findtext("INSZ") == person.insz
        _check_name(persoon.find("Naam"), person)
        assert persoon.findtext("Geslacht/Code") == SEX[person.sex]
        assert persoon.findtext("Geboorte/Datum") == person.birth_date_text
        place = facts.birth_place
        assert place is not None
        assert persoon.findtext("Geboorte/Plaats/Gemeente/Naam") == place.name
        assert persoon.findtext("Geboorte/Plaats/Land/NISCode") == place.country
        assert persoon.findtext("Geboorte/Plaats/Land/ISOCode") == COUNTRIES[place.country][0]
        assert _texts(persoon, "Nationaliteiten/Nationaliteit/Code") == [
            n.code for n in facts.current_nationalities]
        state = facts.civil_state
        assert state is not None
        assert persoon.findtext("BurgerlijkeStaten/BurgerlijkeStaat/Code") == state.code
        if facts.last_residence is None:
            assert persoon.find("Adressen/Hoofdverblijfplaats") is None
        else:
            _check_address(persoon.find("Adressen/Hoofdverblijfplaats"), facts)
        assert _texts(persoon, "Statussen/Status/Code") == [s.code for s in facts.statuses]
        death = persoon.findtext("Overlijden/Datum")
        assert death == (None if facts.death is None else facts.death.date.isoformat())
        cohabitation = facts.cohabitation
        assert persoon.findtext("WettelijkeSamenwoning/Partner/INSZ") == (
            None if cohabitation is None else cohabitation.partner_insz)
        burial = facts.burial
        assert persoon.findtext("LijkbezorgingEnRitueel/WijzeVanLijkbezorging/Code") == (
            None if burial is None else burial.method)
        household = population.household_of(person.insz)
        if household is None:
            assert persoon.find("Referentiepersoon") is None
            assert persoon.find("Gezinsleden") is None
        elif household.head is person:
            assert _texts(persoon, "Gezinsleden/Gezinslid/INSZ") == [
                m.insz for m in household.members[1:]]
        else:
            assert persoon.findtext("Referentiepersoon/INSZ") == household.head.insz
            assert persoon.findtext("Referentiepersoon/Positie/Code") == person.relation_code


async def test_household_facts_are_the_households_facts(
    ask: Ask, simulator: MagdaSimulator
) -> None:
    population = simulator.population
    for household in population.households:
        for asked in household.members:
            leden = _antwoord(await ask("GeefGezinssamenstelling", asked.insz)).findall(
                "Inhoud/Gezinsleden/Gezinslid")
            assert [lid.findtext("INSZ") for lid in leden] == [
                m.insz for m in household.members]
            for lid, member in zip(leden, household.members, strict=True):
                facts = population.facts_of(member.insz)
                assert facts is not None
                _check_name(lid.find("Naam"), member)
                assert lid.findtext("Geboortedatum") == member.birth_date_text
                assert lid.findtext("Geslacht/Code") == SEX[member.sex]
                assert lid.findtext("Positie/Code") == member.relation_code
                _check_address(lid.find("Adressen/Hoofdverblijfplaats"), facts)
                assert lid.findtext("Bron/Code") == "RR"


async def test_history_facts_are_the_personas_periods(
    ask: Ask, simulator: MagdaSimulator
) -> None:
    population = simulator.population
    for person in population.persons():
        facts = population.facts_of(person.insz)
        assert facts is not None
        bron = "KSZ" if person.insz == WELL_KNOWN["bis_number"] else "RR"
        historiek = _antwoord(await ask("GeefHistoriekPersoon", person.insz, bron)).find(
            "Inhoud/HistoriekPersoon")
        assert historiek is not None, person.insz
        plaatsen = historiek.findall("HistoriekAdressen/HistoriekHoofdverblijfplaats/"
                                     "Hoofdverblijfplaats")
        # Newest first, each with its start only, as MAGDA answers.
        assert [p.get("DatumBegin") for p in plaatsen] == [
            r.begin.isoformat() for r in reversed(facts.residences)]
        assert [p.findtext("NISCodeGemeente") for p in plaatsen] == [
            r.address.nis_code for r in reversed(facts.residences)]
        assert all(p.get("DatumEinde") is None for p in plaatsen)
        staten = historiek.findall("HistoriekBurgerlijkeStaat/BurgerlijkeStaat")
        assert [(s.findtext("Code"), s.get("DatumBegin"), s.get("DatumEinde")) for s in staten] \
            == [(c.code, register_date(c.begin, person.birth_precision)
                 if c.begin == person.birth_date else c.begin.isoformat(),
                 None if c.end is None else c.end.isoformat())
                for c in reversed(facts.civil_states)]
        assert _texts(historiek, "HistoriekNationaliteit/Nationaliteit/Code") == [
            n.code for n in reversed(facts.nationalities)]


async def test_named_personas_have_their_variety(ask: Ask) -> None:
    """What the hub's tests pick personas for, as the answers show it."""
    persoon = _antwoord(await ask("GeefPersoon", WELL_KNOWN["several_surnames"])).find(
        "Inhoud/Persoon")
    assert len(persoon.findall("Naam/Achternamen/Achternaam")) == 2
    assert persoon.findtext("Geboorte/Datum") == "1950-05-00"
    persoon = _antwoord(await ask("GeefPersoon", WELL_KNOWN["incomplete_birth"])).find(
        "Inhoud/Persoon")
    assert persoon.findtext("Geboorte/Datum") == "1955-00-00"
    persoon = _antwoord(await ask("GeefPersoon", WELL_KNOWN["no_first_names"])).find(
        "Inhoud/Persoon")
    assert persoon.find("Naam/Voornamen") is None
    persoon = _antwoord(await ask("GeefPersoon", WELL_KNOWN["reference_address"])).find(
        "Inhoud/Persoon")
    assert persoon.findtext("Adressen/Hoofdverblijfplaats/ReferentieAdres/Begindatum") \
        == "2020-02-01"
    persoon = _antwoord(await ask("GeefPersoon", WELL_KNOWN["emigrated"])).find(
        "Inhoud/Persoon")
    assert persoon.findtext("Statussen/Status/Code") == "992"
    assert persoon.findtext("Adressen/VerblijfplaatsBuitenland/Land/ISOCode") == "SWE"
    assert _texts(persoon, "Adressen/PostadresBuitenland/Teksten/Tekst") == [
        "Storgatan 12", "114 55 Stockholm"]
    deceased = _antwoord(await ask("GeefPersoon", WELL_KNOWN["deceased"])).find("Inhoud/Persoon")
    assert deceased.findtext("Statussen/Status/Code") == "99990"
    assert deceased.findtext("Overlijden/Datum") == "2024-02-11"
    assert deceased.findtext("Adressen/Hoofdverblijfplaats/StraatCode") == "2841"
    struck = _antwoord(await ask("GeefPersoon", WELL_KNOWN["struck_off"])).find("Inhoud/Persoon")
    assert struck.findtext("Statussen/Status/Code") == "99991"
    # A bis number is only known to the KSZ.
    antwoord = _antwoord(await ask("GeefPersoon", WELL_KNOWN["bis_number"], "RR"))
    assert antwoord.findtext("Uitzonderingen/Uitzondering/Identificatie") == "30001"
    assert antwoord.find("Inhoud") is None
    persoon = _antwoord(await ask("GeefPersoon", WELL_KNOWN["bis_number"], "KSZ")).find(
        "Inhoud/Persoon")
    assert (persoon.get("Bron"), persoon.findtext("Register/Code")) == ("KSZ", "BIS")
    # A replaced bis number: a warning, and the person as she is known now.
    antwoord = _antwoord(await ask("GeefPersoon", WELL_KNOWN["renumbered_old"]))
    assert antwoord.findtext("Inhoud/Persoon/INSZ") == WELL_KNOWN["renumbered"]
    uitzondering = antwoord.find("Uitzonderingen/Uitzondering")
    assert (uitzondering.findtext("Identificatie"), uitzondering.findtext("Type")) == (
        "30004", "WAARSCHUWING")
    assert uitzondering.findtext("Annotaties/Annotatie/Waarde") == WELL_KNOWN["renumbered_old"]
    # MAGDA's notfound shape, per service.
    for service, oorsprong, omstandigheid in (("GeefPersoon", "RR", "140"),
                                              ("GeefHistoriekPersoon", "MAGDA", None),
                                              ("GeefGezinssamenstelling", "MAGDA", None)):
        uitzondering = _antwoord(await ask(service, WELL_KNOWN["unknown"])).find(
            "Uitzonderingen/Uitzondering")
        assert [c.tag for c in uitzondering][:5] == [
            "Identificatie", "Oorsprong", "Type", "Tijdstip", "Diagnose"]
        assert (uitzondering.findtext("Identificatie"), uitzondering.findtext("Oorsprong"),
                uitzondering.findtext("Type"), uitzondering.findtext("Diagnose"),
                uitzondering.findtext("Omstandigheid")) == (
            "30001", oorsprong, "FOUT", "Geen gegevens gevonden voor de vraag", omstandigheid)
    antwoord = _antwoord(await ask("GeefGezinssamenstelling", WELL_KNOWN["deceased"]))
    assert antwoord.findtext("Uitzonderingen/Uitzondering/Identificatie") == "40098"


# ----- our own wsdl/ says what MAGDA's schemas say -----

@pytest.mark.parametrize("service", SERVICES)
def test_our_response_schema_accepts_every_official_answer(service: str) -> None:
    """MAGDA's published answers fit our XSD: the same names, order and optionality."""
    ours = etree.XMLSchema(etree.parse(str(WSDL_DIR / FOLDERS[service] / f"{service}.xsd")))
    answers = list(official_answers(service))
    assert answers
    refused = {a.key: str(ours.error_log.last_error) for a in answers
               if not ours.validate(a.root())}
    assert not refused, refused


@pytest.mark.parametrize("service", SERVICES)
async def test_our_response_schema_accepts_every_simulator_answer(
    ask: Ask, simulator: MagdaSimulator, service: str
) -> None:
    ours = etree.XMLSchema(etree.parse(str(WSDL_DIR / FOLDERS[service] / f"{service}.xsd")))
    for key, insz in WELL_KNOWN.items():
        payload = await ask(service, insz, "KSZ" if key == "bis_number" else "RR")
        assert ours.validate(payload), (key, ours.error_log.last_error)


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize(("level", "kind"), [("repliek", "FOUT"), ("antwoord", "FOUT"),
                                             ("antwoord", "WAARSCHUWING")])
async def test_injected_errors_keep_magdas_shape(
    ask: Ask, simulator: MagdaSimulator, service: str, level: str, kind: str
) -> None:
    """A fault injected through the control API still answers in MAGDA's schema."""
    rule = {"kind": "magda-error", "service": service, "code": "99996", "level": level,
            "type": kind, "oorsprong": "RR", "diagnose": "Bron niet beschikbaar"}
    async with aiohttp.ClientSession() as http, http.post(
        f"{simulator.base_url}/_control/faults", json=rule
    ) as response:
        assert response.status == 201
    payload = await ask(service, WELL_KNOWN["household_head"])
    assert schema_errors(payload, service, "response") == []
    where = "Repliek/Uitzonderingen" if level == "repliek" else \
        "Repliek/Antwoorden/Antwoord/Uitzonderingen"
    assert payload.findtext(f"{where}/Uitzondering/Identificatie") == "99996"
    has_data = payload.find("Repliek/Antwoorden/Antwoord/Inhoud") is not None
    assert has_data == (kind == "WAARSCHUWING")
