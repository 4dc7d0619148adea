"""Criminal-record extracts: who may ask, the request, the status answer, polling, MTOM/XOP.

``tests/golden/criminal-record/`` holds answers written by hand in MAGDA's structure (checked
against MAGDA's published response schemas in ``tests/conformance``), never captured from our
simulator: ``status-several.xml`` (a GeefStatusUittrekselStrafregister answer listing four
extracts), ``status-none.xml``, ``aanvraag.xml`` (the answer to a new request),
``fetch-refused.xml``, with their ``.json`` readings; and one raw MTOM reply fetching an
extract (``fetch-mtom.bin``, its root part rewritten by hand to MAGDA's structure, with its
``fetch-mtom.content-type`` header and the PDF it carries, ``fetch-mtom.pdf``, cut out of the
multipart body by hand). Regenerate the JSON
deliberately with ``LOKET_UPDATE_GOLDEN=1``, and read the difference.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from adapters.criminal_record.client import request_inhoud
from adapters.criminal_record.errors import NotEntitled, UnknownActivity
from adapters.criminal_record.mapping import (
    READY,
    REFUSED,
    ModelRule,
    check_request,
    extract_from_inhoud,
    load_models,
    next_poll_s,
    status_of,
)
from adapters.magda.xop import XOP_NS, document_bytes, is_multipart, unpack
from hub.contract import Job, Requester, Subject
from hub.errors import BackendError, HubError, MappingError

GOLDEN = Path(__file__).resolve().parent.parent / "golden/criminal-record"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SUBJECT = "01680821967"
"""The person the extracts are about (``police_check_refused`` in the simulator)."""
OTHER = "85073003328"
MODELS = ("593", "595", "596.1", "596.2")
JOB_ID = "job-2025-03-04-criminal-record-000001-abcdef"
"""Longer than the 36 characters a Referentie holds."""


def _inhoud(case: str) -> etree._Element:
    """The golden answer's ``Repliek/Antwoorden/Antwoord/Inhoud``."""
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False)
    answer = etree.fromstring((GOLDEN / f"{case}.xml").read_bytes(), parser)
    inhoud = answer.find("Repliek/Antwoorden/Antwoord/Inhoud")
    assert inhoud is not None
    return inhoud


def _check_golden(name: str, mapped: Any) -> None:
    expected_file = GOLDEN / f"{name}.json"
    actual = json.loads(json.dumps(mapped))
    if os.environ.get("LOKET_UPDATE_GOLDEN"):
        expected_file.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n",
                                 encoding="utf-8")
    assert actual == json.loads(expected_file.read_text(encoding="utf-8"))


def _job(model: str, *, requester: str = SUBJECT, capacity: str = "person",
         authenticated: bool = True, **parameters: Any) -> Job:
    return Job(
        job_id=JOB_ID,
        type="criminal-record.extract",
        tenant="gent",
        requester=Requester(capacity=capacity, identifier=requester,
                            authenticated=authenticated),
        subject=Subject(kind="person", identifier=SUBJECT),
        product_id=1473,
        dossier_id="DOS-0000000001",
        parameters={"model": model, **parameters},
    )


def _rule(model: str) -> ModelRule:
    return load_models()[model]


# ----- the rules -----

def test_every_model_has_its_rule() -> None:
    models = load_models()
    assert sorted(models) == sorted(MODELS)
    assert [m for m, r in models.items() if r.activities] == ["596.1", "596.2"]
    assert [m for m, r in models.items() if r.police_check] == ["596.2"]
    for rule in models.values():
        assert rule.requesters == {"self"}
        assert 0 < rule.first_poll_s <= rule.max_poll_s


# ----- check_request: model x requester -----

def _outcome(job: Job, model: str) -> str:
    try:
        check_request(job, _rule(model))
    except HubError as refusal:
        return refusal.code
    return "ok"


def _activity(model: str) -> dict[str, Any]:
    """A valid activity where the model needs one."""
    activities = sorted(_rule(model).activities)
    return {"activity": activities[0]} if activities else {}


CASES: dict[str, dict[str, Any]] = {
    "self": {},
    "someone else": {"requester": OTHER},
    "not authenticated": {"authenticated": False},
    "a company": {"capacity": "company", "requester": "0566988259"},
}
PER_ACTIVITY = {"593": "ok", "595": "ok", "596.1": "UNKNOWN_ACTIVITY",
                "596.2": "UNKNOWN_ACTIVITY"}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("case", list(CASES))
def test_who_may_ask(model: str, case: str) -> None:
    job = _job(model, **CASES[case], **_activity(model))
    assert _outcome(job, model) == ("ok" if case == "self" else "NOT_ENTITLED")


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("activity", [None, "ONBEKEND", "KINDEROPVANG"])
def test_missing_or_unknown_activity(model: str, activity: str | None) -> None:
    parameters: dict[str, Any] = {} if activity is None else {"activity": activity}
    expected = PER_ACTIVITY[model]
    if activity is not None and activity in _rule(model).activities:
        expected = "ok"  # KINDEROPVANG is a 596.2 activity, unknown to 596.1
    assert _outcome(_job(model, **parameters), model) == expected


