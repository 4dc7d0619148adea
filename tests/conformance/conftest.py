"""Every test in this folder checks loket-hub against MAGDA's own published material."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/conformance/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.conformance)
