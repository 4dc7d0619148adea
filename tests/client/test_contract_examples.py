"""The job and result examples of docs/contract.md are what the schemas accept."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from hub.contract_decoding import decode_job, job_schema, result_schema
from loket_hub.contract import Outcome, Result

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "contract.md"


def _example(after_heading: str) -> dict[str, Any]:
    """The first JSON block after a heading of docs/contract.md."""
    text = CONTRACT.read_text(encoding="utf-8")
    section = text[text.index(after_heading):]
    match = re.search(r"```json\n(.*?)\n```", section, re.DOTALL)
    assert match, f"no JSON example after {after_heading!r}"
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def _violations(schema: dict[str, Any], data: dict[str, Any]) -> list[str]:
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(data)]


def test_the_job_example_is_a_valid_job() -> None:
    job = _example("### Job body")
    assert _violations(job_schema(), job) == []
    decoded = decode_job(json.dumps(job).encode(), job["job_id"])
    assert decoded.type == "population.attest"


def test_the_result_example_is_a_valid_result_the_client_reads() -> None:
    result = _example("## The result")
    assert _violations(result_schema(), result) == []
    parsed = Result.from_json(json.dumps(result))  # also checks each document's sha256
    assert parsed.outcome is Outcome.DELIVERED
    assert parsed.documents[0].sha256 == result["documents"][0]["sha256"]
    # The two examples are of the same job.
    assert parsed.job_id == _example("### Job body")["job_id"]
