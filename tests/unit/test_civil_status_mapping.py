"""Golden files for civil-status acts (DABS): synopses, the act to fetch, who receives which form.

``tests/golden/civil-status/search-*.xml`` are ``Antwoord/Inhoud`` elements of
ZoekAktenBurgerlijkeStand captured from the simulator; each ``.json`` holds the synopses, what
``pick_act`` makes of them (the act, or its refusal code) and, per act, form (extract, copy) and
relation, the entitlement decision: "automatic", "approval" or the refusal code. The relations
are "concerned" (the requester is the act's BETROKKENE, or when that person is not on the
register the first person in the act who is: ``concerned_via`` says which role), each relation a
requester may declare in ``mappings/civil-status.toml``, and "none" (nothing declared).
``act-*.xml`` are GeefAkteBurgerlijkeStand answers with their PDF inline.
Regenerate deliberately with ``LOKET_UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from adapters.civil_status.errors import ActNotFound, NotEntitled
from adapters.civil_status.mapping import (
    CONCERNED,
    ActRules,
    ActSynopsis,
    decide_entitlement,
    load_rules,
    pick_act,
    synopses_from_inhoud,
)
from adapters.magda.xmlread import text
from adapters.magda.xop import document_bytes
from hub.errors import ApprovalRequired, HubError, MappingError

GOLDEN = Path(__file__).resolve().parent.parent / "golden/civil-status"
SEARCHES = sorted(p.stem for p in GOLDEN.glob("search-*.xml"))
ACTS = sorted(p.stem for p in GOLDEN.glob("act-*.xml"))
FORMS = ("extract", "copy")
STRANGER = "83661504165"
"""The requester for declared relations: an INSZ no act names (``foreigner`` in the simulator)."""


def _inhoud(case: str) -> etree._Element:
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False)
    return etree.fromstring((GOLDEN / f"{case}.xml").read_bytes(), parser)


def _plain(value: Any) -> Any:
    """Dataclasses, tuples and dates as JSON has them."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _decision(act: ActSynopsis, form: str, persons: set[str], declared: str | None,
              rules: ActRules) -> str:
    try:
        relation = decide_entitlement(act, form, requester_persons=persons,
                                      declared_relationship=declared, rules=rules)
    except ApprovalRequired:
        return "approval"
    except HubError as refusal:
        return refusal.code
    assert relation in rules.automatic[form]
    return "automatic"


def _declared_relations(rules: ActRules) -> list[str]:
    every = set().union(*rules.automatic.values(), *rules.approval.values())
    return sorted(every - {CONCERNED})


def _concerned(act: ActSynopsis) -> tuple[str, str] | None:
    """(role, INSZ) of the person a "concerned" requester is: the BETROKKENE if on the register."""
    on_register = [p for p in act.persons if p.insz]
    subject = next((p for p in on_register if p.role == "BETROKKENE"), None)
    chosen = subject or (on_register[0] if on_register else None)
    return None if chosen is None or chosen.insz is None else (chosen.role, chosen.insz)


def _entitlement(act: ActSynopsis, rules: ActRules) -> dict[str, Any]:
    concerned = _concerned(act)
    outcome: dict[str, Any] = {"concerned_via": concerned[0] if concerned else None}
    for form in FORMS:
        decisions: dict[str, str] = {}
        if concerned is not None:
            decisions["concerned"] = _decision(act, form, {concerned[1]}, None, rules)
        for relation in _declared_relations(rules):
            decisions[relation] = _decision(act, form, {STRANGER}, relation, rules)
        decisions["none"] = _decision(act, form, {STRANGER}, None, rules)
        outcome[form] = decisions
    return outcome


def _picked(acts: tuple[ActSynopsis, ...], rules: ActRules) -> dict[str, Any]:
    try:
        return {"reference": pick_act(acts, rules).reference}
    except HubError as refusal:
        return {"refused": refusal.code, "details": _plain(refusal.details)}


def _mapped_search(case: str) -> dict[str, Any]:
    rules = load_rules()
    acts = synopses_from_inhoud(_inhoud(case))
    return {
        "synopses": _plain(acts),
        "pick_act": _picked(acts, rules),
        "entitlement": {act.reference: _entitlement(act, rules) for act in acts},
    }


