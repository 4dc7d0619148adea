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
NAMED = sorted(set(WELL_KNOWN) - {"unknown", "invalid_check", "renumbered_old", "bis_number"})


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
    """Register the fixture, ask GeefHistoriekPersoon, check the schema, return its Inhoud."""
    await _registered(call, WELL_KNOWN[key])
    reply = await call("GeefHistoriekPersoon", history_inhoud(WELL_KNOWN[key], day, op))
    schema = schemas["GeefHistoriekPersoon"]
    assert reply.status == 200 and schema.validate(reply.payload), schema.error_log
    persoon: etree._Element = reply.payload.find(
        "Repliek/Antwoorden/Antwoord/Inhoud/HistoriekPersoon")
    return persoon


PLAATSEN = "HistoriekAdressen/HistoriekHoofdverblijfplaats/Hoofdverblijfplaats"
HVP = "Adressen/Hoofdverblijfplaats"


def _texts(element: etree._Element, path: str) -> list[str]:
    return [e.text or "" for e in element.findall(path)]


async def test_geefpersoon_answers_the_married_household_head(
    call: Call, schemas: dict[str, etree.XMLSchema]
) -> None:
    persoon = await _persoon(call, schemas, "household_head")
    assert persoon.findtext("INSZ") == WELL_KNOWN["household_head"]
    assert _texts(persoon, "Naam/Voornamen/Voornaam") == ["Jan", "Karel"]
    assert _texts(persoon, "Naam/Achternamen/Achternaam") == ["Peeters"]
    assert persoon.findtext("Geboorte/Datum") == "1985-07-30"
    assert persoon.findtext("Geslacht/Code") == "1"
    assert persoon.findtext("Geslacht/Omschrijving") == "Mannelijk"
    assert _texts(persoon, "Nationaliteiten/Nationaliteit/Code") == ["150"]
    assert persoon.findtext("Nationaliteiten/Nationaliteit/Omschrijving") == "Belg"
    staat = persoon.find("BurgerlijkeStaten/BurgerlijkeStaat")
    assert (staat.findtext("Code"), staat.findtext("Omschrijving")) == ("20", "Gehuwd")
    assert staat.get("DatumBegin") == "2010-06-12"
    assert staat.findtext("Partner/INSZ") == WELL_KNOWN["partner"]
    adres = persoon.find(HVP)
    assert (adres.findtext("Straatnaam/String"), adres.findtext("Huisnummer")) == (
        "Kerkstraat", "12")
    assert adres.findtext("Straatnaam/Taal") == "nl"
    assert adres.findtext("NISCodeGemeente") == "11002"
    assert adres.findtext("Gemeentenaam/String") == "Antwerpen"
    assert adres.get("DatumBegin") == "2011-09-01"
    assert _texts(persoon, "Gezinsleden/Gezinslid/Positie/Code") == ["02", "03", "03"]
    for absent in ("Overlijden", "WettelijkeSamenwoning", "LijkbezorgingEnRitueel",
                   "Statussen", "Referentiepersoon"):
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
    inhoud = parsed.Repliek.Antwoorden.Antwoord.Inhoud
    persoon = inhoud.Persoon if service == "GeefPersoon" else inhoud.HistoriekPersoon
    naam = persoon.Naam if service == "GeefPersoon" else persoon.HistoriekNaam.Naam[0]
    assert naam.Achternamen.Achternaam == ["Dubois"]


async def test_geefhistoriekpersoon_answers_and_is_schema_valid(
    call: Call, schemas: dict[str, etree.XMLSchema]
) -> None:
    persoon = await _historiek(call, schemas, "household_head", dt.date(1900, 1, 1), "0")
    assert persoon.findtext("INSZ") == WELL_KNOWN["household_head"]
    assert persoon.find("HistoriekOverlijden") is None
    plaatsen = persoon.findall(PLAATSEN)
    # Newest first, as MAGDA answers.
    assert plaatsen[0].findtext("NISCodeGemeente") == "11002"
    assert plaatsen[0].get("DatumBegin") == "2011-09-01"
    assert all(p.get("DatumEinde") is None for p in plaatsen)
    staten = persoon.findall("HistoriekBurgerlijkeStaat/BurgerlijkeStaat")
    assert [s.findtext("Code") for s in staten] == ["20", "10"]
    assert staten[1].get("DatumEinde") == "2010-06-11"
    assert _texts(persoon, "HistoriekNationaliteit/Nationaliteit/Code") == ["150"]


