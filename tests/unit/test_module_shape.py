"""Small modules that own one thing: no module of ``hub/`` over 400 lines, no function of the
runtime (``hub/runtime/``, ``hub/worker.py``, ``hub/topology.py``) over 60 lines.

The modules still over the limit are listed with their length today and the work that splits
them: a listed module may shrink, never grow, and once under the limit it must leave the list,
so the list only gets shorter.
"""

from __future__ import annotations

import ast
from pathlib import Path

HUB = Path(__file__).resolve().parents[2] / "hub"
MODULE_LINES = 400
FUNCTION_LINES = 60
RUNTIME = [HUB / "worker.py", HUB / "topology.py", *sorted((HUB / "runtime").glob("*.py"))]

# module (relative to hub/) -> its length today; the issue that splits it.
STILL_TOO_LONG: dict[str, int] = {}


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_no_module_of_the_hub_is_over_the_limit() -> None:
    too_long = {}
    for path in sorted(HUB.rglob("*.py")):
        name = path.relative_to(HUB).as_posix()
        lines = _lines(path)
        allowed = STILL_TOO_LONG.get(name, MODULE_LINES)
        if lines > allowed:
            too_long[name] = lines
    assert not too_long, f"split these modules (at most {MODULE_LINES} lines): {too_long}"


def test_the_list_of_long_modules_only_shrinks() -> None:
    for name, allowed in STILL_TOO_LONG.items():
        path = HUB / name
        assert path.exists(), f"{name} is gone: take it off STILL_TOO_LONG"
        assert _lines(path) > MODULE_LINES, f"{name} is short now: take it off STILL_TOO_LONG"
        assert allowed > MODULE_LINES, name


def test_no_function_of_the_runtime_is_over_the_limit() -> None:
    too_long = []
    for path in RUNTIME:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                lines = node.end_lineno - node.lineno + 1
                if lines > FUNCTION_LINES:
                    too_long.append(f"{path.relative_to(HUB)}:{node.name} ({lines} lines)")
    assert not too_long, f"split these functions (at most {FUNCTION_LINES} lines): {too_long}"
