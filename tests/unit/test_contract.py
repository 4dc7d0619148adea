import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from hub.contract import Document, ErrorInfo, Outcome, Result
from hub.contract_decoding import decode_job, result_schema
from hub.errors import InvalidInput


def _job(**overrides: Any) -> dict[str, Any]:
    job: dict[str, Any] = {
        "contract_version": 1,
        "job_id": "job-0000-0001",
        "type": "population.attest",
        "tenant": "gent",
        "requester": {"capacity": "person", "identifier": "85073003328", "authenticated": True},
        "subject": {"kind": "person", "identifier": "85.07.30-033.28"},
        "product_id": 1473,
        "dossier_id": "DOS-1",
        "parameters": {"attest": "household-composition"},
    }
    job.update(overrides)
    return job


def _refusal(body: bytes, message_id: str | None = None) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        decode_job(body, message_id)
    return info.value


def test_valid_job_is_decoded_and_identifiers_normalised() -> None:
    job = decode_job(json.dumps(_job()).encode(), "job-0000-0001")
    assert job.subject.identifier == "85073003328"
    assert job.capability == "population"
    assert job.parameters == {"attest": "household-composition"}


def test_malformed_json() -> None:
    error = _refusal(b'{"contract_version": 1,')
    assert error.code == "MALFORMED_JSON"


def test_not_an_object() -> None:
    assert _refusal(b"[1, 2]").code == "SCHEMA_VIOLATION"


def test_schema_violation_names_the_pointer() -> None:
    error = _refusal(json.dumps(_job(parameters={"attest": "moon-landing"})).encode())
    assert error.code == "SCHEMA_VIOLATION"
    assert error.message.startswith("/parameters/attest:")
    violations = error.details["violations"]
    assert isinstance(violations, list)
    assert violations[0]["pointer"] == "/parameters/attest"


def test_missing_field_and_unknown_field() -> None:
    body = _job()
    del body["tenant"]
    body["surprise"] = True
    error = _refusal(json.dumps(body).encode())
    assert error.code == "SCHEMA_VIOLATION"
    messages = " ".join(v["message"] for v in error.details["violations"])  # type: ignore[union-attr]
    assert "tenant" in messages and "surprise" in messages


def test_bad_insz_is_refused_without_echoing_it() -> None:
    error = _refusal(
        json.dumps(_job(subject={"kind": "person", "identifier": "46061400106"})).encode()
    )
    assert error.code == "INVALID_INSZ"
    assert error.details == {"field": "/subject/identifier"}
    assert "46061400106" not in error.message


def test_message_id_must_match_job_id() -> None:
    assert _refusal(json.dumps(_job()).encode(), "other-job-id").code == "JOB_ID_MISMATCH"


def test_result_round_trip_matches_its_schema() -> None:
    result = Result(
        job_id="job-0000-0001",
        outcome=Outcome.REJECTED,
        error=ErrorInfo("SUBJECT_UNKNOWN", "not known", False, {"magda_code": "30003"}),
        documents=(Document("x-xml", "application/xml", "x.xml", b"<x/>"),),
    )
    data = json.loads(result.to_json())
    Draft202012Validator(result_schema()).validate(data)
    assert Result.from_json(result.to_json()) == result


def test_document_checksum_is_enforced() -> None:
    data = Document("x-xml", "application/xml", "x.xml", b"<x/>").to_dict()
    data["sha256"] = "0" * 64
    with pytest.raises(ValueError, match="sha256"):
        Document.from_dict(data)


@pytest.mark.parametrize(("body", "code"), [
    (b"[" * 10_000 + b"]" * 10_000, "NESTING_TOO_DEEP"),
    (b"[" * 17 + b"]" * 17, "NESTING_TOO_DEEP"),
    (b'{"a": "\\ud800"}', "INVALID_CHARACTERS"),
    (b'{"a": "x\\u0000"}', "INVALID_CHARACTERS"),
    (b'{"\\u001b": 1}', "INVALID_CHARACTERS"),
    (b"1" * 5000, "MALFORMED_JSON"),
    (b"\xff{}", "MALFORMED_JSON"),
    (b" " * (256 * 1024 + 1), "BODY_TOO_LARGE"),
])
def test_decoding_is_bounded(body: bytes, code: str) -> None:
    from hub.contract_decoding import load_bounded

    with pytest.raises(InvalidInput) as refused:
        load_bounded(body)
    assert refused.value.code == code
    assert "\x00" not in refused.value.message and "\x1b" not in str(refused.value.details)


def test_tabs_line_ends_and_any_real_character_are_fine() -> None:
    from hub.contract_decoding import load_bounded

    assert load_bounded('{"a": "t\\tn\\nr\\r é 😀 \\u202e"}'.encode()) == {
        "a": "t\tn\nr\r é 😀 \u202e"}


def test_sixteen_levels_are_allowed() -> None:
    from hub.contract_decoding import load_bounded

    assert load_bounded(b"[" * 16 + b"]" * 16) is not None


def test_values_in_the_sixteenth_level_are_allowed() -> None:
    from hub.contract_decoding import load_bounded

    assert load_bounded(b'[' * 15 + b'{"a": 1}' + b"]" * 15) is not None


def test_preparing_the_job_check_leaves_the_shared_schema_as_it_is() -> None:
    """fastjsonschema rewrites the schema it compiles; it gets a copy, not job_schema(): after
    the check is prepared (here or by any earlier test), the schema is still the file's."""
    import json as _json
    from pathlib import Path

    from hub.contract_decoding import job_schema, prepare_job_checks

    prepare_job_checks()
    on_disk = _json.loads((Path(__file__).resolve().parents[2] / "hub/schemas/job-v1.json")
                          .read_text(encoding="utf-8"))
    assert job_schema() == on_disk
