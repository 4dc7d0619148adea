"""Golden files for civil-status acts (DABS): synopses, the act to fetch, who receives which form.

``tests/golden/civil-status/search-*.xml`` are ZoekAktenBurgerlijkeStand answers written by hand
in MAGDA's structure (``tests/conformance`` checks each against MAGDA's published response
schema), never captured from our simulator; each ``.json`` holds the synopses, what
``pick_act`` makes of them (the act, or its refusal code) and, per act, form (extract, copy) and
relation, the entitlement decision: "automatic", "approval" or the refusal code. The relations
are "concerned" (the requester is the act's subject, Rol 1, or when that person has no INSZ the
first person in the act who has one: ``concerned_via`` says which role), each relation a
requester may declare in ``mappings/civil-status.toml``, and "none" (nothing declared).
``act-*.xml`` are GeefAkteBurgerlijkeStand answers with their PDF inline.
Regenerate the JSON deliberately with ``LOKET_UPDATE_GOLDEN=1``, and read the difference.
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

from adapters.civil_status.errors import ActNotDigitised, ActNotFound, NotEntitled
from adapters.civil_status.mapping import (
    CONCERNED,
    LISTED_RIGHT,
    ActRules,
    ActSynopsis,
    PartialDate,
    act_document,
    acts_of,
    decide_before_search,
    decide_entitlement,
    load_rules,
    pick_act,
    synopses_from_inhoud,
)
from adapters.magda.xop import document_bytes
from hub.errors import ApprovalRequired, HubError, MappingError

GOLDEN = Path(__file__).resolve().parent.parent / "golden/civil-status"
SEARCHES = sorted(p.stem for p in GOLDEN.glob("search-*.xml"))
ACTS = sorted(p.stem for p in GOLDEN.glob("act-*.xml"))
FORMS = ("extract", "copy")
SUBJECT_ROLE = "1"
"""Rol/Code of the person an act is about (the simulator's code list)."""
STRANGER = "83661504165"
"""The requester for declared relations: an INSZ no act names (``foreigner`` in the simulator)."""


def _inhoud(case: str) -> etree._Element:
    """The golden answer's ``Repliek/Antwoorden/Antwoord/Inhoud``."""
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False)
    answer = etree.fromstring((GOLDEN / f"{case}.xml").read_bytes(), parser)
    inhoud = answer.find("Repliek/Antwoorden/Antwoord/Inhoud")
    assert inhoud is not None
    return inhoud


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
    # What a job can declare in `relationship`: neither appearing in the act nor a listed
    # right is taken on the requester's word.
    every = set().union(*rules.automatic.values(), *rules.approval.values())
    return sorted(every - {CONCERNED, LISTED_RIGHT})


def _concerned(act: ActSynopsis) -> tuple[str, str] | None:
    """(role, INSZ) of the person a "concerned" requester is: the subject (Rol 1) if it has an
    INSZ."""
    on_register = [p for p in act.persons if p.insz]
    subject = next((p for p in on_register if p.role == SUBJECT_ROLE), None)
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
        "entitlement": {act.reference or "(no DocumentReferte)": _entitlement(act, rules)
                        for act in acts},
    }


