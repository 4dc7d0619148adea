"""The example configuration (``examples/loket-hub.toml``), generated from the settings models:
every setting with its default, its description as the comment above it.

``loket-hub config-example`` prints it (``--write`` replaces the file); a test fails when the
shipped file is not what the models say, and others when the README's settings table names a
setting that does not exist, leaves one out or states another default.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from hub.config.loader import Settings
from hub.config.sections import BackendSettings
from hub.config.types import BACKEND_NAMES, REPO_ROOT

__all__ = [
    "EXAMPLE_FILE",
    "example_toml",
    "readme_default_mismatches",
    "readme_settings",
    "setting_paths",
]

EXAMPLE_FILE = REPO_ROOT / "examples/loket-hub.toml"

_HEADER = """\
# Example configuration: every setting with its default, generated from the settings models
# (hub/config) by `loket-hub config-example --write`; do not edit by hand.
# Relative paths are relative to the repository root. Any setting can also come from the
# environment: LOKET_<SECTION>__<KEY>, e.g. LOKET_BROKER__URL or
# LOKET_BACKENDS__POPULATION__TOTAL_TIMEOUT_S (lists as 2,10,60).
# The back ends: {backends}
# (criminal_record and civil_status are read as the dashed names).
# `loket-hub check-config` reports every problem at once.
"""


def _descriptions(cls: type[Any]) -> dict[str, str]:
    properties = TypeAdapter(cls).json_schema(mode="serialization").get("properties", {})
    return {name: spec.get("description", "") for name, spec in properties.items()}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Path):
        value = str(value.relative_to(REPO_ROOT)) if value.is_relative_to(REPO_ROOT) else str(value)
    return json.dumps(value, ensure_ascii=False)


def _comment(text: str) -> list[str]:
    if not text:
        return []
    flat = " ".join(text.split())
    return [f"# {line}" for line in textwrap.wrap(flat, width=96)]


def _table(name: str, value: Any, description: str = "") -> Iterator[str]:
    """``[name]`` with the dataclass ``value``'s plain settings, then its sub-tables."""
    texts = _descriptions(type(value))
    if name:
        yield ""
        yield from _comment(description)
        yield f"[{name}]"
    nested: list[tuple[str, Any]] = []
    for item in dataclasses.fields(value):
        current = getattr(value, item.name)
        if dataclasses.is_dataclass(current) or isinstance(current, dict):
            nested.append((item.name, current))
            continue
        yield from _comment(texts.get(item.name, ""))
        yield f"{item.name} = {_toml_value(current)}"
    for key, current in nested:
        path = f"{name}.{key}".lstrip(".")
        if isinstance(current, dict):
            yield from _backends(path, current, texts.get(key, ""))
        else:
            yield from _table(path, current, texts.get(key, "") or (type(current).__doc__ or ""))


def _backends(path: str, tables: dict[str, Any], description: str) -> Iterator[str]:
    for backend, settings in tables.items():
        yield from _table(f"{path}.{backend}", settings,
                          description or (BackendSettings.__doc__ or ""))
    others = [b for b in BACKEND_NAMES if b not in tables]
    yield ""
    yield "# The other back ends take the same keys in their own table,"
    yield f"# {', '.join(others)}; e.g."
    yield f"# [{path}.{others[-1] if others else 'population'}]"
    yield '# total_timeout_s = 60.0'


def example_toml(settings: Settings | None = None) -> str:
    """The example configuration for ``settings`` (default: the defaults)."""
    lines = [_HEADER.format(backends=", ".join(BACKEND_NAMES))]
    lines += list(_table("", settings or Settings()))
    return "\n".join(lines).rstrip("\n") + "\n"


def setting_paths() -> set[str]:
    """Every setting's dotted name; back ends as ``backends.<name>.<key>``."""
    def walk(prefix: str, cls: type[Any]) -> Iterator[str]:
        for item in dataclasses.fields(cls):
            path = f"{prefix}{item.name}"
            default = (item.default_factory() if item.default_factory is not dataclasses.MISSING
                       else item.default)
            if isinstance(default, dict):
                yield from walk(f"{path}.<name>.", BackendSettings)
            elif dataclasses.is_dataclass(default):
                yield from walk(f"{path}.", type(default))
            else:
                yield path

    return set(walk("", Settings))


def _readme_rows(readme: str) -> Iterator[tuple[list[str], str]]:
    """Per row of the README's settings table: the settings it names, its default cell.

    In a cell, a name without a dot continues the previous name's section
    (``status.max_attempts`` / ``backoff_initial_s``), one starting with a dot its table
    (``documents.signing.key`` / ``.cert``).
    """
    block = readme.split("| setting | default | meaning |", 1)[1].split("\n\n", 1)[0]
    roots = {item.name for item in dataclasses.fields(Settings)}
    for row in block.splitlines()[2:]:
        cells = row.split("|")
        if not cells[1].strip().startswith("`"):
            continue  # a tenant file's setting
        names: list[str] = []
        parent = ""
        for token in re.findall(r"`([^`]+)`", cells[1]):
            if token.startswith("."):
                name = parent + token
            elif "." in token or token in roots or not parent:
                name = token
            else:
                name = f"{parent}.{token}"
            parent = name.rsplit(".", 1)[0] if "." in name else ""
            names.append(name)
        yield names, cells[2].strip()


def readme_settings(readme: str) -> set[str]:
    """The settings named in the first column of the README's settings table."""
    return {name for names, _ in _readme_rows(readme) for name in names}


def _default_of(name: str) -> Any:
    value: Any = Settings()
    for part in name.split("."):
        value = BackendSettings() if part == "<name>" else (
            value[part] if isinstance(value, dict) else getattr(value, part))
    return value


def _says(written: str, value: Any) -> bool | None:
    """Whether the README's ``written`` default is ``value``; None: it describes, not states."""
    literal = written.startswith("`")
    text = re.sub(r"\s*\(.*\)$", "", written).strip("` ")
    if text == "empty":
        return value in ("", ())
    if re.fullmatch(r"\d+(\.\d+)?(, \d+(\.\d+)?)*", text):
        numbers = tuple(float(n) for n in text.split(", "))
        return numbers == (tuple(value) if isinstance(value, tuple) else (value,))
    if not literal and (" " in text or (text not in {"true", "false"} and "." not in text)):
        return None
    shown = _toml_value(value).strip('"')
    return fnmatch.fnmatchcase(shown, text) if "*" in text else shown == text


def readme_default_mismatches(readme: str) -> tuple[list[str], int]:
    """Defaults the README's table states that the models do not have, and how many it
    states (cells that describe, such as "dev values", are not compared)."""
    wrong: list[str] = []
    compared = 0
    for names, cell in _readme_rows(readme):
        parts = cell.split(" / ")
        if len(parts) == 1:
            parts = parts * len(names)
        if len(parts) != len(names):
            wrong.append(f"{' / '.join(names)}: {len(parts)} defaults for {len(names)} settings")
            continue
        for name, written in zip(names, parts, strict=True):
            verdict = _says(written, _default_of(name))
            compared += verdict is not None
            if verdict is False:
                wrong.append(f"{name}: the README says {written}, the default is "
                             f"{_toml_value(_default_of(name))}")
    return wrong, compared
