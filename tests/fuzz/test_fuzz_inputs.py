"""Hypothesis-driven bad input: job bodies and back-end answers get a clear typed error, never a
crash. (Issue 9's fuzzing; the worker-level guarantees are in tests/integration.)"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from adapters.magda.envelope import parse_reply
from adapters.population.mapping import (
    history_from_inhoud,
    household_from_inhoud,
    person_from_inhoud,
)
from hub.contract import decode_job
from hub.errors import HubError, InvalidInput, MappingError

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=25,
)
VALID = {
    "contract_version": 1, "job_id": "job-fuzz-0001", "type": "population.attest",
    "tenant": "gent",
    "requester": {"capacity": "person", "identifier": "85073003328", "authenticated": True},
    "subject": {"kind": "person", "identifier": "85073003328"}, "product_id": 1,
    "dossier_id": "D", "parameters": {"attest": "household-composition"},
}
FAST = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.binary(max_size=300))
def test_any_bytes_as_a_job_body(body: bytes) -> None:
    try:
        decode_job(body, None)
    except InvalidInput as error:
        assert error.code in {"MALFORMED_JSON", "SCHEMA_VIOLATION", "JOB_ID_MISMATCH",
                              "INVALID_INSZ", "INVALID_KBO", "INVALID_ASSOCIATION_NUMBER"}


@FAST
@given(st.sampled_from(sorted(VALID)), json_values)
def test_a_valid_job_with_one_field_replaced(field: str, value: Any) -> None:
    body = dict(VALID, **{field: value})
    try:
        job = decode_job(json.dumps(body).encode(), None)
    except InvalidInput as error:
        assert error.message and error.code.isupper()
    else:
        assert job.job_id


def _envelope(body: str) -> bytes:
    return (f'<s:Envelope xmlns:s="{SOAP}"><s:Body>{body}</s:Body></s:Envelope>').encode()


@FAST
@given(st.binary(max_size=400))
def test_any_bytes_as_a_soap_answer(content: bytes) -> None:
    try:
        parse_reply(content, 200, service="GeefPersoon", expected_referte="r-1")
    except HubError as error:
        assert error.code


xml_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)


@st.composite
def xml_trees(draw: st.DrawFn, depth: int = 3) -> etree._Element:
    names = st.sampled_from(["Persoon", "INSZ", "Naam", "Achternaam", "Voornamen", "Voornaam",
                             "Geboorte", "Datum", "Geslacht", "Code", "Gezin", "Gezinsleden",
                             "Gezinslid", "Hoofdverblijfplaats", "Adres", "Straat", "Historiek",
                             "Overlijden", "Begindatum", "Einddatum", "Gemeente", "NISCode"])
    root = etree.Element("Inhoud")

    def grow(parent: etree._Element, level: int) -> None:
        for _ in range(draw(st.integers(0, 3))):
            child = etree.SubElement(parent, draw(names))
            if level < depth and draw(st.booleans()):
                grow(child, level + 1)
            else:
                child.text = draw(xml_text)

    grow(root, 0)
    return root


@FAST
@given(xml_trees())
def test_any_answer_tree_maps_or_is_a_mapping_error(inhoud: etree._Element) -> None:
    for mapping in (person_from_inhoud, history_from_inhoud, household_from_inhoud):
        with contextlib.suppress(MappingError):
            mapping(inhoud)


def test_entity_expansion_and_external_entities_are_refused() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>' + _envelope("<x>&c;</x>"))
    external = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                + _envelope("<x>&e;</x>"))
    for answer in (bomb, external):
        try:
            parse_reply(answer, 200, service="GeefPersoon", expected_referte="r")
        except HubError as error:
            assert error.code in {"BACKEND_ANSWER_UNSAFE", "BACKEND_ANSWER_UNREADABLE"}
        else:
            raise AssertionError("an answer with a DTD was accepted")