def _mapped_act(case: str) -> dict[str, Any]:
    inhoud = _inhoud(case)
    akte = inhoud.find("AkteBurgerlijkeStand")
    assert akte is not None
    form = "extract" if akte.find("Uittreksel") is not None else "copy"
    reference = akte.findtext("DocumentReferte") or ""
    delivered = act_document(inhoud, form=form, reference=reference)
    pdf = document_bytes(delivered.document, {})
    return {
        "form": delivered.form,
        "reference": delivered.reference,
        "format": delivered.format,
        "language": delivered.language,
        "model": delivered.model,
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
    assert rules.available == frozenset({"1"})


def test_being_in_the_act_wins_over_a_declared_relation() -> None:
    # The rule applied to an act already found (after an approval-free search, or for the
    # acts DABS found about a requester who declared nothing); the adapter decides a declared
    # relation from the job, before any search (decide_before_search).
    rules = load_rules()
    (act,) = synopses_from_inhoud(_inhoud("search-birth-child"))
    father = next(p.insz for p in act.persons if p.role == "2")  # Vader
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


def test_what_a_synopsis_leaves_out_stays_absent() -> None:
    (act,) = synopses_from_inhoud(_inhoud("search-partial"))
    assert act.reference is None and act.municipality_nis is None
    assert act.type_description is None
    assert act.created.isoformat() == "1974" and act.created.month is None
    assert [p.insz for p in act.persons] == [None, "93051822361"]
    assert [p.role_description for p in act.persons] == [None, None]
    assert act.summary() == {"type": "LEVENLOOS_KIND", "drawn_up_on": "1974"}
    # Without a reference it cannot be fetched: refused as an act DABS cannot deliver.
    with pytest.raises(ActNotDigitised):
        pick_act((act,), load_rules())


def test_an_answer_that_lacks_what_magda_requires_is_a_mapping_error() -> None:
    for path in ("DocumentType", "DatumCreatie", "HerkomstAkte",
                 "BetrokkenPersonen/BetrokkenPersoon/HerkomstINSZ"):
        inhoud = _inhoud("search-birth-child")
        synopsis = inhoud.find("AkteBurgerlijkeStandSynopsisLijst/AkteBurgerlijkeStandSynopsis")
        assert synopsis is not None
        gone = synopsis.find(path)
        assert gone is not None
        gone.getparent().remove(gone)
        with pytest.raises(MappingError):
            synopses_from_inhoud(inhoud)


def test_a_partial_date_keeps_its_parts() -> None:
    assert PartialDate(2015, 6, 16).isoformat() == "2015-06-16"
    assert PartialDate(2015, 6).isoformat() == "2015-06"
    assert PartialDate(2015).isoformat() == "2015"


def test_the_act_document_must_be_the_act_and_form_asked_for() -> None:
    inhoud = _inhoud("act-extract-birth-child")
    with pytest.raises(MappingError, match="another act"):
        act_document(inhoud, form="extract", reference="AKTE-00000-1900-000000")
    with pytest.raises(MappingError, match="Afschrift"):
        act_document(inhoud, form="copy", reference="AKTE-11002-2015-000123")
    document = inhoud.find("AkteBurgerlijkeStand/Uittreksel/Document")
    assert document is not None
    document.set("Formaat", "TIFF")
    with pytest.raises(MappingError, match="TIFF"):
        act_document(inhoud, form="extract", reference="AKTE-11002-2015-000123")
    with pytest.raises(MappingError, match="AkteBurgerlijkeStand"):
        act_document(None, form="extract", reference="AKTE-11002-2015-000123")


def _before(form: str, *, persons: set[str], relation: str | None = None,
            listed: bool = False, subject: str = "85073003328") -> str | None:
    return decide_before_search(form, requester_persons=persons, subject=subject,
                                declared_relationship=relation, listed_right=listed,
                                rules=load_rules())


def test_the_subject_needs_no_check() -> None:
    assert _before("copy", persons={"85073003328"}) == CONCERNED
    # Also when a company's acting person is the subject, whatever they declared.
    assert _before("copy", persons={"85073003328"}, relation="heir") == CONCERNED


def test_a_declared_relation_is_decided_before_any_search() -> None:
    with pytest.raises(ApprovalRequired) as approval:
        _before("copy", persons={STRANGER}, relation="descendant")
    assert approval.value.details == {"rule": "forms.copy.approval", "relation": "descendant"}
    with pytest.raises(NotEntitled) as refused:
        _before("copy", persons={STRANGER}, relation="spouse")
    assert refused.value.details == {"rule": "forms.copy", "relation": "spouse"}
    # Nothing about an act: none was looked at.
    assert "act" not in approval.value.details and "act" not in refused.value.details


def test_only_a_requester_without_relation_needs_the_act() -> None:
    assert _before("extract", persons={STRANGER}) is None
    # A company without an acting person: nobody can appear in the act, so no search either.
    with pytest.raises(NotEntitled) as refused:
        _before("extract", persons=set())
    assert refused.value.details == {"rule": "forms.extract", "relation": "none"}
    # Appearing in the act is never taken on the requester's word.
    assert _before("extract", persons={STRANGER}, relation=CONCERNED) is None


def test_a_listed_right_follows_the_form_rules() -> None:
    assert _before("extract", persons={STRANGER}, listed=True) == LISTED_RIGHT
    with pytest.raises(ApprovalRequired) as approval:
        _before("copy", persons={STRANGER}, listed=True)
    assert approval.value.details["relation"] == LISTED_RIGHT


def test_only_acts_the_requester_appears_in_are_kept() -> None:
    (act,) = synopses_from_inhoud(_inhoud("search-birth-child"))
    father = next(p.insz for p in act.persons if p.role == "2")
    assert father is not None
    assert acts_of((act,), {STRANGER}) == ()
    assert acts_of((act,), {STRANGER, father}) == (act,)
    (partial,) = synopses_from_inhoud(_inhoud("search-partial"))
    assert acts_of((partial,), {STRANGER}) == ()  # a person without INSZ matches nobody
