"""docs/asyncapi.yaml is what scripts/asyncapi.py generates from the schemas, it is a valid
AsyncAPI 3.0 document, and its payload schemas say what the hub's own schemas say."""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator, Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from hub.contract import Job as HubJob
from hub.contract import Outcome, Requester, Subject
from hub.messages import StatusEvent
from loket_hub.contract import Document, ErrorInfo, Result
from tests.client.test_jobs import EXAMPLES

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "asyncapi.yaml"
ASYNCAPI_SCHEMA = ROOT / "tests" / "schemas" / "asyncapi-3.0.0.json"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("asyncapi_generator",
                                                  ROOT / "scripts" / "asyncapi.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _document() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    return data


def _errors(document: dict[str, Any]) -> list[str]:
    schema = json.loads(ASYNCAPI_SCHEMA.read_text(encoding="utf-8"))
    return [f"{list(e.absolute_path)}: {e.message}"
            for e in Draft7Validator(schema).iter_errors(document)]


def test_the_checked_in_document_is_the_generated_one() -> None:
    assert DOCUMENT.read_text(encoding="utf-8") == _generator().render(), (
        "docs/asyncapi.yaml is stale: run .venv/bin/python scripts/asyncapi.py")
    check = subprocess.run([sys.executable, "scripts/asyncapi.py", "--check"], cwd=ROOT,
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr


def test_it_is_a_valid_asyncapi_3_document() -> None:
    document = _document()
    assert document["asyncapi"] == "3.0.0"
    assert _errors(document) == []
    assert set(document["channels"]) == {"jobs", "results", "status"}


@pytest.mark.parametrize("breakage", ["no-info", "bad-action", "channel-as-list"])
def test_the_validation_sees_a_broken_document(breakage: str) -> None:
    document = copy.deepcopy(_document())
    if breakage == "no-info":
        del document["info"]
    elif breakage == "bad-action":
        document["operations"]["sendJob"]["action"] = "publish"  # AsyncAPI 2's word
    else:
        document["channels"]["jobs"] = ["loket.jobs"]
    assert _errors(document)


def test_every_reference_resolves() -> None:
    document = _document()
    references: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                references.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document)
    assert references
    for reference in references:
        assert reference.startswith("#/"), reference
        node: Any = document
        for part in reference[2:].split("/"):
            node = node[part]


def _payload_validator(component: str) -> Draft202012Validator:
    uri = "urn:loket-hub:asyncapi"
    registry: Registry[Any] = Registry().with_resource(
        uri, Resource.from_contents(_document(), default_specification=DRAFT202012))
    return Draft202012Validator({"$ref": f"{uri}#/components/schemas/{component}"},
                                registry=registry)


def test_the_job_payload_accepts_and_refuses_what_the_job_schema_does() -> None:
    validator = _payload_validator("Job")
    for job in EXAMPLES:
        assert list(validator.iter_errors(job.to_dict())) == []
    wrong = EXAMPLES[0].to_dict() | {"parameters": {"attest": "moon-landing"}}
    assert list(validator.iter_errors(wrong))
    assert list(validator.iter_errors({**EXAMPLES[0].to_dict(), "surprise": 1}))


def _job() -> HubJob:
    return HubJob("job-0000-0001", "population.attest", "gent",
                  Requester("person", "85073003328", True), Subject("person", "85073003328"),
                  1473, "DOS-1", {"attest": "household-composition"})


def test_the_result_and_status_payloads_accept_what_the_hub_sends() -> None:
    job = _job()
    delivered = Result.for_job(job, Outcome.DELIVERED, attempts=1, documents=(
        Document("household-composition-xml", "application/xml", "a.xml", b"<a/>"),))
    refused = Result.for_job(job, Outcome.REJECTED, attempts=1,
                             error=ErrorInfo("SUBJECT_UNKNOWN", "unknown", False, {"x": 1}))
    results = _payload_validator("Result")
    for result in (delivered, refused):
        assert list(results.iter_errors(json.loads(result.to_json()))) == []
    assert list(results.iter_errors({**delivered.to_dict(), "outcome": "lost"}))
    events = _payload_validator("StatusEvent")
    for event in (StatusEvent.of(job, None), StatusEvent.of(job, refused),
                  StatusEvent.of(job, None, status="backoffice-received",
                                 applicant_message="ok", notify=True)):
        assert list(events.iter_errors(json.loads(event.encode()))) == []
    assert list(events.iter_errors({**StatusEvent.of(job, None).to_dict(), "approved": "yes"}))
