"""The client installs on its own: `pip install ./loket_hub` in a fresh virtual environment
brings aio-pika and nothing of the hub (zeep, lxml, xmlsec, pyHanko, psycopg)."""

from __future__ import annotations

import json
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What pip says when it cannot reach the index (offline): then the test is skipped.
OFFLINE = ("NewConnectionError", "Failed to establish a new connection", "Network is unreachable",
           "Temporary failure in name resolution", "No matching distribution found",
           "Could not find a version that satisfies")
PROBE = """
import importlib.util, json, sys
import loket_hub.client, loket_hub.jobs, loket_hub.contract
from loket_hub import CorruptResult, LoketClient, UnroutableJob
print(json.dumps({
    "client": loket_hub.client.__file__,
    "importable": [m for m in ("hub", "adapters", "simulators", "zeep", "lxml", "xmlsec",
                               "pyhanko", "psycopg", "reportlab")
                   if importlib.util.find_spec(m) is not None],
    "loaded": sorted(m for m in sys.modules if m.split(".")[0] in ("hub", "aio_pika")),
}))
"""


def test_pip_install_of_the_client_alone_brings_nothing_of_the_hub(tmp_path: Path) -> None:

    source = tmp_path / "src" / "loket_hub"
    # A copy, so the build leaves nothing in the worktree (setuptools builds in the tree).
    shutil.copytree(ROOT / "loket_hub", source,
                    ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q",
         "./loket_hub"],
        cwd=source.parent, capture_output=True, text=True, check=False, timeout=600,
    )
    if install.returncode != 0 and any(sign in install.stderr for sign in OFFLINE):
        pytest.skip(f"pip cannot reach the package index (offline?): {install.stderr[-300:]}")
    assert install.returncode == 0, install.stderr[-3000:]
    # Run from an empty folder: neither the worktree nor the copy is on the path.
    probe = subprocess.run([str(python), "-c", PROBE], cwd=tmp_path, capture_output=True,
                           text=True, check=False, timeout=120)
    assert probe.returncode == 0, probe.stderr[-3000:]
    found = json.loads(probe.stdout)
    assert Path(found["client"]).is_relative_to(env_dir), found["client"]
    assert found["importable"] == []
    assert "aio_pika" in found["loaded"]
    assert not [m for m in found["loaded"] if m.split(".")[0] == "hub"]