def _mapped_act(case: str) -> dict[str, Any]:
    inhoud = _inhoud(case)
    (body,) = [e for e in inhoud if e.tag in ("Uittreksel", "Afschrift")]
    pdf = document_bytes(body.find("Document"), {})
    return {
        "form": body.tag,
        "reference": text(body, "DocumentReferte"),
        "file_name": text(body, "Bestandsnaam"),
        "document": {
            "size": len(pdf),
            "sha256": hashlib.sha256(pdf).hexdigest(),
            "header": pdf[:8].decode("ascii"),
            "ends_with_eof_newline": pdf.endswith(b"%%EOF\n"),
        },
    }


def _check_golden(case: str, mapped: dict[str, Any]) -> None:
    expected_file = GOLDEN / f"{case}.json"
    actual = json.loads(json.dumps(mapped))
    if os.environ.get("LOKET_UPDATE_GOLDEN"):
        expected_file.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n",
                                 encoding="utf-8")
    assert actual == json.loads(expected_file.read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", SEARCHES)
def test_golden_search(case: str) -> None:
    _check_golden(case, _mapped_search(case))


@pytest.mark.parametrize("case", ACTS)
def test_golden_act(case: str) -> None:
    _check_golden(case, _mapped_act(case))


def test_the_golden_files_cover_every_outcome() -> None:
    assert len(SEARCHES) >= 3 and ACTS
    picked: set[str] = set()
    decided: set[str] = set()
    for case in SEARCHES:
        mapped = _mapped_search(case)
        picked.add(mapped["pick_act"].get("refused", "picked"))
        for outcome in mapped["entitlement"].values():
            for form in FORMS:
                decided.update(outcome[form].values())
    assert picked == {"picked", "AMBIGUOUS_ACT", "ACT_NOT_DIGITISED"}
    assert decided == {"automatic", "approval", "NOT_ENTITLED"}


def test_an_answer_without_acts_is_not_found() -> None:
    rules = load_rules()
    assert synopses_from_inhoud(None) == ()
    assert synopses_from_inhoud(etree.fromstring(b"<Inhoud/>")) == ()
    with pytest.raises(ActNotFound) as raised:
        pick_act((), rules)
    assert raised.value.code == "ACT_NOT_FOUND"


def test_the_rules_map_every_contract_act_to_a_code() -> None:
    rules = load_rules()
    assert len(rules.acts) == 14
    assert rules.code_of("recognition-before-birth") == "ERKENNING_VOOR_GEBOORTE"
    assert {code for code, _ in rules.acts.values()} >= {"GEBOORTE", "LEVENLOOS_KIND"}
    assert rules.available == frozenset({"BESCHIKBAAR"})


def test_being_in_the_act_wins_over_a_declared_relation() -> None:
    rules = load_rules()
    (act,) = synopses_from_inhoud(_inhoud("search-birth-child"))
    father = next(p.insz for p in act.persons if p.role == "VADER")
    assert father is not None
    # A parent in the act gets a copy at once, whatever they declared.
    assert decide_entitlement(act, "copy", requester_persons={STRANGER, father},
                              declared_relationship="heir", rules=rules) == CONCERNED
    # An heir who is not in the act: an extract waits for an employee, a copy is refused.
    with pytest.raises(ApprovalRequired) as approval:
        decide_entitlement(act, "extract", requester_persons={STRANGER},
                           declared_relationship="heir", rules=rules)
    assert approval.value.details["rule"] == "forms.extract.approval"
    with pytest.raises(NotEntitled) as refused:
        decide_entitlement(act, "copy", requester_persons={STRANGER},
                           declared_relationship="heir", rules=rules)
    assert refused.value.details == {"rule": "forms.copy", "relation": "heir",
                                     "act": act.reference}


def test_an_act_without_its_reference_is_a_mapping_error() -> None:
    inhoud = _inhoud("search-birth-child")
    akte = inhoud.find("Akten/Akte")
    assert akte is not None
    akte.remove(akte[0])  # DocumentReferte
    with pytest.raises(MappingError, match="DocumentReferte"):
        synopses_from_inhoud(inhoud)
