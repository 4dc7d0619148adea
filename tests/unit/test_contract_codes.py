"""The contract's error table says what the hub does: every code it lists is raised by the code
(or named in a mapping table) and provoked by a test; the codes no valid job can meet are not
listed as answers to a front office.

``UNSUPPORTED_JOB_TYPE`` and ``UNSUPPORTED_ATTEST`` are refusals the schema makes first
(``SCHEMA_VIOLATION``): they would mean the hub's own tables disagree with its schema, a defect.
The tests below keep the tables and the schema in step, so that neither can reach a front
office.
"""

from __future__ import annotations

import re
from pathlib import Path

from adapters.population.catalogue import load_catalogue
from hub.app import build_registry
from hub.config import load_settings, load_tenants
from hub.contract_decoding import job_schema

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "docs/contract.md"
DEFECTS = {"UNSUPPORTED_JOB_TYPE", "UNSUPPORTED_ATTEST"}


def _table_codes() -> list[str]:
    text = CONTRACT.read_text(encoding="utf-8")
    table = text[text.index("### Error codes"):text.index("The full map from MAGDA codes")]
    codes: list[str] = []
    for line in table.splitlines():
        if line.startswith("| `"):
            codes += re.findall(r"`([A-Z][A-Z0-9_]*)`", line.split("|")[1])
    return codes


def _text_of(*folders: str, suffixes: tuple[str, ...] = (".py", ".toml")) -> str:
    return "\n".join(path.read_text(encoding="utf-8") for folder in folders
                     for path in sorted((ROOT / folder).rglob("*")) if path.suffix in suffixes)


def test_every_listed_code_is_raised_and_provoked_by_a_test() -> None:
    codes = _table_codes()
    assert len(codes) > 40
    source = _text_of("hub", "adapters", "mappings")
    tests = _text_of("tests", suffixes=(".py",)).replace(
        (ROOT / "tests/unit/test_contract_codes.py").read_text(encoding="utf-8"), "")
    unraised = [c for c in codes if f'"{c}"' not in source and f"= {c}" not in source]
    unprovoked = [c for c in codes if f'"{c}"' not in tests and c not in DEFECTS]
    assert not unraised, f"listed but raised nowhere: {unraised}"
    assert not unprovoked, f"listed but no test asserts them: {unprovoked}"


def test_the_refusals_the_schema_makes_first_are_listed_as_defects_only() -> None:
    text = CONTRACT.read_text(encoding="utf-8")
    for line in text.splitlines():
        if any(f"`{code}`" in line for code in DEFECTS) and line.startswith("| `"):
            assert "failed + dead letter" in line, line


def test_every_job_type_of_the_schema_is_served() -> None:
    types = set(job_schema()["properties"]["type"]["enum"])
    settings = load_settings(environ={})
    registry = build_registry(settings, load_tenants(settings.tenants_dir))
    assert types == set(registry.job_types)


def test_every_attest_of_the_schema_is_in_the_catalogue() -> None:
    attests = set(job_schema()["$defs"]["population_attest_parameters"]["properties"]["attest"]
                  ["enum"])
    assert attests == set(load_catalogue())
