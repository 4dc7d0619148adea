"""Every module of the hub belongs to one ring of the import contract (pyproject.toml).

``lint-imports`` checks the rules of the rings it is told about; a new module in ``hub/`` that no
contract names would be checked by none. This test makes its author choose the ring.
"""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import hub

ROOT = Path(__file__).resolve().parents[2]
# The composition root: the only code that may import adapters and simulators, so no contract
# lists it as a source.
COMPOSITION_ROOT = {"hub.app", "hub.checkconfig", "hub.cli", "hub.demo", "hub.testing"}


def _contracts() -> dict[str, dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}


def _names(contract: dict[str, object], key: str = "source_modules") -> set[str]:
    """The modules a contract lists under ``key``; ``x.**`` (a package yet to come) as ``x``."""
    names = contract[key]
    assert isinstance(names, list)
    return {str(name).removesuffix(".**") for name in names}


def test_every_module_of_the_hub_is_in_exactly_one_ring() -> None:
    contracts = _contracts()
    rings = {"core": _names(contracts["core"]), "runtime": _names(contracts["runtime"]),
             "composition root": COMPOSITION_ROOT}
    modules = {f"hub.{m.name}" for m in pkgutil.iter_modules(hub.__path__)}
    for module in sorted(modules):
        homes = [ring for ring, members in rings.items() if module in members]
        assert len(homes) == 1, f"{module} is in {homes or 'no ring'}: add it to one"


def test_what_the_core_may_not_import_includes_the_other_rings() -> None:
    contracts = _contracts()
    forbidden = _names(contracts["core"], "forbidden_modules")
    assert forbidden >= _names(contracts["runtime"]) | COMPOSITION_ROOT
    assert forbidden >= {"adapters", "simulators", "aio_pika", "aiormq"}
    for outer in ("runtime", "adapters", "simulators", "client"):
        forbidden = _names(contracts[outer], "forbidden_modules")
        # "hub" forbids every module of the hub, the composition root among them.
        assert "hub" in forbidden or forbidden >= COMPOSITION_ROOT, outer
