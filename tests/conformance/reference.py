"""MAGDA's own published material (``../shared/magda-reference``), read where it lies.

The folder is never copied into the project. A test that needs it calls :func:`reference_dir`,
which skips with the reason when the folder is absent (a plain clone outside CI) and fails
under CI (``CI`` set), where the folder must be present and the conformance suite must run.

``LOKET_MAGDA_REFERENCE`` points elsewhere when the folder lies somewhere else.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from hub.config import REPO_ROOT

__all__ = [
    "SERVICES",
    "OfficialAnswer",
    "ReferenceService",
    "official_answers",
    "reference_dir",
    "schema",
    "schema_errors",
]

_DEFAULT = REPO_ROOT.parent / "shared" / "magda-reference"


@dataclass(frozen=True)
class ReferenceService:
    """Where MAGDA publishes one service's schemas: ``xsd/<domain>.<Name>Dienst-<vv.vv>``."""

    domain: str
    name: str
    version: str
    """``vv.vv``, as in the folder and the URL."""

    @property
    def folder(self) -> str:
        return f"{self.domain}.{self.name}Dienst-{self.version}"

    @property
    def full_version(self) -> str:
        """``vv.vv.0000``, as in ``Context/Versie`` and the answers' folders."""
        return f"{self.version}.0000"


SERVICES: dict[str, ReferenceService] = {
    s.name: s
    for s in (
        ReferenceService("Persoon", "GeefPersoon", "02.02"),
        ReferenceService("Persoon", "GeefGezinssamenstelling", "02.02"),
        ReferenceService("Persoon", "GeefHistoriekPersoon", "02.02"),
        ReferenceService("Repertorium", "RegistreerInschrijving", "02.01"),
        ReferenceService("Persoon", "ZoekAktenBurgerlijkeStand", "02.00"),
        ReferenceService("Persoon", "GeefAkteBurgerlijkeStand", "02.00"),
        ReferenceService("Justitie", "GeefUittrekselStrafregister", "02.00"),
        ReferenceService("Justitie", "GeefStatusUittrekselStrafregister", "02.00"),
        ReferenceService("Justitie", "GeefTypesUittrekselStrafregister", "02.00"),
    )
}


def _located() -> Path:
    return Path(os.environ.get("LOKET_MAGDA_REFERENCE", str(_DEFAULT)))


def reference_dir() -> Path:
    """The reference folder; skips (fails under CI) when it is not there."""
    folder = _located()
    if (folder / "xsd").is_dir():
        return folder
    reason = (
        f"MAGDA's reference material is not at {folder} (expected ../shared/magda-reference "
        "beside the project, or LOKET_MAGDA_REFERENCE): the conformance checks cannot run"
    )
    if os.environ.get("CI"):
        pytest.fail(reason + "; CI must run them", pytrace=False)
    pytest.skip(reason)


@functools.cache
def schema(service: str, kind: str) -> etree.XMLSchema:
    """MAGDA's SOAP schema of ``service``: ``kind`` is ``request`` or ``response``.

    Loaded from its own folder, since MAGDA's schemas import each other by relative path.
    """
    spec = SERVICES[service]
    suffix = "Response" if kind == "response" else ""
    if kind not in {"request", "response"}:
        raise ValueError(f"kind must be request or response, not {kind!r}")
    path = reference_dir() / "xsd" / spec.folder / "WebService" / f"{spec.name}{suffix}.xsd"
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.parse(str(path), parser))


def schema_errors(element: etree._Element, service: str, kind: str) -> list[str]:
    """Every violation of MAGDA's schema by ``element`` (the service's root element)."""
    checker = schema(service, kind)
    if checker.validate(element):
        return []
    return [f"line {e.line}: {e.message}" for e in checker.error_log]


@dataclass(frozen=True)
class OfficialAnswer:
    """One official mock answer: ``answers/<domain>/<Naam>/<Versie>/<key>.xml``.

    ``key`` is the persona's INSZ, or ``notfound`` / ``success``; for RegistreerInschrijving
    02.01 the subject type comes first (``PERS/<INSZ>``).
    """

    service: str
    version: str
    key: str
    path: Path

    def root(self) -> etree._Element:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        return etree.parse(str(self.path), parser).getroot()


def official_answers(service: str, version: str | None = None) -> Iterator[OfficialAnswer]:
    """Every official answer of ``service`` (at ``version``, ``vv.vv.0000``, by default ours)."""
    spec = SERVICES[service]
    version = version or spec.full_version
    folder = reference_dir() / "answers" / spec.domain / spec.name / version
    for path in sorted(folder.rglob("*.xml")):
        key = path.relative_to(folder).with_suffix("").as_posix()
        yield OfficialAnswer(service, version, key, path)
