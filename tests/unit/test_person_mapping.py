"""Golden files for the person services: every certificate (or its refusal) from each answer.

``tests/golden/population/person-*.xml`` (GeefPersoon 02.02) and ``history-*.xml``
(GeefHistoriekPersoon 02.02) → ``.json`` with the domain model and, per certificate built from
that source, its facts or its refusal code. The inputs are written in MAGDA's answer structure
and checked against MAGDA's response XSD (``tests/conformance/test_golden_inputs.py``).
Regenerate the expectations deliberately with ``LOKET_UPDATE_GOLDEN=1`` and read the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from adapters.population.catalogue import load_catalogue
from adapters.population.errors import SubjectMismatch
from adapters.population.mapping import (
    Issuer,
    build_certificate,
    history_from_inhoud,
    person_from_inhoud,
)
from hub.errors import FactsDoNotHold, MappingError

GOLDEN = Path(__file__).resolve().parent.parent / "golden/population"
CASES = sorted(p.stem for p in GOLDEN.glob("person-*.xml")) + sorted(
    p.stem for p in GOLDEN.glob("history-*.xml")
)
GENT = Issuer(nis_code="44021", name="Stad Gent")


def _inhoud(case: str) -> etree._Element:
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False)
    return etree.fromstring((GOLDEN / f"{case}.xml").read_bytes(), parser)


def _mapped(case: str) -> dict[str, Any]:
    source = "person" if case.startswith("person-") else "history"
    model = (person_from_inhoud if source == "person" else history_from_inhoud)(_inhoud(case))
    certificates: dict[str, Any] = {}
    for spec in load_catalogue().values():
        if spec.source != source:
            continue
        try:
            certificate = build_certificate(
                spec, model, subject_insz=model.insz, issuer=GENT, language="nl"
            )
            certificates[spec.id] = {"title": certificate.title, "facts": certificate.facts}
        except FactsDoNotHold as refusal:
            certificates[spec.id] = {"refused": refusal.code}
    return {"model": model.to_dict(), "certificates": certificates}


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    expected_file = GOLDEN / f"{case}.json"
    actual = json.loads(json.dumps(_mapped(case)))
    if os.environ.get("LOKET_UPDATE_GOLDEN"):
        expected_file.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n")
    assert actual == json.loads(expected_file.read_text(encoding="utf-8"))


def test_every_certificate_and_refusal_is_covered_by_a_golden_file() -> None:
    delivered: set[str] = set()
    refused: set[str] = set()
    for case in CASES:
        for attest, outcome in _mapped(case)["certificates"].items():
            (refused if "refused" in outcome else delivered).add(
                outcome.get("refused", attest)
            )
    person_kinds = {s.id for s in load_catalogue().values() if s.source != "household"}
    assert person_kinds <= delivered
    assert {"SUBJECT_DECEASED", "NOT_BELGIAN", "NO_LEGAL_COHABITATION",
            "NO_BURIAL_DECLARATION", "ALREADY_MARRIED"} <= refused


def test_what_the_answer_leaves_out_is_absent_not_invented() -> None:
    inhoud = _inhoud("person-single")
    persoon = inhoud.find("Persoon")
    assert persoon is not None
    for tag in ("Geboorte", "Geslacht", "Naam"):
        found = persoon.find(tag)
        assert found is not None
        persoon.remove(found)
    person = person_from_inhoud(inhoud)
    assert (person.birth_date, person.birth_place, person.sex) == (None, None, None)
    assert (person.first_names, person.last_names, person.last_name) == ((), (), None)


def test_an_unknown_day_or_month_stays_unknown() -> None:
    person = person_from_inhoud(_inhoud("person-abroad"))
    assert person.birth_date is not None
    assert (str(person.birth_date), person.birth_date.known) == ("1950-00-00", None)
    assert person.civil_status is not None and str(person.civil_status.since) == "1975-05-00"
    assert person.last_names == ("García", "Márquez") and person.first_names == ()
    assert person.residence is None  # abroad: no main residence in Belgium
    assert [(a.kind, a.country, a.lines) for a in person.addresses_abroad] == [
        ("residence", "Spanje", ("Calle Mayor 12", "41001 Sevilla")), ("post", "Spanje", ()),
    ]
    assert [n.code for n in person.nationalities] == ["150"]  # the ended one is not current


def test_an_unreadable_date_is_a_mapping_error() -> None:
    inhoud = _inhoud("person-single")
    birth = inhoud.find("Persoon/Geboorte/Datum")
    assert birth is not None
    birth.text = "30/07/1985"
    with pytest.raises(MappingError, match="Datum"):
        person_from_inhoud(inhoud)


def test_an_answer_about_another_insz_is_refused_unless_renumbered() -> None:
    model = person_from_inhoud(_inhoud("person-single"))
    spec = load_catalogue()["proof-of-life"]
    with pytest.raises(SubjectMismatch):
        build_certificate(spec, model, subject_insz="85073003328", issuer=GENT, language="nl")
    certificate = build_certificate(spec, model, subject_insz="85073003328", issuer=GENT,
                                    language="nl", warning_codes=["30004"])
    assert certificate.facts["Person"]["Insz"] == model.insz


def test_answer_without_persoon_is_a_mapping_error() -> None:
    with pytest.raises(MappingError):
        person_from_inhoud(etree.fromstring(b"<Inhoud/>"))
    with pytest.raises(MappingError):
        history_from_inhoud(etree.fromstring(b"<Inhoud><Persoon><INSZ>1</INSZ></Persoon></Inhoud>"))
    with pytest.raises(MappingError):
        person_from_inhoud(
            etree.fromstring(b"<Inhoud><HistoriekPersoon><INSZ>1</INSZ></HistoriekPersoon></Inhoud>")
        )
