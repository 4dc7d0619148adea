"""Prefill (``prefill.form``): which values a form's question ids receive for the logged-in user.

Pure. The question-id table is data (``mappings/prefill.toml``); login claims and, with a
register link, the person's population-register data come in; values, read-only flags, unknown
and unavailable question ids go out.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from adapters.population.mapping.person import Person
from hub.errors import ConfigurationError, InvalidInput

__all__ = [
    "CAPACITIES",
    "LOGIN_KEYS",
    "PREFILL_FILE",
    "REGISTER_KEYS",
    "PrefillAnswer",
    "PrefillField",
    "PrefillRequest",
    "PrefillTable",
    "load_prefill_table",
    "prefill_form",
    "register_values",
]

PREFILL_FILE = Path(__file__).resolve().parents[2] / "mappings/prefill.toml"
CAPACITIES = ("person", "company", "association")
LOGIN_KEYS = frozenset({
    "last_name", "first_name", "identity_number", "email", "phone_number", "mobile_number",
    "legal_name", "kbo_number", "organization_number",
})
REGISTER_KEYS = frozenset({
    "street", "house_number", "box", "postal_code", "municipality",
    "gender", "birth_date", "nationality",
})
_SOURCES = {"login": LOGIN_KEYS, "register": REGISTER_KEYS}


@dataclass(frozen=True)
class PrefillField:
    """One question id: the key that fills it, for which capacity, from where, locked or not."""

    question_id: str
    key: str
    capacity: str
    source: str
    read_only: bool


@dataclass(frozen=True)
class PrefillTable:
    """Every question id the hub can prefill, prefixed person ids included."""

    fields: Mapping[str, PrefillField]

    def needs_register(self, capacity: str, question_ids: Sequence[str]) -> bool:
        """Whether any of ``question_ids`` is a register field of ``capacity``.

        A register consultation is only justified when the form asks for such a field.
        """
        return any(
            (f := self.fields.get(qid)) is not None
            and f.capacity == capacity and f.source == "register"
            for qid in question_ids
        )


@dataclass(frozen=True)
class PrefillRequest:
    """A form's question ids and what is known of the logged-in user.

    ``claims``: login claims (``last_name``, ``first_name``, ``identity_number``, ``email``,
    ``phone_number``, ``mobile_number``, ``legal_name``, ``kbo_number``,
    ``organization_number``). ``register``: the person's register values
    (:func:`register_values`), or None when the tenant has no register link.
    """

    capacity: str
    claims: Mapping[str, str]
    register: Mapping[str, str] | None
    question_ids: Sequence[str]


@dataclass(frozen=True)
class PrefillAnswer:
    """Values per question id; ``read_only`` lists the filled ids the front office locks.

    ``unknown``: not in the table, or of another capacity. ``unavailable``: known, but no value
    (a claim missing or blank, a register field without a register link or address).
    """

    values: dict[str, str] = field(default_factory=dict)
    read_only: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The answer as JSON for the reply to the front office."""
        return {
            "values": dict(self.values),
            "read_only": list(self.read_only),
            "unknown": list(self.unknown),
            "unavailable": list(self.unavailable),
        }


def _field(path: Path, question_id: str, entry: Any) -> PrefillField:
    if not isinstance(entry, dict):
        raise ConfigurationError(f"{path.name}: {question_id} must be a table")
    unexpected = set(entry) - {"key", "capacity", "source", "read_only"}
    if unexpected:
        raise ConfigurationError(
            f"{path.name}: {question_id} has unknown settings {', '.join(sorted(unexpected))}"
        )
    key, capacity = entry.get("key"), entry.get("capacity")
    source, read_only = entry.get("source", "login"), entry.get("read_only")
    if source not in _SOURCES:
        raise ConfigurationError(f"{path.name}: {question_id}: source must be login or register")
    if key not in _SOURCES[source]:
        raise ConfigurationError(f"{path.name}: {question_id}: {key!r} is no {source} key")
    if capacity not in CAPACITIES:
        raise ConfigurationError(f"{path.name}: {question_id}: unknown capacity {capacity!r}")
    if not isinstance(read_only, bool):
        raise ConfigurationError(f"{path.name}: {question_id}: read_only must be true or false")
    return PrefillField(question_id, key, capacity, source, read_only)


