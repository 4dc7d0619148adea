"""The certificate catalogue: data from ``mappings/population-certificates.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from hub.errors import ConfigurationError

__all__ = ["CATALOGUE_FILE", "CertificateSpec", "load_catalogue"]

CATALOGUE_FILE = Path(__file__).resolve().parents[2] / "mappings/population-certificates.toml"
SOURCES = frozenset({"household", "person", "history"})


@dataclass(frozen=True)
class CertificateSpec:
    id: str
    source: str
    allowed_for_deceased: bool
    titles: dict[str, str]

    def title(self, language: str) -> str:
        return self.titles.get(language) or self.titles["nl"]


@cache
def load_catalogue(path: Path = CATALOGUE_FILE) -> dict[str, CertificateSpec]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    catalogue: dict[str, CertificateSpec] = {}
    for attest, entry in data.items():
        if entry.get("source") not in SOURCES or "nl" not in entry.get("title", {}):
            raise ConfigurationError(f"{path.name}: [{attest}] needs a source and a Dutch title")
        catalogue[attest] = CertificateSpec(
            id=attest,
            source=entry["source"],
            allowed_for_deceased=bool(entry.get("allowed_for_deceased", False)),
            titles=dict(entry["title"]),
        )
    return catalogue
