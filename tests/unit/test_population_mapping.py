"""Golden files: ``tests/golden/population/<case>.xml`` (Antwoord/Inhoud) → ``<case>.json``.

The inputs are GeefGezinssamenstelling 02.02 answers in MAGDA's structure, checked against
MAGDA's response XSD in ``tests/conformance/test_golden_inputs.py``. Regenerate after a
deliberate mapping change with ``LOKET_UPDATE_GOLDEN=1 pytest tests/unit``, then read the diff
before committing it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from lxml import etree

from adapters.population.catalogue import load_catalogue
from adapters.population.errors import SubjectNotInHousehold
from adapters.population.mapping import Issuer, build_certificate, household_from_inhoud
from hub.errors import MappingError

GENT = Issuer(nis_code="44021", name="Stad Gent")
HOUSEHOLD = load_catalogue()["household-composition"]

GOLDEN = Path(__file__).resolve().parent.parent / "golden/population"
CASES = sorted(p.stem for p in GOLDEN.glob("household-*.xml"))


def _inhoud(xml: bytes) -> etree._Element:
    return etree.fromstring(xml, etree.XMLParser(remove_blank_text=True))


def _mapped(case: str) -> dict[str, object]:
    household = household_from_inhoud(_inhoud((GOLDEN / f"{case}.xml").read_bytes()))
    subject = household.members[-1].insz
    certificate = build_certificate(
        HOUSEHOLD, household, subject_insz=subject, issuer=GENT, language="nl"
    )
    return {
        "household": household.to_dict(),
        "certificate": {
            "kind": certificate.kind,
            "title": certificate.title,
            "subject_identifier": certificate.subject_identifier,
            "facts": certificate.facts,
        },
    }


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    expected_file = GOLDEN / f"{case}.json"
    actual = _mapped(case)
    if os.environ.get("LOKET_UPDATE_GOLDEN"):
        expected_file.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n")
    assert actual == json.loads(expected_file.read_text(encoding="utf-8"))


def test_there_are_golden_cases() -> None:
    assert len(CASES) >= 3


def test_reference_person_comes_first_whatever_the_answer_order() -> None:
    root = _inhoud((GOLDEN / "household-family.xml").read_bytes())
    members = root.find("Gezinsleden")
    assert members is not None
    members[:] = list(reversed(members))
    household = household_from_inhoud(root)
    assert household.members[0].relation_code == "01"


def test_missing_required_field_is_a_mapping_error() -> None:
    root = _inhoud((GOLDEN / "household-single.xml").read_bytes())
    position = root.find("Gezinsleden/Gezinslid/Positie")
    assert position is not None
    position.getparent().remove(position)  # type: ignore[union-attr]
    with pytest.raises(MappingError, match="Positie"):
        household_from_inhoud(root)


def test_each_member_keeps_an_address_of_their_own() -> None:
    root = _inhoud((GOLDEN / "household-family.xml").read_bytes())
    last = root.findall("Gezinsleden/Gezinslid")[-1]
    street = last.find("Adressen/Hoofdverblijfplaats/Straatnaam/String")
    assert street is not None
    street.text = "Elders"
    household = household_from_inhoud(root)
    facts = build_certificate(HOUSEHOLD, household, subject_insz=household.members[0].insz,
                              issuer=GENT, language="nl").facts["Household"]
    assert facts["MainResidence"]["Street"] == "Kerkstraat"  # the reference person's
    moved = [m for m in facts["Member"] if "Address" in m]
    assert [m["Address"]["Street"] for m in moved] == ["Elders"]


def test_a_household_without_an_address_is_mapped_without_one() -> None:
    root = _inhoud((GOLDEN / "household-single.xml").read_bytes())
    for adressen in root.iter("Adressen"):
        adressen.getparent().remove(adressen)  # type: ignore[union-attr]
    household = household_from_inhoud(root)
    assert household.main_residence is None
    facts = build_certificate(HOUSEHOLD, household, subject_insz=household.members[0].insz,
                              issuer=GENT, language="nl").facts["Household"]
    assert "MainResidence" not in facts


def test_unreadable_birth_date_is_a_mapping_error() -> None:
    xml = (GOLDEN / "household-single.xml").read_bytes()
    root = _inhoud(xml)
    date = root.find("Gezinsleden/Gezinslid/Geboortedatum")
    assert date is not None
    date.text = "30/07/1985"
    with pytest.raises(MappingError, match="Geboortedatum"):
        household_from_inhoud(root)


def test_subject_must_be_in_the_household() -> None:
    household = household_from_inhoud(_inhoud((GOLDEN / "household-single.xml").read_bytes()))
    with pytest.raises(SubjectNotInHousehold):
        build_certificate(
            HOUSEHOLD, household, subject_insz="85073003328", issuer=GENT, language="nl"
        )