@cache
def load_prefill_table(path: Path = PREFILL_FILE) -> PrefillTable:
    """Read and check the table; person ids are repeated under each prefix for its capacity."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read {path}: {exc}") from exc
    questions, prefixes = data.get("questions"), data.get("prefixes", {})
    if not isinstance(questions, dict) or not isinstance(prefixes, dict):
        raise ConfigurationError(f"{path.name}: needs [questions] and [prefixes] tables")
    fields = {qid: _field(path, qid, entry) for qid, entry in questions.items()}
    for capacity, prefix in prefixes.items():
        if capacity not in CAPACITIES or capacity == "person" or not isinstance(prefix, str):
            raise ConfigurationError(f"{path.name}: bad prefix for capacity {capacity!r}")
        for own in [f for f in fields.values() if f.capacity == "person"]:
            prefixed = prefix + own.question_id
            if prefixed in fields:
                raise ConfigurationError(f"{path.name}: {prefixed} is defined twice")
            fields[prefixed] = PrefillField(
                prefixed, own.key, capacity, own.source, own.read_only
            )
    # Cached and shared: read-only so no caller can change the table under another.
    return PrefillTable(fields=MappingProxyType(fields))


def prefill_form(request: PrefillRequest, table: PrefillTable | None = None) -> PrefillAnswer:
    """The values for ``request.question_ids``, each id reported once, in the asked order."""
    if request.capacity not in CAPACITIES:
        raise InvalidInput(
            f"capacity must be one of {', '.join(CAPACITIES)}, not {request.capacity!r}",
            code="PREFILL_UNKNOWN_CAPACITY",
        )
    fields = (table or load_prefill_table()).fields
    answer = PrefillAnswer()
    for question_id in dict.fromkeys(request.question_ids):
        spec = fields.get(question_id)
        if spec is None or spec.capacity != request.capacity:
            answer.unknown.append(question_id)
            continue
        source = request.claims if spec.source == "login" else request.register
        value = (source or {}).get(spec.key)
        if value is not None and not isinstance(value, str):
            raise InvalidInput(f"{spec.source} value {spec.key!r} must be text",
                               code="PREFILL_VALUE_NOT_TEXT")
        # A blank claim prefills nothing; locking an empty field would block the user.
        if value is None or not value.strip():
            answer.unavailable.append(question_id)
            continue
        answer.values[question_id] = value.strip()
        if spec.read_only:
            answer.read_only.append(question_id)
    return answer


# MAGDA's Geslacht codes (PersoonType/Geslacht/Code): 1 mannelijk, 2 vrouwelijk.
_GENDERS = {"1": "M", "2": "V"}


def register_values(person: Person) -> dict[str, str]:
    """The register keys of the population domain model; absent data gives an absent key.

    ``gender`` is ``M``/``V`` for MAGDA's ``Geslacht/Code`` 1/2 (another code as MAGDA gives
    it), ``birth_date`` ISO 8601 when the register knows the full date (a date with an unknown
    day or month is left out, not guessed), ``nationality`` the description of each current
    nationality (its code when it has none), joined by ``, ``.
    """
    values: dict[str, str] = {}
    if person.sex is not None:
        values["gender"] = _GENDERS.get(person.sex, person.sex)
    born = None if person.birth_date is None else person.birth_date.known
    if born is not None:
        values["birth_date"] = born.isoformat()
    current = [n for n in person.nationalities if n.until is None]
    if current:
        values["nationality"] = ", ".join(n.description or n.code for n in current)
    if person.current_residence is not None:
        address = person.current_residence.address
        parts = {
            "street": address.street,
            "house_number": address.house_number,
            "box": address.box,
            "postal_code": address.postal_code,
            "municipality": address.municipality_name,
        }
        values.update({key: value for key, value in parts.items() if value})
    return values
