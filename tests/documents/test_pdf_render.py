"""PDF certificates: every kind renders readably, long lists break over pages, bytes are stable."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from hub.config import TenantSettings
from hub.documents.pdf_render import render_certificate_pdf
from hub.documents.pdf_template import load_template
from hub.ports import CertificateModel
from tests.documents.factories import ALL_KINDS, GENT, ISSUED, model

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="poppler-utils not installed",
)


def _render(certificate: CertificateModel, tenant: TenantSettings = GENT,
            reference: str = "job-1") -> bytes:
    return render_certificate_pdf(certificate, tenant=tenant, reference=reference,
                                  backend_reference="magda-ref-1", issued_at=ISSUED)


def _pages(pdf: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"],
                          capture_output=True, text=True, check=True)
    return done.stdout.split("\f")[:-1]  # a form feed ends every page


@needs_poppler
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_kind_renders_its_common_parts_and_facts(kind: str, tmp_path: Path) -> None:
    certificate = model(kind)
    text = " ".join(" ".join(_pages(_render(certificate), tmp_path)).split())
    assert " ".join(certificate.title.split()[:4]) in text
    for expected in ("Stad Gent", "Referentie job-1", "magda-ref-1", "85.07.30-033.28",
                     "Dit document is 3 maanden beschikbaar op uw persoonlijke pagina",
                     "Controleer de handtekening van dit document", "Pagina 1 van 1"):
        assert expected in text, f"{expected!r} missing from {kind}"
    assert "Peeters" in text


@needs_poppler
@pytest.mark.parametrize("kind", ["household-composition", "burial-manner"])
def test_a_page_turns_into_a_readable_image(kind: str, tmp_path: Path) -> None:
    path = tmp_path / f"{kind}.pdf"
    path.write_bytes(_render(model(kind)))
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(path),
                    str(tmp_path / kind)], check=True)
    image = Image.open(tmp_path / f"{kind}-1.png").convert("L")
    assert abs(image.size[0] - 496) <= 1 and abs(image.size[1] - 702) <= 1  # A4 at 60 dpi
    dark = sum(image.histogram()[:128])
    assert dark > 2000, "the page looks empty"


@needs_poppler
def test_names_with_diacritics_survive(tmp_path: Path) -> None:
    text = "".join(_pages(_render(model("household-composition")), tmp_path))
    assert "Świątek" in text and "Łukasz" in text and "Zoë" in text


@needs_poppler
def test_a_register_date_with_an_unknown_day_and_month_shows_only_its_year(
    tmp_path: Path,
) -> None:
    text = "".join(_pages(_render(model("household-composition")), tmp_path))
    assert "30-07-1985" in text  # a full date, as the template formats it
    assert re.search(r"Świątek.*\b1960\b", text.replace("\n", " "))
    assert "00-00-1960" not in text and "1960-00-00" not in text


def test_register_dates_keep_only_what_the_register_knows() -> None:
    template = load_template()
    assert template.value("nl", "BirthDate", "1950-00-00") == "1950"
    assert template.value("nl", "BirthDate", "1950-05-00") == "05-1950"
    assert template.value("fr", "BirthDate", "1950-05-00") == "05/1950"
    assert template.value("de", "BirthDate", "1950-05-17") == "17.05.1950"
    assert template.value("nl", "BirthDate", "0000-00-00") == template.value("nl", "X", None)


@needs_poppler
def test_a_household_of_twelve_lists_every_member(tmp_path: Path) -> None:
    certificate = model("household-composition", members=12)
    pages = _pages(_render(certificate), tmp_path)
    text = "".join(pages)
    assert all(f"Kind{i}" in text for i in range(8))
    assert "Aantal gezinsleden" in text and re.search(r"Aantal gezinsleden\s+12", text)
    assert f"Pagina {len(pages)} van {len(pages)}" in pages[-1]


@needs_poppler
def test_a_long_history_breaks_over_pages_with_its_header_repeated(tmp_path: Path) -> None:
    certificate = model("main-residence-history", periods=90)
    pages = _pages(_render(certificate), tmp_path)
    assert len(pages) >= 3
    table_pages = [p for p in pages if "Bondgenotenlaan" in p]
    assert len(table_pages) >= 2
    for page in table_pages:  # caption and column headers on every page of the table
        assert "Hoofdverblijfplaatsen" in page and re.search(r"Adres\s+Sinds\s+Tot", page)
    assert "Pagina 2 van" in pages[1]
    assert "3 maanden beschikbaar" in pages[-1]


@needs_poppler
def test_other_languages_and_a_fallback(tmp_path: Path) -> None:
    french = " ".join(" ".join(_pages(_render(model("main-residence", "fr")), tmp_path)).split())
    assert "Référence job-1" in french and "Résidence principale" in french
    assert "Ce document est disponible pendant 3 mois" in french
    spanish = " ".join(" ".join(_pages(_render(model("main-residence", "es")), tmp_path)).split())
    assert "Uitgereikt op" in spanish  # Dutch, the e-counter's own language


@needs_poppler
def test_a_tenant_without_a_logo_still_renders(tmp_path: Path) -> None:
    tenant = TenantSettings("zwijndrecht", "Gemeente Zwijndrecht", "11056",
                            "urn://zwijndrecht.be/cs-connector/loket-hub")
    text = "".join(_pages(_render(model("proof-of-life"), tenant), tmp_path))
    assert text.lstrip().startswith("Gemeente Zwijndrecht")


def test_rendering_twice_gives_the_same_bytes() -> None:
    certificate = model("household-composition", members=9)
    first, second = _render(certificate), _render(certificate)
    assert first == second
    assert b"/CreationDate (D:" + ISSUED.strftime("%Y%m%d%H%M%S").encode() in first


def test_another_reference_gives_another_document_id() -> None:
    certificate = model("proof-of-life")

    def document_id(pdf: bytes) -> bytes:
        found = re.search(rb"/ID\s*\[\s*<([0-9a-fA-F]+)>", pdf)
        assert found is not None
        return found.group(1)

    assert document_id(_render(certificate, reference="a")) != document_id(
        _render(certificate, reference="b")
    )


@pytest.mark.skipif(shutil.which("pdfimages") is None, reason="poppler-utils not installed")
def test_the_logo_is_in_every_document_and_a_replaced_logo_is_read_again(
    tmp_path: Path,
) -> None:
    # The encoded logo is shared by the documents of a process: each must still carry it whole.
    logos = tmp_path / "logos"
    logos.mkdir()
    Image.new("RGB", (40, 20), (200, 30, 30)).save(logos / "gent.png")

    def images(pdf: bytes, name: str) -> list[Image.Image]:
        (tmp_path / f"{name}.pdf").write_bytes(pdf)
        subprocess.run(["pdfimages", "-png", str(tmp_path / f"{name}.pdf"),
                        str(tmp_path / name)], check=True)
        return [Image.open(p).convert("RGB") for p in sorted(tmp_path.glob(f"{name}-*.png"))]

    def render(reference: str) -> bytes:
        return render_certificate_pdf(model("proof-of-life"), tenant=GENT, reference=reference,
                                      backend_reference=None, issued_at=ISSUED, logo_dir=logos)

    first, second = images(render("a"), "first"), images(render("b"), "second")
    assert len(first) == len(second) == 1
    assert first[0].size == (40, 20) and first[0].getpixel((5, 5)) == (200, 30, 30)
    assert second[0].tobytes() == first[0].tobytes()

    Image.new("RGB", (30, 30), (20, 20, 220)).save(logos / "gent.png")
    (replaced,) = images(render("c"), "replaced")
    assert replaced.size == (30, 30) and replaced.getpixel((5, 5)) == (20, 20, 220)