@pytest.mark.parametrize("service", ["GeefPersoon", "GeefHistoriekPersoon"])
@pytest.mark.parametrize(
    ("key", "code"), [("unknown", "30001"), ("invalid_check", "20002")],
)
async def test_unknown_or_invalid_insz_comes_before_the_repertorium(
    call: Call, schemas: dict[str, etree.XMLSchema], service: str, key: str, code: str,
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
    oorsprong = "RR" if code == "30001" and service == "GeefPersoon" else "MAGDA"
    assert antwoord.findtext("Uitzonderingen/Uitzondering/Oorsprong") == oorsprong


@pytest.mark.parametrize("key", NAMED)
async def test_every_named_fixture_answers_geefpersoon(
    call: Call, schemas: dict[str, etree.XMLSchema], population: Population, key: str
) -> None:
    persoon = await _persoon(call, schemas, key)
    person = population.by_insz(WELL_KNOWN[key])
    assert person is not None
    assert persoon.findtext("INSZ") == person.insz
    assert persoon.findtext("Geboorte/Datum") == person.birth_date_text
    assert persoon.find("Nationaliteiten/Nationaliteit") is not None
    assert persoon.find("BurgerlijkeStaten/BurgerlijkeStaat/Code") is not None
    alive = key != "deceased"
    assert (persoon.find("Overlijden") is None) == alive
    # The last Belgian address stays; a Status says when it is no longer current.
    assert persoon.find(HVP) is not None
    current = key not in ("deceased", "struck_off", "emigrated")
    assert (persoon.find("Statussen") is None) == current


async def test_deceased(call: Call, schemas: dict[str, etree.XMLSchema]) -> None:
    persoon = await _persoon(call, schemas, "deceased")
    assert persoon.findtext("Overlijden/Datum") == "2024-02-11"
    assert persoon.get("Bron") == "RR"
    assert persoon.findtext("Overlijden/Plaats/Gemeente/NISCode") == "11002"
    assert persoon.findtext("Overlijden/Plaats/Land/NISCode") == "150"
    assert persoon.find("Statussen/Status").get("DatumBegin") == "2024-02-11"
    assert persoon.findtext("Statussen/Status/Code") == "99990"
    # The register's own spelling of the last address: no standardised street name.
    assert persoon.find(f"{HVP}/Straatnaam") is None
    assert persoon.findtext(f"{HVP}/NietGestandaardiseerdeStraatnaam/String") == \
        "Mechelsesteenweg"
    # Not in any household any more: GeefGezinssamenstelling refuses (40098).
    reply = await call("GeefGezinssamenstelling", person_inhoud(WELL_KNOWN["deceased"]))
    assert schemas["GeefGezinssamenstelling"].validate(reply.payload)
    antwoord = reply.payload.find("Repliek/Antwoorden/Antwoord")
    assert antwoord.find("Inhoud") is None
    assert antwoord.findtext("Uitzonderingen/Uitzondering/Identificatie") == "40098"
    history = await _historiek(call, schemas, "deceased", dt.date(1900, 1, 1), "0")
    assert history.findtext("HistoriekOverlijden/Overlijden/Datum") == "2024-02-11"
    assert history.findtext("HistoriekStatus/Status/Code") == "99990"
    assert history.findall(PLAATSEN)[0].get("DatumBegin") == "1965-10-01"


async def test_struck_off(call: Call, schemas: dict[str, etree.XMLSchema]) -> None:
    persoon = await _persoon(call, schemas, "struck_off")
    assert persoon.find("Overlijden") is None
    assert persoon.findtext("Statussen/Status/Code") == "99991"
    assert persoon.find("Statussen/Status").get("DatumBegin") == "2023-07-01"
    assert persoon.findtext(f"{HVP}/NISCodeGemeente") == "23062"
    history = await _historiek(call, schemas, "struck_off", dt.date(1900, 1, 1), "0")
    plaatsen = history.findall(PLAATSEN)
    assert [p.get("DatumBegin") for p in plaatsen] == ["2012-05-01", "2003-02-01", "1980-10-03"]
    assert history.findtext("HistoriekStatus/Status/Code") == "99991"
    reply = await call("GeefGezinssamenstelling", person_inhoud(WELL_KNOWN["struck_off"]))
    code = reply.payload.findtext("Repliek/Antwoorden/Antwoord/Uitzonderingen/Uitzondering/"
                                  "Identificatie")
    assert code == "30001"


async def test_foreigner(call: Call, schemas: dict[str, etree.XMLSchema]) -> None:
    persoon = await _persoon(call, schemas, "foreigner")
    assert _texts(persoon, "Nationaliteiten/Nationaliteit/Code") == ["129"]
    assert persoon.findtext("Nationaliteiten/Nationaliteit/Omschrijving") == "Nederlander"
    assert persoon.findtext(f"{HVP}/NISCodeGemeente") == "44021"
    assert persoon.findtext("Geboorte/Plaats/Gemeente/Naam") == "Rotterdam"
    assert persoon.find("Geboorte/Plaats/Gemeente/NISCode") is None
    assert persoon.findtext("Geboorte/Plaats/Land/ISOCode") == "NLD"
    assert persoon.findtext("Register/Code") == "1"


async def test_mover_history_from_a_date(
    call: Call, schemas: dict[str, etree.XMLSchema]
) -> None:
    persoon = await _historiek(call, schemas, "mover", dt.date(1900, 1, 1), "0")
    plaatsen = persoon.findall(PLAATSEN)
    # Newest first, each with its start only: the next one's start ends it.
    assert [p.findtext("NISCodeGemeente") for p in plaatsen] == [
        "44021", "31005", "24062", "44021"
    ]
    assert [p.get("DatumBegin") for p in plaatsen] == [
        "2015-03-01", "2010-07-01", "2001-09-01", "1990-04-12"
    ]
    assert "11002" not in _texts(persoon, ".//NISCodeGemeente")  # never in Antwerpen
    # From 2012 on: the Brugge period (still running then) and the current one.
    later = await _historiek(call, schemas, "mover", dt.date(2012, 1, 1), "0")
    assert _texts(later, f"{PLAATSEN}/NISCodeGemeente") == ["44021", "31005"]


async def test_mover_history_on_a_date(call: Call, schemas: dict[str, etree.XMLSchema]) -> None:
    persoon = await _historiek(call, schemas, "mover", dt.date(2005, 6, 1), "1")
    plaatsen = persoon.findall(PLAATSEN)
    assert len(plaatsen) == 1
    assert plaatsen[0].findtext("Gemeentenaam/String") == "Leuven"
    assert plaatsen[0].get("DatumBegin") == "2001-09-01"
    assert _texts(persoon, "HistoriekNationaliteit/Nationaliteit/Code") == ["150"]
    assert _texts(persoon, "HistoriekBurgerlijkeStaat/BurgerlijkeStaat/Code") == ["10"]
    # Before birth nothing applied yet.
    unborn = await _historiek(call, schemas, "mover", dt.date(1980, 1, 1), "1")
    assert unborn.find(PLAATSEN) is None


async def test_cohabitants_point_at_each_other(
    call: Call, schemas: dict[str, etree.XMLSchema]
) -> None:
    pairs = (("cohabitant_head", "cohabitant"), ("cohabitant", "cohabitant_head"))
    for me, other in pairs:
        samenwoning = (await _persoon(call, schemas, me)).find("WettelijkeSamenwoning")
        assert samenwoning is not None, me
        assert samenwoning.findtext("Partner/INSZ") == WELL_KNOWN[other]
        assert samenwoning.findtext("Partner/Naam/Achternamen/Achternaam") in ("Claes", "Dubois")
        assert samenwoning.get("DatumBegin") == "2019-05-04"
        assert samenwoning.findtext("Datum") == "2019-05-04"
        assert samenwoning.findtext("Plaats/Gemeente/NISCode") == "24062"
        assert samenwoning.findtext("Plaats/Gemeente/Naam") == "Leuven"


async def test_burial_declared(call: Call, schemas: dict[str, etree.XMLSchema]) -> None:
    persoon = await _persoon(call, schemas, "burial_declared")
    bestelling = persoon.find("LijkbezorgingEnRitueel")
    assert bestelling.findtext("WijzeVanLijkbezorging/Code") == "05"
    assert bestelling.findtext("Ritueel/Code") == "08"
    assert bestelling.get("DatumBegin") == "2022-03-15"
    assert bestelling.findtext("DatumDocument") == "2022-03-15"
    assert bestelling.findtext("PlaatsRegistratie/NISCode") == "31005"
    assert persoon.findtext("Begraving/WijzeVanLijkbezorging/Code") == "5"
    assert persoon.find("Overlijden") is None
    assert _texts(persoon, "Nationaliteiten/Nationaliteit/Code") == ["150"]


async def test_single_is_unmarried_without_cohabitation_or_burial(
    call: Call, schemas: dict[str, etree.XMLSchema]
) -> None:
    persoon = await _persoon(call, schemas, "single")
    assert persoon.findtext("BurgerlijkeStaten/BurgerlijkeStaat/Code") == "10"
    assert persoon.findtext("BurgerlijkeStaten/BurgerlijkeStaat/Omschrijving") == "Ongehuwd"
    assert persoon.find("WettelijkeSamenwoning") is None
    assert persoon.find("LijkbezorgingEnRitueel") is None
    assert persoon.find("Gezinsleden") is None and persoon.find("Referentiepersoon") is None


async def test_large_household_has_nine_members(
    call: Call, schemas: dict[str, etree.XMLSchema]
) -> None:
    reply = await call("GeefGezinssamenstelling",
                       person_inhoud(WELL_KNOWN["large_household_head"]))
    schema = schemas["GeefGezinssamenstelling"]
    assert schema.validate(reply.payload), schema.error_log
    leden = reply.payload.findall("Repliek/Antwoorden/Antwoord/Inhoud/Gezinsleden/Gezinslid")
    assert len(leden) == 9
    assert leden[0].findtext("INSZ") == WELL_KNOWN["large_household_head"]
    assert leden[0].findtext("Positie/Code") == "01" and leden[0].get("DatumBegin") is None
    assert [lid.findtext("Positie/Code") for lid in leden[1:]] == ["02"] + ["03"] * 6 + ["06"]
    assert all(lid.findtext("Adressen/Hoofdverblijfplaats/NISCodeGemeente") == "71022"
               for lid in leden)


async def test_a_member_sees_the_head_as_referentiepersoon(
    call: Call, schemas: dict[str, etree.XMLSchema]
) -> None:
    persoon = await _persoon(call, schemas, "child")
    referentie = persoon.find("Referentiepersoon")
    assert referentie.findtext("INSZ") == WELL_KNOWN["household_head"]
    assert referentie.findtext("Positie/Code") == "03"  # the child's own position
    assert referentie.get("DatumBegin") == "2015-11-21"  # since the child's birth


async def test_bis_number_needs_the_ksz_and_a_replaced_one_warns(
    call: Call, schemas: dict[str, etree.XMLSchema]
) -> None:
    insz = WELL_KNOWN["bis_number"]
    await _registered(call, insz)
    reply = await call("GeefPersoon", person_inhoud(insz))
    assert reply.payload.findtext(".//Uitzondering/Identificatie") == "30001"
    reply = await call("GeefPersoon", {**person_inhoud(insz), "Bron": "KSZ"})
    assert schemas["GeefPersoon"].validate(reply.payload), schemas["GeefPersoon"].error_log
    persoon = reply.payload.find("Repliek/Antwoorden/Antwoord/Inhoud/Persoon")
    assert (persoon.get("Bron"), persoon.findtext("Register/Code")) == ("KSZ", "BIS")
    assert persoon.findtext("Adressen/PostadresBuitenland/Land/NISCode") == "139"
    old = WELL_KNOWN["renumbered_old"]
    await _registered(call, WELL_KNOWN["renumbered"])  # the former number is no one's now
    reply = await call("GeefPersoon", person_inhoud(old))
    assert schemas["GeefPersoon"].validate(reply.payload), schemas["GeefPersoon"].error_log
    antwoord = reply.payload.find("Repliek/Antwoorden/Antwoord")
    assert antwoord.findtext("Inhoud/Persoon/INSZ") == WELL_KNOWN["renumbered"]
    assert antwoord.findtext("Uitzonderingen/Uitzondering/Identificatie") == "30004"
    assert antwoord.findtext("Uitzonderingen/Uitzondering/Annotaties/Annotatie/Naam") == \
        "Oud INSZ"
