"""Golden files for the person services: every certificate (or its refusal) from each answer.

``tests/golden/population/person-*.xml`` (GeefPersoon) and ``history-*.xml``
(GeefHistoriekPersoon) → ``.json`` with the domain model and, per certificate built from that
source, its facts or its refusal code. Regenerate deliberately with ``LOKET_UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from adapters.population.catalogue import load_catalogue
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


def test_missing_birth_date_is_a_mapping_error() -> None:
    inhoud = _inhoud("person-single")
    birth = inhoud.find("Persoon/Geboorte/Datum")
    assert birth is not None
    birth.getparent().remove(birth)  # type: ignore[union-attr]
    with pytest.raises(MappingError, match="Geboorte/Datum"):
        person_from_inhoud(inhoud)


def test_answer_without_persoon_is_a_mapping_error() -> None:
    with pytest.raises(MappingError):
        person_from_inhoud(etree.fromstring(b"<Inhoud/>"))
    with pytest.raises(MappingError):
        history_from_inhoud(etree.fromstring(b"<Inhoud><Persoon><INSZ>1</INSZ></Persoon></Inhoud>"))
