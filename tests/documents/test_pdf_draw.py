"""The direct PDF writer breaks lines as platypus does, and refuses what it does not draw."""

from __future__ import annotations

import dataclasses
import datetime as dt
from xml.sax.saxutils import escape

import pytest
from reportlab.lib import colors
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import Paragraph

from hub.documents.pdf_draw import NotDrawn, _break
from hub.documents.pdf_layout import Styles, Text
from hub.documents.pdf_render import render_certificate_pdf
from hub.documents.pdf_template import load_template
from tests.documents.factories import GENT, model

ISSUED = dt.datetime(2026, 3, 14, 9, 26, 53, tzinfo=dt.UTC)
TEXTS = [
    "Dit document is 3 maanden beschikbaar op uw persoonlijke pagina, tot en met 14-06-2026. "
    "Download het en bewaar het zelf als u het later nog nodig hebt.",
    "Uittreksel uit het bevolkingsregister: samenstelling van het gezin",
    "Korenmarkt 3 bus 2B, 9000 Gent", "Łukasz Świątek", "Zoon of dochter", "a", "",
    "Bondgenotenlaan 12, 3000 Leuven, België   with  runs   of spaces",
]


@pytest.fixture(scope="module")
def styles() -> Styles:
    return Styles.build(load_template(), colors.HexColor("#1d4f91"), 493.2)


@pytest.mark.parametrize("style", ["body", "cell", "head", "title", "notice"])
def test_lines_break_where_platypus_breaks_them(styles: Styles, style: str) -> None:
    paragraph_style = styles.styles[style]
    for text in TEXTS:
        natural = pdfmetrics.stringWidth(text, paragraph_style.fontName,
                                         paragraph_style.fontSize)
        # Widths around every break point, including those only 5 % space shrinkage fits.
        for width in [natural * f for f in (0.21, 0.33, 0.5, 0.61, 0.97, 0.995, 1.0, 1.2)]:
            if not text.strip() or width < max(
                pdfmetrics.stringWidth(w, paragraph_style.fontName, paragraph_style.fontSize)
                for w in text.split()
            ):
                continue
            ours = _break(styles, Text(text, style), width)
            theirs = Paragraph(escape(text), paragraph_style).breakLines([width])
            assert [(round(e, 6), w) for e, w in ours.lines] == [
                (round(e, 6), list(w)) for e, w in theirs.lines
            ], (text, width)
            assert ours.height == len(theirs.lines) * paragraph_style.leading


def test_shrunk_spaces_are_used_where_platypus_uses_them(styles: Styles) -> None:
    style = styles.styles["body"]
    text = "een twee drie vier vijf zes zeven"
    natural = pdfmetrics.stringWidth(text, style.fontName, style.fontSize)
    ours = _break(styles, Text(text, "body"), natural - 0.5)  # fits only by shrinking spaces
    assert len(ours.lines) == 1 and ours.lines[0][0] < 0


def test_a_word_wider_than_its_column_is_left_to_platypus(styles: Styles) -> None:
    with pytest.raises(NotDrawn, match="wider than its column"):
        _break(styles, Text("Zeeeeeeeeeeeeeeeeeeeeeer-lange-naam", "cell"), 40)


def test_a_character_outside_the_subset_is_left_to_platypus() -> None:
    certificate = model("proof-of-life")
    strange = dataclasses.replace(certificate, title="Bewijs ☃ van leven")
    with pytest.raises(NotDrawn, match=r"outside the embedded subset: U\+2603"):
        render_certificate_pdf(strange, tenant=GENT, reference="job-1", backend_reference=None,
                               issued_at=ISSUED, engine="direct")
    fallback = render_certificate_pdf(strange, tenant=GENT, reference="job-1",
                                      backend_reference=None, issued_at=ISSUED)
    assert fallback.startswith(b"%PDF") and b"ReportLab" in fallback
