"""DABS: ZoekAktenBurgerlijkeStand and GeefAkteBurgerlijkeStand end to end, with fixture acts."""

from __future__ import annotations

import base64
import datetime as dt
import subprocess
from pathlib import Path
from typing import Any

import pytest
import zeep
from lxml import etree

from simulators.population_data import (
    ACT_OF_EACH_KIND,
    ACT_TYPES,
    WELL_KNOWN,
    WELL_KNOWN_ACTS,
    Population,
)
from tests.simulators.conftest import (
    Call,
    SoapReply,
    act_inhoud,
    pdf_text,
    search_inhoud,
    service_file,
)

SEARCH = "ZoekAktenBurgerlijkeStand"
ACT = "GeefAkteBurgerlijkeStand"
NAMESPACES = {
    SEARCH: "http://webservice.zoekaktenburgerlijkestanddienst-02_00.persoon-02_00.vip.vlaanderen.be",
    ACT: "http://webservice.geefakteburgerlijkestanddienst-02_00.persoon-02_00.vip.vlaanderen.be",
}
SYNOPSIS = "Inhoud/AkteBurgerlijkeStandSynopsisLijst/AkteBurgerlijkeStandSynopsis"
# Pinned on purpose: the hub's tests and the demo refer to these references.
EXPECTED_ACTS = {
    "birth_single": "AKTE-44021-1972-000017",
    "birth_mover": "AKTE-44021-1990-000412",
    "birth_child": "AKTE-11002-2015-000123",
    "birth_parent_not_digitised": "AKTE-11002-1941-000089",
    "marriage_head": "AKTE-31005-2010-000058",
    "death_deceased": "AKTE-11002-2024-000231",
    "name_change_single": "AKTE-44021-2019-000007",
    "recognition_cohabitant_1": "AKTE-24062-2021-000044",
    "recognition_cohabitant_2": "AKTE-24062-2020-000019",
    "divorce_extended": "AKTE-24062-1993-000003",
    "adoption_partner": "AKTE-24062-1988-000301",
    "nationality_cohabitant": "AKTE-24062-2024-000517",
    "prenatal_recognition_mover": "AKTE-44021-1990-000038",
    "absence_struck_off": "AKTE-23062-2024-000012",
    "first_name_change_mover": "AKTE-44021-2018-000884",
    "gender_change_mover": "AKTE-44021-2018-000905",
    "stillborn_burial_declared": "AKTE-24062-1974-000061",
    "name_choice_cohabitants": "AKTE-24062-2021-000045",
}
# DocumentType/Code -> (WELL_KNOWN key, act key): one available act of each type, the only one of
# its type that names that fixture.
EXPECTED_ONE_OF_EACH = {
    "ADOPTIE": ("partner", "adoption_partner"),
    "BELGISCHE_NATIONALITEIT": ("cohabitant", "nationality_cohabitant"),
    "ECHTSCHEIDING": ("extended_head", "divorce_extended"),
    "ERKENNING": ("cohabitant_head", "recognition_cohabitant_1"),
    "ERKENNING_VOOR_GEBOORTE": ("mover", "prenatal_recognition_mover"),
    "VERKLARING_AFWEZIGHEID": ("struck_off", "absence_struck_off"),
    "GESLACHTSWIJZIGING": ("mover", "gender_change_mover"),
    "LEVENLOOS_KIND": ("burial_declared", "stillborn_burial_declared"),
    "NAAMKEUZE": ("cohabitant_head", "name_choice_cohabitants"),
    "NAAMSWIJZIGING": ("single", "name_change_single"),
    "VOORNAAMSWIJZIGING": ("mover", "first_name_change_mover"),
    "GEBOORTE": ("child", "birth_child"),
    "HUWELIJK": ("household_head", "marriage_head"),
    "OVERLIJDEN": ("deceased", "death_deceased"),
}


