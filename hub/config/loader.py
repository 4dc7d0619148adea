"""The whole configuration (:class:`Settings`) and how it is read: defaults < TOML file
(``--config`` or ``LOKET_CONFIG``) < ``LOKET_*`` environment variables < explicit overrides.

The environment is read by pydantic-settings (``LOKET_BROKER__URL``: ``__`` between levels);
everything is validated by pydantic, and every problem is reported at once
(:class:`~hub.config.problems.SettingsProblems`).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError, create_model
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict, SettingsError

from hub.config.problems import SettingsProblems, describe_errors
from hub.config.sections import (
    BackendSettings,
    BrokerSettings,
    DocumentSettings,
    MagdaSettings,
    StoreSettings,
)
from hub.config.services import AdminSettings, AuditSettings, BackofficeSettings, StatusSettings
from hub.config.types import BACKEND_NAMES, REPO_ROOT, SECTION, LogLevel, RepoPath

__all__ = ["ENV_PREFIX", "Settings", "load_settings"]

ENV_PREFIX = "LOKET_"
_NOT_SETTINGS = ("LOKET_CONFIG", "LOKET_TEST_", "LOKET_SOAK_", "LOKET_UPDATE_GOLDEN",
                 "LOKET_GOLDEN_UPDATE")
"""``LOKET_CONFIG`` names the file; the others are the tests' own switches. Any other
``LOKET_`` variable must name a setting."""


@dataclass(frozen=True)
class Settings:
    """Everything one worker (or command) is configured with."""

    __pydantic_config__ = SECTION

    broker: BrokerSettings = field(default_factory=BrokerSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    magda: MagdaSettings = field(default_factory=MagdaSettings)
    documents: DocumentSettings = field(default_factory=DocumentSettings)
    backends: dict[str, BackendSettings] = field(
        default_factory=lambda: {"population": BackendSettings()}
    )
    """Per back end (population, civil-status, criminal-record, backoffice); criminal_record
    is read as criminal-record, so the environment can name it."""
    audit: AuditSettings = field(default_factory=AuditSettings)
    status: StatusSettings = field(default_factory=StatusSettings)
    admin: AdminSettings = field(default_factory=AdminSettings)
    backoffice: BackofficeSettings = field(default_factory=BackofficeSettings)
    tenants_dir: RepoPath = REPO_ROOT / "mappings/tenants"
    """One <slug>.toml per municipality (mappings/tenants/README.md)."""
    log_format: typing.Literal["console", "json"] = "console"
    """How log lines are written: "console", or "json" (in production)."""
    log_level: LogLevel = "info"
    """debug, info, warning, error or critical."""
    worker_id: str = ""
    """Empty: a random id per process."""

    def backend(self, name: str) -> BackendSettings:
        return self.backends.get(name, BackendSettings())


_SETTINGS = TypeAdapter(Settings)


class _Root(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__",
                                      case_sensitive=False, extra="forbid")


# The settings' fields as a pydantic-settings model, for its environment source to read.
_ENV_MODEL = create_model(  # type: ignore[call-overload]
    "LoketEnvironment", __base__=_Root,
    **{f.name: (typing.get_type_hints(Settings, include_extras=True)[f.name], None)
       for f in dataclasses.fields(Settings)},
)


class _EnvironSource(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping (tests pass their own)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = {k: v for k, v in environ.items() if not k.startswith(_NOT_SETTINGS)}
        super().__init__(_ENV_MODEL)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {name.lower(): value for name, value in self._environ.items()}


def _environment(environ: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    known = {f.name for f in dataclasses.fields(Settings)}
    problems = [
        f"{name}: no such setting ({name.removeprefix(ENV_PREFIX).split('__')[0].lower()!r} "
        "is not a section or setting)"
        for name in sorted(environ)
        if name.upper().startswith(ENV_PREFIX) and not name.upper().startswith(_NOT_SETTINGS)
        and name[len(ENV_PREFIX):].split("__")[0].lower() not in known
    ]
    try:
        values = {k: v for k, v in _EnvironSource(environ)().items() if v is not None}
    except SettingsError as exc:
        return {}, [*problems, f"environment: {exc}"]
    return values, problems


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def _backends(values: dict[str, Any]) -> list[str]:
    """Back-end tables under their dashed names (``criminal_record`` = ``criminal-record``);
    an unknown name is a problem, not a table nobody reads."""
    tables = values.get("backends")
    if not isinstance(tables, Mapping):
        return []
    named: dict[str, Any] = {"population": {}}
    problems: list[str] = []
    for name, table in tables.items():
        dashed = str(name).lower().replace("_", "-")
        if dashed not in BACKEND_NAMES:
            known = ", ".join(BACKEND_NAMES)
            problems.append(f"backends.{name}: unknown back end (known: {known})")
            continue
        named = _merge(named, {dashed: table})
    values["backends"] = named
    return problems


def _read_file(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsProblems([f"cannot read configuration file {path}: {exc}"]) from exc


def load_settings(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read the settings; raises :class:`SettingsProblems` naming every problem found."""
    environ = os.environ if environ is None else environ
    path = path or (Path(environ["LOKET_CONFIG"]) if environ.get("LOKET_CONFIG") else None)
    values = _read_file(path) if path is not None else {}
    from_env, problems = _environment(environ)
    values = _merge(_merge(values, from_env), overrides or {})
    problems += _backends(values)
    try:
        settings = _SETTINGS.validate_python(values)
    except ValidationError as exc:
        problems += describe_errors(exc)
    if problems:
        raise SettingsProblems(problems)
    return settings
