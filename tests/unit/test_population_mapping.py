"""Golden files: ``tests/golden/population/<case>.xml`` (Antwoord/Inhoud) → ``<case>.json``.

Regenerate after a deliberate mapping change with ``LOKET_UPDATE_GOLDEN=1 pytest tests/unit``,
then read the diff before committing it.
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
    members = root.find("Gezin/Gezinsleden")
    assert members is not None
    members[:] = list(reversed(members))
    household = household_from_inhoud(root)
    assert household.members[0].relation_code == "01"


def test_missing_required_field_is_a_mapping_error() -> None:
    root = _inhoud((GOLDEN / "household-single.xml").read_bytes())
    residence = root.find("Gezin/Hoofdverblijfplaats")
    assert residence is not None
    residence.getparent().remove(residence)  # type: ignore[union-attr]
    with pytest.raises(MappingError, match="Hoofdverblijfplaats"):
        household_from_inhoud(root)


def test_unreadable_birth_date_is_a_mapping_error() -> None:
    xml = (GOLDEN / "household-single.xml").read_bytes()
    root = _inhoud(xml)
    date = root.find("Gezin/Gezinsleden/Gezinslid/Geboortedatum")
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