def _antwoord(reply: SoapReply, schemas: dict[str, etree.XMLSchema], service: str
              ) -> etree._Element:
    assert reply.status == 200, reply.body[:300]
    assert reply.payload.tag == f"{{{NAMESPACES[service]}}}{service}Response"
    assert schemas[service].validate(reply.payload), schemas[service].error_log
    antwoord: etree._Element = reply.payload.find("Repliek/Antwoorden/Antwoord")
    return antwoord


def _fout(antwoord: etree._Element) -> tuple[str | None, str | None]:
    assert antwoord.find("Inhoud") is None
    assert antwoord.findtext("Uitzonderingen/Uitzondering/Type") == "FOUT"
    return (antwoord.findtext("Uitzonderingen/Uitzondering/Identificatie"),
            antwoord.findtext("Uitzonderingen/Uitzondering/Oorsprong"))


async def _search(call: Call, schemas: dict[str, etree.XMLSchema], **criteria: Any
                  ) -> etree._Element:
    return _antwoord(await call(SEARCH, search_inhoud(**criteria)), schemas, SEARCH)


def _references(antwoord: etree._Element) -> list[str]:
    return [e.text or "" for e in antwoord.findall(f"{SYNOPSIS}/DocumentReferte")]


def test_well_known_act_references_are_pinned(population: Population) -> None:
    assert WELL_KNOWN_ACTS == EXPECTED_ACTS
    assert {act.reference for act in population.acts} == set(EXPECTED_ACTS.values())


def test_one_act_of_each_kind_is_pinned(population: Population) -> None:
    expected = {code: (person, EXPECTED_ACTS[act])
                for code, (person, act) in EXPECTED_ONE_OF_EACH.items()}
    assert expected == ACT_OF_EACH_KIND
    assert set(ACT_OF_EACH_KIND) == set(ACT_TYPES)
    for code, (person, reference) in ACT_OF_EACH_KIND.items():
        act = population.act(reference)
        assert act is not None and act.type == code and act.status_code == "1", code
        assert act.mentions(WELL_KNOWN[person]), code


async def test_a_synopsis_names_no_one(call: Call, schemas: dict[str, etree.XMLSchema]) -> None:
    antwoord = await _search(call, schemas, INSZ=WELL_KNOWN["child"])
    assert antwoord.find("Uitzonderingen") is None
    (akte,) = antwoord.findall(SYNOPSIS)
    assert [child.tag for child in akte] == [
        "DocumentReferte", "DatumCreatie", "DocumentType", "DocumentStatus", "HerkomstAkte",
        "BetrokkenPersonen", "GemeenteVanOpmaak"]
    assert akte.findtext("DocumentReferte") == "AKTE-11002-2015-000123"
    assert [akte.findtext(f"DatumCreatie/{part}") for part in ("Jaar", "Maand", "Dag")] == [
        "2015", "11", "23"]
    assert (akte.findtext("DocumentType/Code"),
            akte.findtext("DocumentType/Omschrijving")) == ("GEBOORTE", "Akte van geboorte")
    assert akte.findtext("DocumentStatus/Code") == "1"
    assert akte.findtext("HerkomstAkte/Code") == "2"  # drawn up before DABS, taken over
    assert akte.findtext("GemeenteVanOpmaak") == "11002"
    people = [(p.findtext("Rol/Code"), p.findtext("Rol/Omschrijving"), p.findtext("INSZ"),
               p.findtext("HerkomstINSZ/Code"))
              for p in akte.findall("BetrokkenPersonen/BetrokkenPersoon")]
    assert people == [
        ("1", "Betrokkene", WELL_KNOWN["child"], "1"),
        ("2", "Vader", WELL_KNOWN["household_head"], "1"),
        ("3", "Moeder", WELL_KNOWN["partner"], "1"),
    ]
    assert akte.find(".//Naam") is None  # no names in a synopsis
    assert all(etree.QName(e).namespace is None for e in antwoord.iter(etree.Element))


async def test_acts_since_dabs_are_born_digital(
    call: Call, schemas: dict[str, etree.XMLSchema]
) -> None:
    antwoord = await _search(call, schemas, INSZ=WELL_KNOWN["single"])
    origins = [a.findtext("HerkomstAkte/Code") for a in antwoord.findall(SYNOPSIS)]
    assert origins == ["2", "1"]  # 1972 taken over, 2019-10-15 drawn up in DABS


