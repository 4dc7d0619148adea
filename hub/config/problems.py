"""Every problem of a configuration at once, one readable line each."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from hub.errors import ConfigurationError

__all__ = ["SettingsProblems", "describe_errors"]


class SettingsProblems(ConfigurationError):
    """A configuration that cannot be used: ``problems`` holds one line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def describe_errors(error: ValidationError, prefix: str = "") -> list[str]:
    """pydantic's errors as ``section.key: what is wrong (got ...)`` lines."""
    return [_line(detail, prefix) for detail in _unique(error.errors())]


def _unique(details: Iterable[ErrorDetails]) -> list[ErrorDetails]:
    # A value refused by several members of a union is reported once per location.
    seen: set[tuple[object, ...]] = set()
    kept: list[ErrorDetails] = []
    for detail in details:
        if detail["loc"] in seen:
            continue
        seen.add(detail["loc"])
        kept.append(detail)
    return kept


_PLAIN = {
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "greater_than": "must be more than {gt}",
    "literal_error": "must be {expected}",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "int_parsing": "must be a whole number",
    "float_parsing": "must be a number",
    "string_type": "must be a string",
}
"""pydantic's messages in the words of a configuration; ``{...}`` from the error's context."""


def _line(detail: ErrorDetails, prefix: str) -> str:
    where = ".".join([prefix] * bool(prefix) + [str(part) for part in detail["loc"]])
    kind = detail["type"]
    if kind in {"unexpected_keyword_argument", "extra_forbidden"}:
        return f"{where}: unknown setting"
    if kind == "missing":
        return f"{where}: required, not set"
    message = _PLAIN.get(kind, detail["msg"].removeprefix("Value error, "))
    message = message.format(**detail.get("ctx", {}))
    value = detail.get("input")
    shown = "" if isinstance(value, dict | list) else f" (got {value!r})"
    return f"{where}: {message}{shown}"
