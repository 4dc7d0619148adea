"""PDF certificates look as they did: pages rendered with pdftoppm against committed images.

The images under ``tests/golden/pdf/`` were rendered at 60 dpi in grey by the platypus renderer
as it was before the direct writer (:mod:`hub.documents.pdf_draw`) came. Both engines are held
to them: a page passes when its pixels differ little from the image; a line of text moved by a
point, a changed colour or a missing word fails it. The issue time is fixed, so the calendar
never shows in a page.

After a deliberate change of the layout, write new images with
``LOKET_GOLDEN_UPDATE=1 .venv/bin/python -m pytest tests/documents/test_pdf_pixels.py``
and look at them before committing.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest
from PIL import Image, ImageChops

from hub.config import TenantSettings
from hub.documents.pdf_draw import NotDrawn
from hub.documents.pdf_render import render_certificate_pdf
from hub.documents.pdf_template import load_template
from tests.documents.factories import ALL_KINDS, GENT, model

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "pdf"
ISSUED = dt.datetime(2026, 3, 14, 9, 26, 53, tzinfo=dt.UTC)
DPI = 60
LEUVEN = TenantSettings("leuven", "Stad Leuven", "24062", "urn://leuven.be/cs-connector/loket-hub")
NO_LOGO = TenantSettings("zwijndrecht", "Gemeente Zwijndrecht", "11056",
                         "urn://zwijndrecht.be/cs-connector/loket-hub")
# Per page: the mean difference (0-255) and the share of pixels that changed visibly.
MAX_MEAN = 0.6
MAX_CHANGED = 0.002
VISIBLE = 48

Engine = Literal["direct", "platypus"] | None

pytestmark = [
    pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed"),
    pytest.mark.skipif("dejavu" not in str(load_template().font("regular")).lower(),
                       reason="the images were made with DejaVu Sans (fonts-dejavu-core)"),
]


@dataclass(frozen=True)
class Case:
    name: str
    kind: str
    language: str = "nl"
    tenant: TenantSettings = GENT
    members: int = 4
    periods: int = 4
    backend_reference: str | None = "magda-ref-1"


CASES = [Case(kind, kind) for kind in ALL_KINDS] + [
    Case("household-of-twelve", "household-composition", members=12),
    Case("history-of-ninety", "main-residence-history", periods=90),
    Case("french", "main-residence", language="fr"),
    Case("german", "household-composition", language="de"),
    Case("leuven", "residence-and-nationality", tenant=LEUVEN),
    Case("no-logo-no-source-reference", "proof-of-life", tenant=NO_LOGO,
         backend_reference=None),
]


def _render(case: Case, engine: Engine = None) -> bytes:
    certificate = model(case.kind, case.language, members=case.members, periods=case.periods)
    return render_certificate_pdf(certificate, tenant=case.tenant, reference="job-7f3a",
                                  backend_reference=case.backend_reference, issued_at=ISSUED,
                                  engine=engine)


def _pages(case: Case, tmp_path: Path, engine: Engine = None) -> list[Image.Image]:
    pdf = _render(case, engine)
    path = tmp_path / f"{case.name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-gray", "-r", str(DPI), str(path),
                    str(tmp_path / case.name)], check=True)
    return [Image.open(p).convert("L") for p in _numbered(tmp_path, case.name)]


def _numbered(directory: Path, name: str) -> list[Path]:
    """``name-1.png``, ``name-2.png`` … in page order (not ``name-history-1.png``)."""
    found = [p for p in directory.glob(f"{name}-*.png") if p.stem.rsplit("-", 1)[0] == name]
    return sorted(found, key=lambda p: int(p.stem.rsplit("-", 1)[1]))


def _golden(case: Case) -> list[Path]:
    return _numbered(GOLDEN, case.name)


@pytest.mark.parametrize("engine", [None, "platypus"], ids=["default", "platypus"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_pages_look_as_the_golden_images(case: Case, engine: Engine, tmp_path: Path) -> None:
    pages = _pages(case, tmp_path, engine)
    if os.environ.get("LOKET_GOLDEN_UPDATE") and engine is None:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for old in _golden(case):
            old.unlink()
        for number, page in enumerate(pages, start=1):
            page.save(GOLDEN / f"{case.name}-{number}.png", optimize=True)
    golden = [Image.open(p).convert("L") for p in _golden(case)]
    assert len(pages) == len(golden), f"{len(pages)} pages, the golden images have {len(golden)}"
    for number, (page, expected) in enumerate(zip(pages, golden, strict=True), start=1):
        assert page.size == expected.size
        histogram = ImageChops.difference(page, expected).histogram()
        total = page.size[0] * page.size[1]
        mean = sum(level * count for level, count in enumerate(histogram)) / total
        changed = sum(histogram[VISIBLE:]) / total
        assert mean <= MAX_MEAN and changed <= MAX_CHANGED, (
            f"page {number}: mean difference {mean:.3f}, {changed:.3%} of pixels changed"
        )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_one_page_certificates_take_the_direct_writer(case: Case) -> None:
    """Only the 3-page history needs platypus; the rest must not fall back to it silently."""
    if case.name == "history-of-ninety":
        with pytest.raises(NotDrawn, match="more than one page"):
            _render(case, "direct")
    else:
        assert _render(case) == _render(case, "direct")


def test_the_comparison_sees_a_shifted_line(tmp_path: Path) -> None:
    """The thresholds are not so loose that a layout change passes: the page moved down 1 pt."""
    (page,) = _pages(CASES[ALL_KINDS.index("proof-of-life")], tmp_path)
    shifted = Image.new("L", page.size, 255)
    shifted.paste(page, (0, round(DPI / 72)))
    histogram = ImageChops.difference(page, shifted).histogram()
    total = page.size[0] * page.size[1]
    assert sum(histogram[VISIBLE:]) / total > MAX_CHANGED