async def test_search_by_creation_date_and_status(
    call: Call, schemas: dict[str, etree.XMLSchema]
) -> None:
    antwoord = await _search(call, schemas, DatumCreatie="2015-11", DocumentType="GEBOORTE")
    assert _references(antwoord) == [WELL_KNOWN_ACTS["birth_child"]]
    antwoord = await _search(call, schemas, DocumentStatus="02")
    assert _references(antwoord) == [WELL_KNOWN_ACTS["birth_parent_not_digitised"]]
    antwoord = await _search(call, schemas, DatumCreatie=dt.date(2015, 11, 24))
    assert _fout(antwoord) == ("30001", "DABS")


@pytest.mark.parametrize("key", ["child", "household_head", "partner"])
async def test_search_by_insz_and_type_matches_any_role(
    call: Call, schemas: dict[str, etree.XMLSchema], key: str
) -> None:
    antwoord = await _search(call, schemas, DocumentType="GEBOORTE", INSZ=WELL_KNOWN[key])
    assert _references(antwoord) == [WELL_KNOWN_ACTS["birth_child"]]


async def test_search_by_insz_lists_every_act_oldest_first(
    call: Call, schemas: dict[str, etree.XMLSchema]
) -> None:
    antwoord = await _search(call, schemas, INSZ=WELL_KNOWN["single"])
    assert _references(antwoord) == [WELL_KNOWN_ACTS["birth_single"],
                                     WELL_KNOWN_ACTS["name_change_single"]]
    antwoord = await _search(call, schemas, INSZ=WELL_KNOWN["household_head"])
    assert _references(antwoord) == [WELL_KNOWN_ACTS["marriage_head"],
                                     WELL_KNOWN_ACTS["birth_child"]]


async def test_search_can_be_ambiguous(call: Call, schemas: dict[str, etree.XMLSchema]) -> None:
    antwoord = await _search(call, schemas, DocumentType="ERKENNING", INSZ=WELL_KNOWN["cohabitant"])
    assert _references(antwoord) == [WELL_KNOWN_ACTS["recognition_cohabitant_2"],
                                     WELL_KNOWN_ACTS["recognition_cohabitant_1"]]
    second = antwoord.findall(SYNOPSIS)[0]
    lucas = second.find("BetrokkenPersonen/BetrokkenPersoon")
    assert lucas.find("INSZ") is None  # not on the register
    assert (lucas.findtext("Rol/Code"), lucas.findtext("HerkomstINSZ/Code")) == ("1", "0")


async def test_search_by_name_and_birth_date_needs_one_person(
    call: Call, schemas: dict[str, etree.XMLSchema]
) -> None:
    antwoord = await _search(call, schemas, Naam="peeters", Voornaam="KAREL",
                             Geboortedatum=dt.date(1985, 7, 30), DocumentType="HUWELIJK")
    assert _references(antwoord) == [WELL_KNOWN_ACTS["marriage_head"]]
    # Karel Peeters is one person, born in 1985 another: no act names both in one.
    antwoord = await _search(call, schemas, Voornaam="Karel", Geboortedatum=dt.date(2015, 11, 21))
    assert _fout(antwoord) == ("30001", "DABS")
    # A partial birth date covers every day in it.
    antwoord = await _search(call, schemas, Naam="Peeters", Geboortedatum="1985",
                             DocumentType="HUWELIJK")
    assert _references(antwoord) == [WELL_KNOWN_ACTS["marriage_head"]]


