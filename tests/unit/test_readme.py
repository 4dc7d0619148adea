"""The README names what exists: its ``loket-hub`` commands are the CLI's, its ``python -m``
modules import, its ``make`` targets are the Makefile's, and its admin endpoint table lists
exactly the routes the admin serves (a new endpoint must be documented, a removed one leaves
the table)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import SimpleNamespace

from hub.admin.auth import TokenBook
from hub.admin.server import create_admin_app
from hub.cli import _parser
from hub.metrics import HubMetrics

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _code() -> str:
    """The README's code: fenced blocks and inline spans, where commands are written."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", README, flags=re.S)
    spans = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", README, flags=re.S))
    return "\n".join(blocks + spans)


def test_every_loket_hub_command_the_readme_names_exists() -> None:
    commands = set(re.findall(r"loket-hub ([a-z][a-z-]+)", _code()))
    subparsers = next(a for a in _parser()._actions if a.dest == "command")
    known = set(subparsers.choices)  # type: ignore[arg-type]
    assert commands, "the README names no command"
    assert commands <= known, f"the README names commands the CLI lacks: {commands - known}"


def test_every_python_module_the_readme_runs_imports() -> None:
    modules = set(re.findall(r"python -m ([a-zA-Z_][a-zA-Z0-9_.]*)", _code()))
    assert "benchmarks.ratios" in modules
    missing = {m for m in modules if importlib.util.find_spec(m) is None}
    assert not missing, f"the README runs modules that do not exist: {missing}"


def test_every_make_target_the_readme_names_exists() -> None:
    targets = set(re.findall(r"\bmake ([a-z]+)", _code()))
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    defined = set(re.findall(r"^([a-z]+):", makefile, flags=re.M))
    assert targets and targets <= defined, targets - defined


def test_the_endpoint_table_is_the_admins_routes() -> None:
    app = create_admin_app(SimpleNamespace(store=None), TokenBook({}),
                           HubMetrics())
    served = {(route.method, route.resource.canonical)
              for route in app.router.routes()
              if route.method != "HEAD" and route.resource is not None
              and route.resource.canonical.startswith(("/api/", "/health/", "/metrics"))}
    table = README[README.index("| endpoint | what |"):]
    table = table[:table.index("\n\n")]
    documented = set()
    for cell in (re.split(r"(?<!\\)\|", row)[1] for row in table.splitlines()[2:]):
        for method, path in re.findall(r"`(GET|POST|DELETE|PUT) (/[^`?\s]*)", cell):
            documented.add((method, path))
    assert served - documented == set(), f"served but not in the README: {served - documented}"
    assert documented - served == set(), f"in the README but not served: {documented - served}"
