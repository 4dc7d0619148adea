"""Field checks shared by the dossier and notification endpoints.

A :class:`Checker` reads a JSON document and collects every problem as ``{field, message}``
instead of stopping at the first: DOSIS answers a 400 listing all of them, and so do we.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hub.identifiers import (
    IdentifierError,
    is_valid_insz,
    normalize_association_number,
    normalize_kbo,
)

__all__ = ["Checker", "FieldError", "identifier_problem"]

FieldError = dict[str, str]
"""One problem as the DOSIS error body lists it: ``{code, message, description, field}`` [F47]."""

# ASCII only: \d would also take Arabic-Indic and other Unicode digits.
_INSZ = re.compile(r"[0-9]{11}")
_KBO = re.compile(r"[0-9]{10}")
_ASSOCIATION = re.compile(r"V[0-9]{7}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# java.util.UUID.toString(): canonical 8-4-4-4-12, lower case [F19].
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# java.time.LocalDateTime as Jackson writes it: no offset, seconds always, 0-9 fraction digits
# [F24].
_LOCAL_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
)


def identifier_problem(value: str) -> str | None:
    """Why ``value`` is not an INSZ, KBO number or association number; None when it is one.

    The digits must come bare (no dots or spaces): DOSIS matches agents on the exact string.
    """
    if _INSZ.fullmatch(value):
        return None if is_valid_insz(value) else "INSZ: controlegetal klopt niet (mod 97)"
    try:
        if _KBO.fullmatch(value):
            normalize_kbo(value)
            return None
        if _ASSOCIATION.fullmatch(value):
            normalize_association_number(value)
            return None
    except IdentifierError as exc:
        return exc.message
    return "geen INSZ (11 cijfers), KBO-nummer (10 cijfers) of verenigingsnummer (V + 7 cijfers)"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class Checker:
    """Collects field errors while a JSON document is read; see :attr:`errors`.

    Each reader returns the value when it is acceptable and None otherwise (an absent optional
    field included), so callers can go on reading and report every problem at once.
    """

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, field: str, message: str, code: str = "ONGELDIGE_WAARDE") -> None:
        """Record one problem."""
        self.errors.append({"code": code, "message": message,
                            "description": f"{field or '(body)'}: {message}",
                            "field": field or "(body)"})

    def object(
        self, value: Any, path: str, fields: Mapping[str, bool]
    ) -> dict[str, Any] | None:
        """``value`` as an object holding only ``fields`` (name → required), or None.

        Unknown fields are refused: a misspelt optional field would otherwise vanish silently.
        """
        if not isinstance(value, dict):
            self.fail(path, "moet een object zijn")
            return None
        for key in value:
            if key not in fields:
                self.fail(_join(path, key), "onbekend veld", "ONBEKEND_VELD")
        for key, required in fields.items():
            if required and value.get(key) is None:
                self.fail(_join(path, key), "verplicht veld ontbreekt", "VERPLICHT_VELD")
        return value

    def child(
        self, parent: dict[str, Any], key: str, path: str, fields: Mapping[str, bool]
    ) -> dict[str, Any] | None:
        """The object at ``parent[key]``; None when absent (already reported if required)."""
        if parent.get(key) is None:
            return None
        return self.object(parent[key], _join(path, key), fields)

    def text(self, parent: dict[str, Any], key: str, path: str) -> str | None:
        """The non-blank string at ``parent[key]``."""
        value = parent.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(_join(path, key), "moet een niet-lege tekst zijn")
            return None
        return value

    def string_or_null(self, parent: dict[str, Any], key: str, path: str) -> str | None:
        """A string (possibly empty) or JSON null at ``parent[key]``: Jackson writes absent
        values as null [F16]."""
        value = parent.get(key)
        if value is not None and not isinstance(value, str):
            self.fail(_join(path, key), "moet een tekst of null zijn", "ONGELDIG_TYPE")
            return None
        return value

    def local_date_time(self, parent: dict[str, Any], key: str, path: str) -> datetime | None:
        """An ISO local date-time **without** offset at ``parent[key]`` [F24]."""
        raw = self.text(parent, key, path)
        if raw is None:
            return None
        if not _LOCAL_DATE_TIME.fullmatch(raw):
            self.fail(_join(path, key), "moet een lokale datum-tijd zonder tijdzone zijn "
                      "(jjjj-mm-ddTuu:mm:ss[.fffffffff])", "ONGELDIG_FORMAAT")
            return None
        try:
            return datetime.fromisoformat(raw[:26])
        except ValueError:
            self.fail(_join(path, key), "bestaat niet als datum-tijd", "ONGELDIG_FORMAAT")
            return None

    def canonical_uuid(self, parent: dict[str, Any], key: str, path: str) -> str | None:
        """A UUID in canonical lower-case form at ``parent[key]`` [F19]."""
        raw = self.text(parent, key, path)
        if raw is None:
            return None
        if not _CANONICAL_UUID.fullmatch(raw):
            self.fail(_join(path, key), "moet een UUID zijn (8-4-4-4-12, kleine letters)",
                      "ONGELDIG_FORMAAT")
            return None
        return raw

    def boolean(self, parent: dict[str, Any], key: str, path: str) -> bool | None:
        """The boolean at ``parent[key]``."""
        value = parent.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.fail(_join(path, key), "moet true of false zijn")
            return None
        return value

    def positive_int(self, parent: dict[str, Any], key: str, path: str) -> int | None:
        """The integer ≥ 1 at ``parent[key]`` (a JSON boolean is not one)."""
        value = parent.get(key)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            self.fail(_join(path, key), "moet een geheel getal ≥ 1 zijn")
            return None
        return value

    def items(self, parent: dict[str, Any], key: str, path: str, minimum: int) -> list[Any]:
        """The list at ``parent[key]`` with at least ``minimum`` items; [] when unusable."""
        value = parent.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(_join(path, key), "moet een lijst zijn")
            return []
        if len(value) < minimum:
            self.fail(_join(path, key), f"moet minstens {minimum} element(en) bevatten")
        return value

    def timestamp(self, parent: dict[str, Any], key: str, path: str) -> datetime | None:
        """The ISO-8601 date-time with a UTC offset at ``parent[key]``."""
        raw = self.text(parent, key, path)
        if raw is None:
            return None
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            value = None
        # A date alone parses too; it has no time and no offset, so the offset check refuses it.
        if value is None or value.tzinfo is None or "T" not in raw.upper():
            self.fail(_join(path, key), "moet een ISO-8601 datum-tijd met tijdzone zijn")
            return None
        return value

    def uuid(self, parent: dict[str, Any], key: str, path: str) -> str | None:
        """The UUID string (8-4-4-4-12 hex) at ``parent[key]``, as sent."""
        raw = self.text(parent, key, path)
        if raw is None:
            return None
        if not _UUID.fullmatch(raw):
            self.fail(_join(path, key), "moet een UUID zijn")
            return None
        return raw

    def identifier(self, parent: dict[str, Any], key: str, path: str) -> str | None:
        """The INSZ, KBO number or association number at ``parent[key]``."""
        raw = self.text(parent, key, path)
        if raw is None:
            return None
        problem = identifier_problem(raw)
        if problem is not None:
            self.fail(_join(path, key), problem)
            return None
        return raw

    def phase(self, fase: str | None, code: str | None, phases: Mapping[str, tuple[str, ...]],
              fase_field: str, code_field: str, *, enforce_pairing: bool = False) -> None:
        """Refuse an unknown VlaamsFase or VlaamsCode; with ``enforce_pairing`` also a code
        outside its phase's row (the evidence does not pair them, dosis.md F42)."""
        if fase is None or code is None:
            return
        if fase not in phases:
            self.fail(fase_field, f"onbekende VlaamsFase {fase!r}; bekend: {', '.join(phases)}")
        elif code not in {c for row in phases.values() for c in row}:
            self.fail(code_field, f"onbekende VlaamsCode {code!r}")
        elif enforce_pairing and code not in phases[fase]:
            self.fail(code_field, f"VlaamsCode {code!r} hoort niet bij VlaamsFase {fase!r}; "
                                  f"toegelaten: {', '.join(phases[fase])}")