@pytest.mark.parametrize(
    "criteria",
    [
        {"INSZ": WELL_KNOWN["foreigner"]},
        {"INSZ": WELL_KNOWN["unknown"]},
        {"DocumentType": "OVERLIJDEN", "INSZ": WELL_KNOWN["single"]},
        {"DatumCreatie": "1900"},
        {"DocumentType": "ADOPTIE", "INSZ": WELL_KNOWN["single"]},
        {"DocumentType": "ONBEKEND"},
        {"GemeenteVanOpmaak": "71022"},
    ],
)
async def test_search_without_acts_is_30001(
    call: Call, schemas: dict[str, etree.XMLSchema], criteria: dict[str, Any]
) -> None:
    antwoord = await _search(call, schemas, **criteria)
    assert _fout(antwoord) == ("30001", "DABS")
    assert antwoord.findtext("Uitzonderingen/Uitzondering/Diagnose") == "Geen akten gevonden"


async def test_search_without_criteria_is_20100(
    call: Call, schemas: dict[str, etree.XMLSchema]
) -> None:
    antwoord = await _search(call, schemas)
    assert _fout(antwoord) == ("20100", "MAGDA")
    assert antwoord.findtext("Uitzonderingen/Uitzondering/Diagnose") == "Onvoldoende criteria"


async def test_search_with_bad_check_digits_is_20002(
    call: Call, schemas: dict[str, etree.XMLSchema]
) -> None:
    antwoord = await _search(call, schemas, INSZ=WELL_KNOWN["invalid_check"])
    assert _fout(antwoord) == ("20002", "MAGDA")


async def test_not_digitised_act_is_found_but_not_delivered(
    call: Call, schemas: dict[str, etree.XMLSchema]
) -> None:
    antwoord = await _search(call, schemas, INSZ=WELL_KNOWN["parent"])
    assert antwoord.findtext(f"{SYNOPSIS}/DocumentStatus/Code") == "2"  # not digitised
    reference = WELL_KNOWN_ACTS["birth_parent_not_digitised"]
    for copy in (False, True):
        act = _antwoord(await call(ACT, act_inhoud(reference, copy=copy)), schemas, ACT)
        assert _fout(act) == ("30010", "DABS")
        assert act.findtext("Uitzonderingen/Uitzondering/Diagnose") == "Akte niet gedigitaliseerd"


async def test_unknown_act_is_30001(call: Call, schemas: dict[str, etree.XMLSchema]) -> None:
    antwoord = _antwoord(await call(ACT, act_inhoud("AKTE-00000-2000-000000")), schemas, ACT)
    assert _fout(antwoord) == ("30001", "DABS")


def _document(antwoord: etree._Element, kind: str, reference: str) -> bytes:
    assert antwoord.find("Uitzonderingen") is None
    akte = antwoord.find("Inhoud/AkteBurgerlijkeStand")
    assert akte is not None
    assert akte.findtext("DocumentReferte") == reference
    (element,) = akte.findall(kind)
    document = element.find("Document")
    assert document is not None and document.get("Formaat") == "PDF"
    if kind == "Uittreksel":
        assert document.get("Taal") == "nl" and document.get("Model")
    else:
        assert document.get("Taal") is None and document.get("Model") is None
    pdf = base64.b64decode(document.text or "")
    assert pdf.startswith(b"%PDF-")
    return pdf


async def test_extract_of_a_birth_act_is_a_readable_pdf(
    call: Call, schemas: dict[str, etree.XMLSchema]
) -> None:
    reference = WELL_KNOWN_ACTS["birth_child"]
    reply = await call(ACT, act_inhoud(reference, model="internationaal"))
    pdf = _document(_antwoord(reply, schemas, ACT), "Uittreksel", reference)
    document = _antwoord(reply, schemas, ACT).find(
        "Inhoud/AkteBurgerlijkeStand/Uittreksel/Document")
    assert document is not None and document.get("Model") == "internationaal"
    text = pdf_text(pdf)
    assert "Uittreksel uit de akte van geboorte" in text
    for expected in (reference, "Seppe Peeters", "Jan Karel Peeters", "Sofie Janssens",
                     "Vader", "Moeder", "Antwerpen", "23-11-2015", "internationaal"):
        assert expected in text, expected
    again = await call(ACT, act_inhoud(reference, model="internationaal"))
    assert _document(_antwoord(again, schemas, ACT), "Uittreksel", reference) == pdf


