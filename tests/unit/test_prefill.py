"""Prefill: question ids → values, per capacity, from the login and the population register."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from adapters.population.mapping import person_from_inhoud
from adapters.prefill.form import (
    PrefillRequest,
    load_prefill_table,
    prefill_form,
    register_values,
)
from hub.errors import ConfigurationError, InvalidInput

GOLDEN = Path(__file__).resolve().parent.parent / "golden/population"

PERSON_CLAIMS = {
    "last_name": "Maes", "first_name": "Els", "identity_number": "72610920212",
    "email": "els.maes@example.be", "phone_number": "09 123 45 67",
    "mobile_number": "0470 12 34 56",
}
COMPANY_CLAIMS = {**PERSON_CLAIMS, "legal_name": "Bakkerij Maes BV", "kbo_number": "0428364866"}
ASSOCIATION_CLAIMS = {**PERSON_CLAIMS, "legal_name": "Gentse Fanfare VZW",
                      "kbo_number": "0428364866", "organization_number": "V0001234"}
REGISTER = {
    "street": "Korenmarkt", "house_number": "3", "box": "2B", "postal_code": "9000",
    "municipality": "Gent", "gender": "V", "birth_date": "1972-01-09", "nationality": "Belg",
}

# loket.md's table, verbatim: question id → login key.
DOCUMENTED = {
    "person_requester_1_last_name": "last_name",
    "person_requester_1_first_name": "first_name",
    "person_requester_1_identity_number": "identity_number",
    "person_requester_1_email": "email",
    "person_requester_1_phone_number": "phone_number",
    "person_requester_1_mobile_number": "mobile_number",
    "company_requester_1_legal_name": "legal_name",
    "company_requester_1_kbo_number": "kbo_number",
    "organization_requester_1_legal_name": "legal_name",
    "organization_requester_1_kbo_number": "kbo_number",
    "organization_requester_1_organization_number": "organization_number",
}
PERSON_LOGIN_IDS = [qid for qid in DOCUMENTED if qid.startswith("person_")]
REGISTER_IDS = [f"person_requester_1_{key}" for key in REGISTER]


def _person() -> etree._Element:
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False)
    return etree.fromstring((GOLDEN / "person-single.xml").read_bytes(), parser)


@pytest.mark.parametrize(("question_id", "key"), DOCUMENTED.items())
def test_the_table_has_every_documented_question_id(question_id: str, key: str) -> None:
    spec = load_prefill_table().fields[question_id]
    assert spec.key == key
    assert spec.source == "login"


def test_person_from_the_login() -> None:
    answer = prefill_form(PrefillRequest("person", PERSON_CLAIMS, None, PERSON_LOGIN_IDS))
    assert answer.values == {qid: PERSON_CLAIMS[DOCUMENTED[qid]] for qid in PERSON_LOGIN_IDS}
    assert answer.read_only == [
        "person_requester_1_last_name", "person_requester_1_first_name",
        "person_requester_1_identity_number",
    ]
    assert answer.unknown == answer.unavailable == []


def test_register_fields_without_a_register_link_are_unavailable() -> None:
    ids = ["person_requester_1_last_name", *REGISTER_IDS]
    answer = prefill_form(PrefillRequest("person", PERSON_CLAIMS, None, ids))
    assert answer.values == {"person_requester_1_last_name": "Maes"}
    assert answer.unavailable == REGISTER_IDS
    assert answer.unknown == []


def test_register_fields_with_a_register_link() -> None:
    answer = prefill_form(PrefillRequest("person", PERSON_CLAIMS, REGISTER, REGISTER_IDS))
    assert answer.values == {f"person_requester_1_{k}": v for k, v in REGISTER.items()}
    # The register is authoritative for these; the address stays editable.
    assert answer.read_only == [
        "person_requester_1_gender", "person_requester_1_birth_date",
        "person_requester_1_nationality",
    ]


def test_company_data_and_the_persons_own_data_under_the_company_prefix() -> None:
    ids = ["company_requester_1_legal_name", "company_requester_1_kbo_number",
           "company_person_requester_1_last_name", "company_person_requester_1_email",
           "company_person_requester_1_street"]
    answer = prefill_form(PrefillRequest("company", COMPANY_CLAIMS, REGISTER, ids))
    assert answer.values == {
        "company_requester_1_legal_name": "Bakkerij Maes BV",
        "company_requester_1_kbo_number": "0428364866",
        "company_person_requester_1_last_name": "Maes",
        "company_person_requester_1_email": "els.maes@example.be",
        "company_person_requester_1_street": "Korenmarkt",
    }
    assert answer.read_only == ["company_requester_1_legal_name",
                                "company_requester_1_kbo_number",
                                "company_person_requester_1_last_name"]
    assert answer.unknown == answer.unavailable == []


def test_association_data_and_the_organization_prefix() -> None:
    ids = ["organization_requester_1_legal_name", "organization_requester_1_kbo_number",
           "organization_requester_1_organization_number",
           "organization_person_requester_1_identity_number",
           "organization_person_requester_1_mobile_number"]
    answer = prefill_form(PrefillRequest("association", ASSOCIATION_CLAIMS, None, ids))
    assert answer.values == {
        "organization_requester_1_legal_name": "Gentse Fanfare VZW",
        "organization_requester_1_kbo_number": "0428364866",
        "organization_requester_1_organization_number": "V0001234",
        "organization_person_requester_1_identity_number": "72610920212",
        "organization_person_requester_1_mobile_number": "0470 12 34 56",
    }
    assert answer.read_only == ids[:4]


@pytest.mark.parametrize(
    ("capacity", "foreign"),
    [
        ("person", ["company_requester_1_legal_name", "company_person_requester_1_last_name",
                    "organization_requester_1_organization_number"]),
        ("company", ["person_requester_1_last_name", "organization_requester_1_legal_name",
                     "organization_person_requester_1_email"]),
        ("association", ["person_requester_1_email", "company_requester_1_kbo_number",
                         "company_person_requester_1_first_name"]),
    ],
)
def test_another_capacitys_question_ids_are_unknown(capacity: str, foreign: list[str]) -> None:
    answer = prefill_form(PrefillRequest(capacity, ASSOCIATION_CLAIMS, REGISTER, foreign))
    assert answer.unknown == foreign
    assert answer.values == {}
    assert answer.read_only == answer.unavailable == []


def test_unknown_ids_are_reported_once_in_the_asked_order() -> None:
    ids = ["favourite_colour", "person_requester_1_email", "favourite_colour", "person_x"]
    answer = prefill_form(PrefillRequest("person", PERSON_CLAIMS, None, ids))
    assert answer.unknown == ["favourite_colour", "person_x"]
    assert answer.values == {"person_requester_1_email": "els.maes@example.be"}


def test_a_missing_or_blank_claim_is_unavailable_and_not_locked() -> None:
    claims = {"last_name": "Maes", "first_name": "  ", "email": ""}
    ids = ["person_requester_1_last_name", "person_requester_1_first_name",
           "person_requester_1_email", "person_requester_1_identity_number"]
    answer = prefill_form(PrefillRequest("person", claims, None, ids))
    assert answer.values == {"person_requester_1_last_name": "Maes"}
    assert answer.read_only == ["person_requester_1_last_name"]
    assert answer.unavailable == ids[1:]


def test_to_dict_is_the_reply() -> None:
    answer = prefill_form(PrefillRequest("person", PERSON_CLAIMS, None,
                                         ["person_requester_1_last_name", "nope",
                                          "person_requester_1_box"]))
    assert answer.to_dict() == {
        "values": {"person_requester_1_last_name": "Maes"},
        "read_only": ["person_requester_1_last_name"],
        "unknown": ["nope"],
        "unavailable": ["person_requester_1_box"],
    }


def test_bad_requests_are_invalid_input() -> None:
    with pytest.raises(InvalidInput) as capacity:
        prefill_form(PrefillRequest("robot", {}, None, []))
    assert capacity.value.code == "PREFILL_UNKNOWN_CAPACITY"
    with pytest.raises(InvalidInput) as not_text:
        prefill_form(PrefillRequest("person", {"last_name": 3}, None,  # type: ignore[dict-item]
                                    ["person_requester_1_last_name"]))
    assert not_text.value.code == "PREFILL_VALUE_NOT_TEXT"


def test_needs_register_only_for_register_fields_of_the_capacity() -> None:
    table = load_prefill_table()
    assert table.needs_register("person", ["person_requester_1_birth_date"])
    assert not table.needs_register("person", PERSON_LOGIN_IDS)
    assert not table.needs_register("company", ["person_requester_1_birth_date"])
    assert table.needs_register("company", ["company_person_requester_1_gender"])


def test_register_values_from_the_population_model() -> None:
    person = person_from_inhoud(_person())
    assert register_values(person) == REGISTER


def test_register_values_leave_out_what_the_register_lacks() -> None:
    person = person_from_inhoud(_person())
    values = register_values(replace(person, residence=None, nationalities=()))
    assert values == {"gender": "V", "birth_date": "1972-01-09"}


def test_a_whole_form_from_the_golden_person() -> None:
    register = register_values(person_from_inhoud(_person()))
    ids = ["person_requester_1_identity_number", "person_requester_1_box",
           "person_requester_1_municipality", "person_requester_1_nationality"]
    answer = prefill_form(PrefillRequest("person", PERSON_CLAIMS, register, ids))
    assert answer.values == {
        "person_requester_1_identity_number": "72610920212",
        "person_requester_1_box": "2B",
        "person_requester_1_municipality": "Gent",
        "person_requester_1_nationality": "Belg",
    }


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('[questions]\nq = { key = "last_name", capacity = "robot", read_only = true }',
         "unknown capacity"),
        ('[questions]\nq = { key = "shoe_size", capacity = "person", read_only = true }',
         "no login key"),
        ('[questions]\nq = { key = "street", capacity = "person", read_only = true }',
         "no login key"),
        ('[questions]\nq = { key = "last_name", capacity = "person" }', "read_only"),
        ('[questions]\nq = { key = "last_name", capacity = "person", read_only = true, '
         'lock = 1 }', "unknown settings"),
        ('[prefixes]\nperson = "p_"\n[questions]', "bad prefix"),
        ('[prefixes]\ncompany = "c_"\n[questions]\n'
         'p = { key = "last_name", capacity = "person", read_only = true }\n'
         'c_p = { key = "legal_name", capacity = "company", read_only = true }',
         "defined twice"),
        ("questions = 3", "needs [questions]"),
        ("[questions", "cannot read"),
    ],
)
def test_a_bad_table_is_a_configuration_error(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "prefill.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=words.replace("[", r"\[")):
        load_prefill_table(path)