def test_refusals_carry_their_rule_and_activity() -> None:
    with pytest.raises(NotEntitled) as refused:
        check_request(_job("595", requester=OTHER), _rule("595"))
    assert refused.value.details == {"rule": "models.595.requesters"}
    with pytest.raises(UnknownActivity) as unknown:
        check_request(_job("596.1", activity="KINDEROPVANG"), _rule("596.1"))
    assert unknown.value.details == {"activity": "KINDEROPVANG"}
    # Who asks is checked first.
    with pytest.raises(NotEntitled):
        check_request(_job("596.2", requester=OTHER), _rule("596.2"))


# ----- the request (adapters.criminal_record.client) -----

def test_the_request_in_magda_s_shape() -> None:
    """MAGDA's Criteria: INSZ, INSZOpUittreksel (0/1), Taal, TypeUittreksel, Opmerking?,
    Referentie? (at most 200); a 596.x activity is part of the type code; the Aanvrager of the
    Gemeente is an INSZ. (Was a golden file of our own earlier shape, with an Aanvraag wrapper,
    an Activiteit element and Aanvrager/INSZ, none of which MAGDA's XSD has.)"""
    parameters: dict[str, dict[str, Any]] = {
        "593": {"language": "fr"},
        "595": {"remark": "Aanvraag via het e-loket"},
        "596.1": {"activity": "TAXI"},
        "596.2": {"activity": "JEUGDWERK", "language": "nl"},
    }
    mapped = {
        model: request_inhoud(_job(model, **parameters[model]), _rule(model), nis_code="44021")
        for model in MODELS
    }
    for inhoud in mapped.values():
        assert inhoud["Gemeente"] == {"NISCode": "44021", "Aanvrager": SUBJECT}
        assert inhoud["Criteria"]["INSZ"] == SUBJECT
        assert inhoud["Criteria"]["INSZOpUittreksel"] == "1"
        assert inhoud["Criteria"]["Referentie"] == JOB_ID
    assert {m: i["Criteria"]["TypeUittreksel"] for m, i in mapped.items()} == {
        "593": "593", "595": "595", "596.1": "596.1-TAXI", "596.2": "596.2-JEUGDWERK",
    }
    assert {m: i["Criteria"]["Taal"] for m, i in mapped.items()} == {
        "593": "fr", "595": "nl", "596.1": "nl", "596.2": "nl",
    }
    assert mapped["595"]["Criteria"]["Opmerking"] == "Aanvraag via het e-loket"
    assert all("Opmerking" not in mapped[m]["Criteria"] for m in ("593", "596.1", "596.2"))


# ----- the answers -----

def test_golden_status_answer() -> None:
    inhoud = _inhoud("status-several")
    numbers = [e.text or "" for e in inhoud.iter("Identificatienummer")]
    mapped = {"statuses": {number: status_of(inhoud, number) for number in numbers}}
    _check_golden("status-several", mapped)
    assert {READY, REFUSED, "IN_BEHANDELING"} == set(mapped["statuses"].values())
    with pytest.raises(MappingError):
        status_of(_inhoud("status-none"), numbers[0])


def test_status_of_an_extract_the_answer_does_not_mention() -> None:
    with pytest.raises(MappingError, match="99999999-9"):
        status_of(_inhoud("status-several"), "99999999-9")
    with pytest.raises(MappingError):
        status_of(None, "24000001-4")
    with pytest.raises(MappingError):
        status_of(etree.fromstring(b"<Inhoud/>"), "24000001-4")


def test_status_without_a_code_is_a_mapping_error() -> None:
    inhoud = _inhoud("status-several")
    status = inhoud.find(
        "StatusUittrekselStrafregister/InformatieUittreksels/InformatieUittreksel/Status")
    assert status is not None
    status.getparent().remove(status)
    with pytest.raises(MappingError, match="Status"):
        status_of(inhoud, "24000001-4")


def test_golden_request_answer() -> None:
    inhoud = _inhoud("aanvraag")
    extract = extract_from_inhoud(inhoud)
    mapped = {"insz": extract.insz, "number": extract.number, "status": extract.status,
              "file_name": extract.file_name, "document": extract.document is not None}
    _check_golden("aanvraag", mapped)
    # A request answer is no status answer.
    with pytest.raises(MappingError):
        status_of(inhoud, str(mapped["number"]))


def test_golden_refused_fetch() -> None:
    extract = extract_from_inhoud(_inhoud("fetch-refused"))
    mapped = {"insz": extract.insz, "number": extract.number, "status": extract.status,
              "file_name": extract.file_name, "document": extract.document is not None}
    _check_golden("fetch-refused", mapped)
    assert extract.status == REFUSED and extract.document is None


def test_an_extract_answer_lacking_what_magda_requires() -> None:
    with pytest.raises(MappingError, match="UittrekselStrafregister"):
        extract_from_inhoud(None)
    for tag in ("INSZ", "Status"):
        inhoud = _inhoud("aanvraag")
        gone = inhoud.find(f"UittrekselStrafregister/{tag}")
        assert gone is not None
        gone.getparent().remove(gone)
        with pytest.raises(MappingError, match=tag):
            extract_from_inhoud(inhoud)


