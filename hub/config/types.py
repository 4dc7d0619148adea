"""The typed values settings are made of: paths under the repository, lists from the
environment, URLs with the schemes the hub speaks, ports, choices.

Each is an ``Annotated`` type that pydantic validates when the settings are loaded; the value
objects stay plain frozen dataclasses (``dataclasses.replace`` works, tests build them directly).
"""

from __future__ import annotations

import zoneinfo
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field

__all__ = [
    "BACKEND_NAMES",
    "REPO_ROOT",
    "SECTION",
    "AmqpUrl",
    "FloatList",
    "HttpUrl",
    "LogLevel",
    "OptionalHttpUrl",
    "Port",
    "Positive",
    "ReplyPolicy",
    "RepoPath",
    "StoreUrl",
    "TimeZone",
    "resolve_path",
]

REPO_ROOT = Path(__file__).resolve().parent.parent.parent

SECTION = ConfigDict(extra="forbid", use_attribute_docstrings=True)
"""Every settings dataclass: unknown keys are errors, the docstring under a field describes it
(``loket-hub config-example`` writes it as the field's comment)."""

BACKEND_NAMES = ("population", "civil-status", "criminal-record", "backoffice", "dosis")
"""The back ends with their own ``[backends.<name>]`` table (``backoffice``: every back office;
``dosis``: the status pusher's breaker and concurrency limit, its timeouts being ``status.*``)."""


def resolve_path(value: str) -> Path | None:
    """A configured file path (relative to the repository root), or None when empty."""
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


def _under_root(value: Path) -> Path:
    return resolve_path(str(value)) or value


def _split_list(value: Any) -> Any:
    """``"2,10,60"`` or ``"[2, 10, 60]"`` (an environment variable) as a list."""
    if isinstance(value, str):
        items = value.strip().removeprefix("[").removesuffix("]").split(",")
        return [item.strip() for item in items if item.strip()]
    return value


def _url(value: str, schemes: tuple[str, ...], *, host: bool = True) -> str:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number in range
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {exc}") from None
    if parts.scheme not in schemes:
        raise ValueError(f"must be a URL starting with {' or '.join(s + '://' for s in schemes)}")
    if host and not parts.hostname:
        raise ValueError("the URL names no host")
    return value


def _amqp(value: str) -> str:
    return _url(value, ("amqp", "amqps"))


def _http(value: str) -> str:
    return _url(value, ("http", "https"))


def _optional_http(value: str) -> str:
    return _http(value) if value else value


def _store(value: str) -> str:
    if value.startswith("sqlite:///"):
        return value
    if value.startswith("sqlite:"):
        raise ValueError("a SQLite store is sqlite:///<path> (three slashes)")
    if urlsplit(value).scheme not in ("postgresql", "postgres"):
        raise ValueError("must start with sqlite:/// or postgresql://")
    return _url(value, ("postgresql", "postgres"))


def _zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError("not a known time zone (e.g. Europe/Brussels)") from None
    return value


RepoPath = Annotated[Path, AfterValidator(_under_root)]
"""A file or folder; relative to the repository root unless absolute."""
FloatList = Annotated[tuple[float, ...], BeforeValidator(_split_list)]
AmqpUrl = Annotated[str, AfterValidator(_amqp)]
HttpUrl = Annotated[str, AfterValidator(_http)]
OptionalHttpUrl = Annotated[str, AfterValidator(_optional_http)]
StoreUrl = Annotated[str, AfterValidator(_store)]
Port = Annotated[int, Field(ge=0, le=65535)]
"""A TCP port; 0 lets the system choose a free one."""
Positive = Annotated[int, Field(ge=1)]
TimeZone = Annotated[str, AfterValidator(_zone)]
ReplyPolicy = Literal["", "verify", "log-only", "off"]
LogLevel = Annotated[Literal["debug", "info", "warning", "error", "critical"],
                     BeforeValidator(lambda v: v.lower() if isinstance(v, str) else v)]