async def test_copy_of_a_marriage_act_is_a_readable_pdf(
    call: Call, schemas: dict[str, etree.XMLSchema]
) -> None:
    reference = WELL_KNOWN_ACTS["marriage_head"]
    reply = await call(ACT, act_inhoud(reference, copy=True))
    text = pdf_text(_document(_antwoord(reply, schemas, ACT), "Afschrift", reference))
    assert "Afschrift van de akte van huwelijk" in text
    for expected in (reference, "Jan Karel Peeters", "Sofie Janssens", "Getuige", "Brugge",
                     "12-06-2010"):
        assert expected in text, expected


async def test_documents_are_sealed(
    call: Call, schemas: dict[str, etree.XMLSchema], tmp_path: Path
) -> None:
    reference = WELL_KNOWN_ACTS["death_deceased"]
    reply = await call(ACT, act_inhoud(reference))
    pdf = _document(_antwoord(reply, schemas, ACT), "Uittreksel", reference)
    assert "Jef Lambrechts" in pdf_text(pdf)
    (tmp_path / "act.pdf").write_bytes(pdf)
    checked = subprocess.run(["pdfsig", str(tmp_path / "act.pdf")], capture_output=True,
                             check=True, timeout=30)
    assert b"Signature Validation: Signature is Valid." in checked.stdout
    assert b"Total document signed" in checked.stdout
    assert b"MAGDA simulator seal" in checked.stdout


@pytest.mark.parametrize("code", list(ACT_TYPES))
async def test_one_act_of_each_kind_is_found_and_delivered(
    call: Call, schemas: dict[str, etree.XMLSchema], code: str
) -> None:
    person, reference = ACT_OF_EACH_KIND[code]
    antwoord = await _search(call, schemas, DocumentType=code, INSZ=WELL_KNOWN[person])
    assert antwoord.find("Uitzonderingen") is None
    (akte,) = antwoord.findall(SYNOPSIS)
    assert akte.findtext("DocumentReferte") == reference
    assert (akte.findtext("DocumentType/Code"),
            akte.findtext("DocumentType/Omschrijving")) == (code, ACT_TYPES[code])
    assert akte.findtext("DocumentStatus/Code") == "1"
    description = ACT_TYPES[code][0].lower() + ACT_TYPES[code][1:]
    for copy, kind, title in ((False, "Uittreksel", f"Uittreksel uit de {description}"),
                              (True, "Afschrift", f"Afschrift van de {description}")):
        reply = await call(ACT, act_inhoud(reference, copy=copy))
        text = pdf_text(_document(_antwoord(reply, schemas, ACT), kind, reference))
        assert title in " ".join(text.split()), (code, kind)
        assert reference in text


async def test_zeep_reads_the_answers_with_the_same_wsdl(call: Call) -> None:
    search = (await call(SEARCH, search_inhoud(INSZ=WELL_KNOWN["deceased"]))).payload
    client = zeep.Client(str(service_file(SEARCH, ".wsdl")))
    parsed = client.get_element(f"ns0:{SEARCH}Response").parse(search, client.wsdl.types)
    lijst = parsed.Repliek.Antwoorden.Antwoord.Inhoud.AkteBurgerlijkeStandSynopsisLijst
    akte = lijst.AkteBurgerlijkeStandSynopsis[0]
    assert akte.DocumentType.Code == "OVERLIJDEN"
    assert (akte.DatumCreatie.Jaar, akte.DatumCreatie.Maand, akte.DatumCreatie.Dag) == (
        "2024", "02", "12")
    document = (await call(ACT, act_inhoud(akte.DocumentReferte))).payload
    client = zeep.Client(str(service_file(ACT, ".wsdl")))
    parsed = client.get_element(f"ns0:{ACT}Response").parse(document, client.wsdl.types)
    uittreksel = parsed.Repliek.Antwoorden.Antwoord.Inhoud.AkteBurgerlijkeStand.Uittreksel
    assert base64.b64decode(uittreksel.Document._value_1).startswith(b"%PDF-")
    assert uittreksel.Document.Formaat == "PDF"