# ----- polling -----

@pytest.mark.parametrize("model", MODELS)
def test_polls_double_up_to_the_cap(model: str) -> None:
    rule = _rule(model)
    waits = [next_poll_s(rule, polls) for polls in range(40)]
    assert waits[0] == rule.first_poll_s
    for before, after in itertools.pairwise(waits):
        assert after == min(before * 2, rule.max_poll_s)
    assert waits[-1] == rule.max_poll_s
    assert max(waits) == rule.max_poll_s


def test_poll_waits_of_595() -> None:
    waits = [next_poll_s(_rule("595"), polls) for polls in range(10)]
    assert waits == [10, 20, 40, 80, 160, 320, 640, 1280, 1800, 1800]
    assert all(isinstance(wait, float) for wait in waits)


def test_a_very_late_poll_still_waits_the_cap() -> None:
    assert next_poll_s(_rule("595"), 1100) == 1800


# ----- MTOM/XOP -----

def _mtom() -> tuple[bytes, str, bytes]:
    content_type = (GOLDEN / "fetch-mtom.content-type").read_text(encoding="ascii").strip()
    return (GOLDEN / "fetch-mtom.bin").read_bytes(), content_type, (
        GOLDEN / "fetch-mtom.pdf").read_bytes()


def _uittreksel(root: bytes) -> etree._Element:
    envelope = etree.fromstring(root)
    body = envelope.find(f"{{{SOAP_NS}}}Body")
    assert body is not None
    uittreksel = body[0].find("Repliek/Antwoorden/Antwoord/Inhoud/UittrekselStrafregister")
    assert uittreksel is not None
    return uittreksel


def test_the_pdf_of_a_captured_mtom_reply_is_exact() -> None:
    content, content_type, pdf = _mtom()
    assert is_multipart(content_type)
    root, attachments = unpack(content, content_type)
    assert list(attachments) == ["uittreksel-24000001-4@loket-sim"]
    uittreksel = _uittreksel(root)
    extract = extract_from_inhoud(uittreksel.getparent())
    assert (extract.number, extract.status) == ("24000001-4", READY)
    assert extract.file_name == "uittreksel-strafregister-24000001-4.pdf"
    document = extract.document
    assert document is not None and document.find(f"{{{XOP_NS}}}Include") is not None
    delivered = document_bytes(document, attachments)
    assert delivered == pdf
    # The part ends "%%EOF\n" + CRLF + boundary: the newline is the PDF's, the CRLF is not.
    assert delivered.startswith(b"%PDF-") and delivered.endswith(b"%%EOF\n")
    assert len(delivered) == len(pdf) and delivered in content


def test_the_root_part_is_found_without_a_start_parameter() -> None:
    content, content_type, pdf = _mtom()
    without_start = "; ".join(p for p in content_type.split("; ") if not p.startswith("start="))
    root, attachments = unpack(content, without_start)
    assert document_bytes(_uittreksel(root).find("Bestand"), attachments) == pdf


def _inline(text: str) -> etree._Element:
    """The reply's Bestand with ``text`` instead of its xop:Include (not MAGDA's shape: how
    ``document_bytes`` reads an inline document, as DABS sends one)."""
    content, content_type, _ = _mtom()
    root, _ = unpack(content, content_type)
    document = _uittreksel(root).find("Bestand")
    assert document is not None
    include = document.find(f"{{{XOP_NS}}}Include")
    assert include is not None
    document.remove(include)
    document.text = text
    return document


def test_the_same_document_inline_as_base64() -> None:
    pdf = _mtom()[2]
    encoded = base64.b64encode(pdf).decode("ascii")
    assert document_bytes(_inline(encoded), {}) == pdf
    # Whitespace around the value (pretty-printed XML) is not part of it.
    assert document_bytes(_inline(f"\n      {encoded}\n    "), {}) == pdf


def test_inline_base64_wrapped_in_lines() -> None:
    pdf = _mtom()[2]
    encoded = base64.b64encode(pdf).decode("ascii")
    wrapped = "\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76))
    assert document_bytes(_inline(wrapped), {}) == pdf


def test_document_errors() -> None:
    content, content_type, _ = _mtom()
    root, _ = unpack(content, content_type)
    document = _uittreksel(root).find("Bestand")
    with pytest.raises(MappingError, match="missing attachment"):
        document_bytes(document, {})
    with pytest.raises(MappingError, match="no Document"):
        document_bytes(None, {})
    with pytest.raises(MappingError, match="base64"):
        document_bytes(etree.fromstring(b"<Document>%PDF-1.3 not base64</Document>"), {})


def test_unreadable_multipart_answers() -> None:
    content, content_type, _ = _mtom()
    with pytest.raises(BackendError) as raised:
        unpack(content, "text/xml; charset=utf-8")
    assert raised.value.code == "BACKEND_ANSWER_UNREADABLE"
    start = content_type.replace("root.message@loket-sim", "elsewhere@loket-sim")
    with pytest.raises(BackendError, match="root part"):
        unpack(content, start)
