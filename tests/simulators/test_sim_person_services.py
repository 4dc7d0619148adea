"""GeefPersoon and GeefHistoriekPersoon end to end, and what each fixture answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import zeep
from lxml import etree

from simulators.population_data import WELL_KNOWN, Population
from tests.simulators.conftest import (
    Call,
    history_inhoud,
    person_inhoud,
    registration_inhoud,
    service_file,
)

NAMESPACES = {
    "GeefPersoon": "http://magda.vlaanderen.be/persoon/soap/geefpersoon/v02_02",
    "GeefHistoriekPersoon": "http://magda.vlaanderen.be/persoon/soap/geefhistoriekpersoon/v02_02",
}
NAMED = sorted(set(WELL_KNOWN) - {"unknown", "invalid_check"})


async def _registered(call: Call, insz: str) -> None:
    reply = await call("RegistreerInschrijving", registration_inhoud(insz))
    assert reply.payload.findtext("Repliek/Antwoorden/Antwoord/Inhoud/Resultaat") == "1"


async def _persoon(call: Call, schemas: dict[str, etree.XMLSchema], key: str) -> etree._Element:
    """Register the fixture, ask GeefPersoon, check the schema, return Inhoud/Persoon."""
    await _registered(call, WELL_KNOWN[key])
    reply = await call("GeefPersoon", person_inhoud(WELL_KNOWN[key]))
    assert reply.status == 200
    assert schemas["GeefPersoon"].validate(reply.payload), schemas["GeefPersoon"].error_log
    antwoord = reply.payload.find("Repliek/Antwoorden/Antwoord")
    assert antwoord.find("Uitzonderingen") is None
    persoon: etree._Element = antwoord.find("Inhoud/Persoon")
    return persoon


async def _historiek(
    call: Call, schemas: dict[str, etree.XMLSchema], key: str, day: dt.date, op: str
) -> etree._Element:
    """Register the fixture, ask GeefHistoriekPersoon, check the schema, return Persoon."""
    await _registered(call, WELL_KNOWN[key])
    reply = await call("GeefHistoriekPersoon", history_inhoud(WELL_KNOWN[key], day, op))
    schema = schemas["GeefHistoriekPersoon"]
    assert reply.status == 200 and schema.validate(reply.payload), schema.error_log
    persoon: etree._Element = reply.payload.find("Repliek/Antwoorden/Antwoord/Inhoud/Persoon")
    return persoon


def _texts(element: etree._Element, path: str) -> list[str]:
    return [e.text or "" for e in element.findall(path)]


async def test_geefpersoon_answers_the_married_household_head(
    call: Call, schemas: dict[str, etree.XMLSchema]
) -> None:
    persoon = await _persoon(call, schemas, "household_head")
    assert persoon.findtext("INSZ") == WELL_KNOWN["household_head"]
    assert _texts(persoon, "Naam/Voornamen/Voornaam") == ["Jan", "Karel"]
    assert persoon.findtext("Naam/Achternaam") == "Peeters"
    assert persoon.findtext("Geboorte/Datum") == "1985-07-30"
    assert persoon.findtext("Geslacht/Code") == "M"
    assert _texts(persoon, "Nationaliteiten/Nationaliteit/Code") == ["150"]
    assert persoon.findtext("Nationaliteiten/Nationaliteit/Omschrijving") == "Belg"
    assert persoon.findtext("BurgerlijkeStaat/Code") == "20"
    assert persoon.findtext("BurgerlijkeStaat/Omschrijving") == "Gehuwd"
    assert persoon.findtext("BurgerlijkeStaat/Begindatum") == "2010-06-12"
    adres = persoon.find("Hoofdverblijfplaats/Adres")
    assert (adres.findtext("Straat"), adres.findtext("Huisnummer")) == ("Kerkstraat", "12")
    assert adres.findtext("Gemeente/NISCode") == "11002"
    assert persoon.findtext("Hoofdverblijfplaats/Begindatum") == "2011-09-01"
    for absent in ("Overlijden", "WettelijkeSamenwoning", "Teraardebestelling"):
        assert persoon.find(absent) is None, absent
    # Children unqualified, as in every MAGDA answer.
    assert all(etree.QName(e).namespace is None for e in persoon.iter(etree.Element))


@pytest.mark.parametrize("service", ["GeefPersoon", "GeefHistoriekPersoon"])
async def test_zeep_reads_the_answer_with_the_same_wsdl(call: Call, service: str) -> None:
    insz = WELL_KNOWN["cohabitant"]
    await _registered(call, insz)
    inhoud = (person_inhoud(insz) if service == "GeefPersoon"
              else history_inhoud(insz, dt.date(2000, 1, 1), "0"))
    payload = (await call(service, inhoud)).payload
    assert payload.tag == f"{{{NAMESPACES[service]}}}{service}Response"
    client = zeep.Client(str(service_file(service, ".wsdl")))
    parsed = client.get_element(f"ns0:{service}Response").parse(payload, client.wsdl.types)
    assert parsed.Repliek.Antwoorden.Antwoord[0].Inhoud.Persoon.Naam.Achternaam == "Dubois"


async def test_geefhistoriekpersoon_answers_and_is_schema_valid(
    call: Call, schemas: dict[str, etree.XMLSchema]
) -> None:
    persoon = await _historiek(call, schemas, "household_head", dt.date(1900, 1, 1), "0")
    assert persoon.findtext("INSZ") == WELL_KNOWN["household_head"]
    assert persoon.find("Overlijden") is None
    plaatsen = persoon.findall("Historiek/Hoofdverblijfplaatsen/Hoofdverblijfplaats")
    assert plaatsen[-1].findtext("Adres/Gemeente/NISCode") == "11002"
    assert plaatsen[-1].find("Einddatum") is None
    assert _texts(persoon, "Historiek/BurgerlijkeStaten/BurgerlijkeStaat/Code") == ["10", "20"]
    assert _texts(persoon, "Historiek/Nationaliteiten/Nationaliteit/Code") == ["150"]


@pytest.mark.parametrize("service", ["GeefPersoon", "GeefHistoriekPersoon"])
@pytest.mark.parametrize(
    ("key", "code", "oorsprong"),
    [("unknown", "30003", "RR"), ("invalid_check", "20002", "MAGDA")],
)
async def test_unknown_or_invalid_insz_comes_before_the_repertorium(
    call: Call, schemas: dict[str, etree.XMLSchema], service: str, key: str, code: str,
    oorsprong: str,
) -> None:
    inhoud: dict[str, Any] = (
        person_inhoud(WELL_KNOWN[key]) if service == "GeefPersoon"
        else history_inhoud(WELL_KNOWN[key], dt.date(2020, 1, 1), "1")
    )
    reply = await call(service, inhoud)
    assert schemas[service].validate(reply.payload), schemas[service].error_log
    antwoord = reply.payload.find("Repliek/Antwoorden/Antwoord")
    assert antwoord.find("Inhoud") is None
    assert antwoord.findtext("Uitzonderingen/Uitzondering/Identificatie") == code
    assert antwoord.findtext("Uitzonderingen/Uitzondering/Oorsprong") == oorsprong


@pytest.mark.parametrize("key", NAMED)
async def test_every_named_fixture_answers_geefpersoon(
    call: Call, schemas: dict[str, etree.XMLSchema], population: Population, key: str
) -> None:
    persoon = await _persoon(call, schemas, key)
    person = population.by_insz(WELL_KNOWN[key])
    assert person is not None
    assert persoon.findtext("INSZ") == person.insz
    assert persoon.findtext("Geboorte/Datum") == person.birth_date.isoformat()
    assert persoon.find("Nationaliteiten/Nationaliteit") is not None
    assert persoon.find("BurgerlijkeStaat/Code") is not None
    alive = key != "deceased"
    assert (persoon.find("Overlijden") is None) == alive
    has_home = key not in ("deceased", "struck_off")
    assert (persoon.find("Hoofdverblijfplaats") is not None) == has_home


async def test_deceased(call: Call, schemas: dict[str, etree.XMLSchema]) -> None:
    persoon = await _persoon(call, schemas, "deceased")
    assert persoon.findtext("Overlijden/Datum") == "2024-02-11"
    assert persoon.findtext("Overlijden/Plaats/NISCode") == "11002"
    assert persoon.find("Hoofdverblijfplaats") is None
    # Not in any household: GeefGezinssamenstelling has no data.
    reply = await call("GeefGezinssamenstelling", person_inhoud(WELL_KNOWN["deceased"]))
    antwoord = reply.payload.find("Repliek/Antwoorden/Antwoord")
    assert antwoord.find("Inhoud") is None
    assert antwoord.findtext("Uitzonderingen/Uitzondering/Identificatie") == "30001"
    history = await _historiek(call, schemas, "deceased", dt.date(1900, 1, 1), "0")
    assert history.findtext("Overlijden/Datum") == "2024-02-11"
    last = history.findall("Historiek/Hoofdverblijfplaatsen/Hoofdverblijfplaats")[-1]
    assert last.findtext("Einddatum") == "2024-02-11"


async def test_struck_off(call: Call, schemas: dict[str, etree.XMLSchema]) -> None:
    persoon = await _persoon(call, schemas, "struck_off")
    assert persoon.find("Hoofdverblijfplaats") is None and persoon.find("Overlijden") is None
    history = await _historiek(call, schemas, "struck_off", dt.date(1900, 1, 1), "0")
    plaatsen = history.findall("Historiek/Hoofdverblijfplaatsen/Hoofdverblijfplaats")
    assert all(p.find("Einddatum") is not None for p in plaatsen)
    assert plaatsen[-1].findtext("Einddatum") == "2023-06-30"
    reply = await call("GeefGezinssamenstelling", person_inhoud(WELL_KNOWN["struck_off"]))
    code = reply.payload.findtext("Repliek/Antwoorden/Antwoord/Uitzonderingen/Uitzondering/"
                                  "Identificatie")
    assert code == "30001"


async def test_foreigner(call: Call, schemas: dict[str, etree.XMLSchema]) -> None:
    persoon = await _persoon(call, schemas, "foreigner")
    assert _texts(persoon, "Nationaliteiten/Nationaliteit/Code") == ["129"]
    assert persoon.findtext("Nationaliteiten/Nationaliteit/Omschrijving") == "Nederlander"
    assert persoon.findtext("Hoofdverblijfplaats/Adres/Gemeente/NISCode") == "44021"
    assert persoon.findtext("Geboorte/Plaats/Naam") == "Rotterdam"
    assert persoon.find("Geboorte/Plaats/NISCode") is None


async def test_mover_history_from_a_date(
    call: Call, schemas: dict[str, etree.XMLSchema]
) -> None:
    persoon = await _historiek(call, schemas, "mover", dt.date(1900, 1, 1), "0")
    plaatsen = persoon.findall("Historiek/Hoofdverblijfplaatsen/Hoofdverblijfplaats")
    assert [p.findtext("Adres/Gemeente/NISCode") for p in plaatsen] == [
        "44021", "24062", "31005", "44021"
    ]
    assert [p.findtext("Begindatum") for p in plaatsen] == [
        "1990-04-12", "2001-09-01", "2010-07-01", "2015-03-01"
    ]
    assert [p.findtext("Einddatum") for p in plaatsen] == [
        "2001-08-31", "2010-06-30", "2015-02-28", None
    ]
    assert "11002" not in _texts(persoon, ".//Gemeente/NISCode")  # never in Antwerpen
    # From 2012 on: the Brugge period (still running then) and the current one.
    later = await _historiek(call, schemas, "mover", dt.date(2012, 1, 1), "0")
    assert _texts(later, "Historiek/Hoofdverblijfplaatsen/Hoofdverblijfplaats/Adres/Gemeente/"
                         "NISCode") == ["31005", "44021"]


async def test_mover_history_on_a_date(call: Call, schemas: dict[str, etree.XMLSchema]) -> None:
    persoon = await _historiek(call, schemas, "mover", dt.date(2005, 6, 1), "1")
    plaatsen = persoon.findall("Historiek/Hoofdverblijfplaatsen/Hoofdverblijfplaats")
    assert len(plaatsen) == 1
    assert plaatsen[0].findtext("Adres/Gemeente/Naam") == "Leuven"
    assert (plaatsen[0].findtext("Begindatum"), plaatsen[0].findtext("Einddatum")) == (
        "2001-09-01", "2010-06-30"
    )
    assert _texts(persoon, "Historiek/Nationaliteiten/Nationaliteit/Code") == ["150"]
    assert _texts(persoon, "Historiek/BurgerlijkeStaten/BurgerlijkeStaat/Code") == ["10"]
    # Before birth nothing applied yet.
    unborn = await _historiek(call, schemas, "mover", dt.date(1980, 1, 1), "1")
    assert unborn.find("Historiek/Hoofdverblijfplaatsen/Hoofdverblijfplaats") is None


async def test_cohabitants_point_at_each_other(
    call: Call, schemas: dict[str, etree.XMLSchema]
) -> None:
    pairs = (("cohabitant_head", "cohabitant"), ("cohabitant", "cohabitant_head"))
    for me, other in pairs:
        samenwoning = (await _persoon(call, schemas, me)).find("WettelijkeSamenwoning")
        assert samenwoning is not None, me
        assert samenwoning.findtext("Partner/INSZ") == WELL_KNOWN[other]
        assert samenwoning.findtext("Partner/Naam/Achternaam") in ("Claes", "Dubois")
        assert samenwoning.findtext("Begindatum") == "2019-05-04"
        assert samenwoning.findtext("Gemeente/NISCode") == "24062"
        assert samenwoning.findtext("Gemeente/Naam") == "Leuven"


async def test_burial_declared(call: Call, schemas: dict[str, etree.XMLSchema]) -> None:
    persoon = await _persoon(call, schemas, "burial_declared")
    bestelling = persoon.find("Teraardebestelling")
    assert bestelling.findtext("Wijze/Code") == "CREMATIE_VERSTROOIING"
    assert bestelling.findtext("Ritueel/Code") == "NIET_CONFESSIONEEL"
    assert bestelling.findtext("Datum") == "2022-03-15"
    assert bestelling.findtext("Gemeente/NISCode") == "31005"
    assert persoon.find("Overlijden") is None
    assert _texts(persoon, "Nationaliteiten/Nationaliteit/Code") == ["150"]


async def test_single_is_unmarried_without_cohabitation_or_burial(
    call: Call, schemas: dict[str, etree.XMLSchema]
) -> None:
    persoon = await _persoon(call, schemas, "single")
    assert persoon.findtext("BurgerlijkeStaat/Code") == "10"
    assert persoon.findtext("BurgerlijkeStaat/Omschrijving") == "Ongehuwd"
    assert persoon.find("WettelijkeSamenwoning") is None
    assert persoon.find("Teraardebestelling") is None


async def test_large_household_has_nine_members(
    call: Call, schemas: dict[str, etree.XMLSchema]
) -> None:
    reply = await call("GeefGezinssamenstelling",
                       person_inhoud(WELL_KNOWN["large_household_head"]))
    schema = schemas["GeefGezinssamenstelling"]
    assert schema.validate(reply.payload), schema.error_log
    leden = reply.payload.findall("Repliek/Antwoorden/Antwoord/Inhoud/Gezin/Gezinsleden/Gezinslid")
    assert len(leden) == 9
    assert leden[0].findtext("INSZ") == WELL_KNOWN["large_household_head"]
