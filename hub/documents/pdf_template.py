"""The PDF certificate template (``mappings/templates/certificate.toml``): wording and formats.

Pure data and text formatting; :mod:`hub.documents.pdf_render` does the layout.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import reportlab

from hub.config import REPO_ROOT
from hub.errors import ConfigurationError

__all__ = ["DEFAULT_LOGO_DIR", "DEFAULT_TEMPLATE", "CertificateTemplate", "load_template"]

DEFAULT_TEMPLATE = REPO_ROOT / "mappings/templates/certificate.toml"
DEFAULT_LOGO_DIR = REPO_ROOT / "mappings/tenants/logos"
# The e-counter is Flemish: a language the template does not know falls back to Dutch.
_FALLBACK_LANGUAGE = "nl"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def _first_existing(candidates: list[str]) -> Path:
    for candidate in candidates:
        if candidate.startswith("reportlab:"):
            path = Path(reportlab.__file__).parent / "fonts" / candidate.removeprefix("reportlab:")
        else:
            path = Path(candidate)
        if path.is_file():
            return path
    raise ConfigurationError(f"none of the template fonts exists: {candidates}")


@dataclass(frozen=True)
class CertificateTemplate:
    """Parsed template: page settings, per-language text, fact labels and value words."""

    data: Mapping[str, Any]

    @property
    def page(self) -> Mapping[str, Any]:
        page: Mapping[str, Any] = self.data["page"]
        return page

    def font(self, weight: str) -> Path:
        """The TrueType file for ``regular`` or ``bold``."""
        return _first_existing(list(self.data["fonts"][weight]))

    def accent(self, tenant_slug: str) -> str:
        tenant = self.data.get("tenants", {}).get(tenant_slug, {})
        return str(tenant.get("accent", self.page["accent"]))

    def language(self, language: str) -> str:
        return language if language in self.data["languages"] else _FALLBACK_LANGUAGE

    def text(self, language: str, name: str, **values: str) -> str:
        """A common sentence or caption (``reference``, ``availability`` …) in ``language``."""
        template = str(self.data["languages"][self.language(language)][name])
        return template.format(**values) if values else template

    def label(self, language: str, key: str, parent: str | None = None) -> str:
        """The caption of a fact key, preferring a ``Parent.Key`` label."""
        labels = self.data.get("labels", {}).get(self.language(language), {})
        if parent and f"{parent}.{key}" in labels:
            return str(labels[f"{parent}.{key}"])
        return str(labels.get(key) or _CAMEL.sub(" ", key).capitalize())

    def hidden(self, key: str) -> bool:
        return key in self.data["facts"]["hidden"]

    def is_address(self, value: Mapping[str, Any]) -> bool:
        keys = self.data["facts"]["address_keys"]
        return "Street" in value and all(k in keys or self.hidden(k) for k in value)

    def fold_address(self, value: Mapping[str, Any]) -> Mapping[str, Any]:
        """A table mixing address fields with others: the address becomes one ``Address``."""
        if "Street" not in value or self.is_address(value):
            return value
        keys = self.data["facts"]["address_keys"]
        address = {k: v for k, v in value.items() if k in keys or self.hidden(k)}
        return {"Address": address, **{k: v for k, v in value.items() if k not in address}}

    def date(self, language: str, value: dt.date) -> str:
        return value.strftime(self.text(language, "date_format"))

    def register_date(self, language: str, text: str) -> str:
        """A register date, which may leave its day or month unknown (``1950-00-00``).

        A full date as ``date_format``; otherwise only the known parts, in the same order and
        with the same separator (``05-1950``, ``1950``): nothing is guessed.
        """
        try:
            return self.date(language, dt.date.fromisoformat(text))
        except ValueError:
            pass
        year, month, _day = text.split("-")
        pattern = self.text(language, "date_format")
        separator = next((c for c in pattern if not c.isalpha() and c != "%"), "-")
        parts = [month] if month != "00" else []
        return separator.join([*parts, year]) if year != "0000" else self.text(language, "none")

    def moment(self, language: str, value: dt.datetime) -> str:
        """Date and time in the template's time zone (UTC where no zone data is installed)."""
        try:
            local = value.astimezone(ZoneInfo(str(self.page["timezone"])))
        except ZoneInfoNotFoundError:
            local = value.astimezone(dt.UTC)
        joiner = self.text(language, "time_joiner")
        return f"{self.date(language, local.date())} {joiner} {local:%H:%M}"

    def address(self, language: str, value: Mapping[str, Any]) -> str:
        street = " ".join(str(value[k]) for k in ("Street", "HouseNumber") if value.get(k))
        if value.get("Box"):
            street += f" {self.text(language, 'box')} {value['Box']}"
        place = " ".join(str(value[k]) for k in ("PostalCode", "Municipality") if value.get(k))
        return ", ".join(part for part in (street, place, value.get("Country")) if part)

    def value(self, language: str, key: str, value: Any) -> str:
        """One fact value as text: coded words, dates, national numbers, addresses."""
        if value is None or value == "":
            return self.text(language, "none")
        if isinstance(value, Mapping):
            if self.is_address(value):
                return self.address(language, value)
            return "; ".join(
                self.value(language, k, v) for k, v in value.items() if not self.hidden(k)
            )
        if isinstance(value, list | tuple):
            return ", ".join(self.value(language, key, item) for item in value)
        text = str(value).lower() if isinstance(value, bool) else str(value)
        words = self.data.get("values", {}).get(self.language(language), {}).get(key, {})
        if text in words:
            return str(words[text])
        if isinstance(value, dt.date):
            return self.date(language, value)
        if _ISO_DATE.match(text):
            return self.register_date(language, text)
        if key in self.data["facts"]["national_number_keys"] and re.fullmatch(r"\d{11}", text):
            return f"{text[:2]}.{text[2:4]}.{text[4:6]}-{text[6:9]}.{text[9:]}"
        return text


@cache
def load_template(path: Path = DEFAULT_TEMPLATE) -> CertificateTemplate:
    """Read (once per process) and check the template file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read the certificate template {path}: {exc}") from exc
    for table in ("page", "fonts", "facts", "languages"):
        if table not in data:
            raise ConfigurationError(f"the certificate template {path} has no [{table}] table")
    if _FALLBACK_LANGUAGE not in data["languages"]:
        raise ConfigurationError(f"the certificate template {path} needs [languages.nl]")
    return CertificateTemplate(data)
