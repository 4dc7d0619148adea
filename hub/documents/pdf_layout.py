"""Layout of the PDF certificate: styles, the info box, the facts as sections and tables.

The layout is described as plain blocks (:class:`Text`, :class:`Gap`, :class:`Grid`,
:class:`Picture`, :class:`Together`) with the geometry of reportlab's platypus flowables of the
same names (Paragraph, Spacer, Table, the logo, KeepTogether). Two backends draw them:
:mod:`hub.documents.pdf_draw` writes a page straight to PDF (most certificates), and
:func:`flowables` hands them to platypus for a document that runs over more than one page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from hub.documents.pdf_template import CertificateTemplate

__all__ = [
    "Block", "Gap", "Grid", "Picture", "Styles", "Text", "Together", "fact_blocks", "flowables",
    "info_box", "notice",
]

_TEXT = colors.HexColor("#1f2933")
_MUTED = colors.HexColor("#52606d")
_RULE = colors.HexColor("#d9dee3")
_TINT = colors.HexColor("#f3f5f7")
_PAD = 4


def _register_fonts(template: CertificateTemplate) -> tuple[str, str]:
    names = ("LoketSans", "LoketSans-Bold")
    if names[0] not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(names[0], str(template.font("regular"))))
        pdfmetrics.registerFont(TTFont(names[1], str(template.font("bold"))))
        pdfmetrics.registerFontFamily(names[0], normal=names[0], bold=names[1])
    return names


@dataclass(frozen=True)
class Styles:
    """Paragraph styles for one document (the accent colour is the tenant's)."""

    regular: str
    bold: str
    accent: colors.Color
    width: float  # of the text frame
    styles: Mapping[str, ParagraphStyle]

    @classmethod
    def build(cls, template: CertificateTemplate, accent: colors.Color, width: float) -> Styles:
        regular, bold = _register_fonts(template)

        def style(name: str, **kw: Any) -> ParagraphStyle:
            base = {"fontName": regular, "fontSize": 9.5, "leading": 12.5, "textColor": _TEXT}
            return ParagraphStyle(name, **{**base, **kw})

        return cls(regular, bold, accent, width, {
            "body": style("body"),
            "label": style("label", textColor=_MUTED),
            "cell": style("cell", fontSize=8.5, leading=10.5),
            "head": style("head", fontName=bold, fontSize=8.5, leading=10.5,
                          textColor=colors.white),
            "issuer": style("issuer", fontName=bold, fontSize=15, leading=18, textColor=accent),
            "title": style("title", fontName=bold, fontSize=16, leading=20),
            "h1": style("h1", fontName=bold, fontSize=11.5, leading=14, textColor=accent,
                        spaceBefore=5 * mm, spaceAfter=1.5 * mm, keepWithNext=1),
            "h2": style("h2", fontName=bold, fontSize=10, leading=13, textColor=_TEXT,
                        spaceBefore=3 * mm, spaceAfter=1 * mm, keepWithNext=1),
            "notice": style("notice", fontSize=8.5, leading=11, textColor=_MUTED),
        })

    def paragraph(self, text: str, style: str) -> Paragraph:
        return Paragraph(escape(text), self.styles[style])


@dataclass(frozen=True)
class Text:
    """A paragraph: plain text in one of the :class:`Styles`, wrapped at spaces."""

    text: str
    style: str


@dataclass(frozen=True)
class Gap:
    """Vertical space (a platypus Spacer)."""

    height: float


@dataclass(frozen=True)
class Grid:
    """A table of paragraphs (``None``: an empty cell) with platypus TableStyle commands."""

    rows: list[list[Text | None]]
    widths: list[float]
    commands: list[tuple[Any, ...]]
    repeat_rows: int = 0


@dataclass(frozen=True)
class Picture:
    """An image XObject shared by the documents of a process (the tenant's logo)."""

    image: Any  # reportlab.pdfbase.pdfdoc.PDFImageXObject
    width: float
    height: float


@dataclass(frozen=True)
class Together:
    """Blocks kept on one page (a platypus KeepTogether)."""

    blocks: list[Block]


Block = Text | Gap | Grid | Picture | Together


def flowables(styles: Styles, blocks: Sequence[Block], picture: Any) -> list[Flowable]:
    """The platypus flowables of ``blocks``; ``picture`` makes the flowable of a Picture."""
    out: list[Flowable] = []
    for block in blocks:
        if isinstance(block, Text):
            out.append(styles.paragraph(block.text, block.style))
        elif isinstance(block, Gap):
            out.append(Spacer(1, block.height))
        elif isinstance(block, Grid):
            data = [[styles.paragraph(c.text, c.style) if c else "" for c in row]
                    for row in block.rows]
            table = Table(data, colWidths=block.widths, repeatRows=block.repeat_rows,
                          hAlign="LEFT")
            table.setStyle(TableStyle(block.commands))
            out.append(table)
        elif isinstance(block, Picture):
            out.append(picture(block))
        else:
            out.append(KeepTogether(flowables(styles, block.blocks, picture)))
    return out


def _label_value_table(styles: Styles, rows: Sequence[tuple[str, str]], tint: bool) -> Grid:
    data: list[list[Text | None]] = [[Text(k, "label"), Text(v, "body")] for k, v in rows]
    commands: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -2), 0.4, _RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if tint:
        commands += [
            ("BACKGROUND", (0, 0), (-1, -1), _TINT),
            ("LINEBELOW", (0, 0), (-1, -2), 0.4, colors.white),
        ]
    return Grid(data, [62 * mm, styles.width - 62 * mm], commands)


def info_box(
    styles: Styles, template: CertificateTemplate, language: str, rows: list[tuple[str, str | None]]
) -> Grid:
    """Issuer, subject, references and issue time, on a tinted band."""
    shown = [(template.text(language, name), value) for name, value in rows if value]
    return _label_value_table(styles, shown, tint=True)


def _column_widths(styles: Styles, columns: list[list[str]]) -> list[float]:
    # Natural width fits the longest cell on one line; the minimum keeps every word whole
    # (headers are bold, hence wider).
    def width(text: str, font: str) -> float:
        return float(pdfmetrics.stringWidth(text, font, 8.5)) + 2 * _PAD + 2

    natural = [max(width(t, styles.regular) for t in col[1:] or [""]) for col in columns]
    minimum = [
        max([width(w, styles.bold) for w in col[0].split()]
            + [width(w, styles.regular) for t in col[1:] for w in t.split()] + [0.0])
        for col in columns
    ]
    natural = [max(n, m) for n, m in zip(natural, minimum, strict=True)]
    if sum(natural) <= styles.width:
        return [n * styles.width / sum(natural) for n in natural]
    spare = styles.width - sum(minimum)
    if spare <= 0:  # too many columns: every one gives up the same share
        return [m * styles.width / sum(minimum) for m in minimum]
    stretch = [n - m for n, m in zip(natural, minimum, strict=True)]
    return [m + spare * s / (sum(stretch) or 1) for m, s in zip(minimum, stretch, strict=True)]


def _list_table(
    styles: Styles, template: CertificateTemplate, language: str, key: str,
    items: Sequence[Mapping[str, Any]], caption: str, level: int,
) -> Grid:
    items = [template.fold_address(item) for item in items]
    keys: list[str] = []
    for item in items:
        keys += [k for k in item if k not in keys and not template.hidden(k)]
    header = [template.label(language, k, key) for k in keys]
    body = [[template.value(language, k, item.get(k)) for k in keys] for item in items]
    widths = _column_widths(styles, [list(col) for col in zip(header, *body, strict=True)])
    # The caption is the table's first row, so it repeats with the column headers on every
    # page a long list runs onto, and never stays behind alone at the foot of a page.
    data: list[list[Text | None]] = [
        [Text(caption, "h1" if level == 1 else "h2"), *[None] * (len(keys) - 1)]
    ]
    data += [[Text(h, "head") for h in header]]
    data += [[Text(cell, "cell") for cell in row] for row in body]
    return Grid(data, widths, [
        ("SPAN", (0, 0), (-1, 0)),
        ("LEFTPADDING", (0, 0), (-1, -1), _PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), _PAD),
        ("LEFTPADDING", (0, 0), (0, 0), 0),
        ("BOTTOMPADDING", (0, 0), (-1, 0), 4),
        ("BACKGROUND", (0, 1), (-1, 1), styles.accent),
        ("ROWBACKGROUNDS", (0, 2), (-1, -1), [colors.white, _TINT]),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, -1), (-1, -1), 0.6, styles.accent),
    ], repeat_rows=2)


def _value_line(styles: Styles, text: str) -> Grid:
    return Grid([[Text(text, "body")]], [styles.width],
                [("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)])


def _visible(template: CertificateTemplate, value: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if not template.hidden(k)}


def _is_section(template: CertificateTemplate, value: Any) -> bool:
    # A table of one visible field (a civil status's description) reads better as one line.
    return (isinstance(value, Mapping) and not template.is_address(value)
            and len(_visible(template, value)) > 1)


def _is_table(value: Any) -> bool:
    return (isinstance(value, list | tuple) and bool(value)
            and all(isinstance(v, Mapping) for v in value))


def fact_blocks(
    styles: Styles, template: CertificateTemplate, language: str, facts: Mapping[str, Any],
    parent: str | None = None, level: int = 1,
) -> list[Block]:
    """Scalars as label/value rows; nested tables as headed sections; lists of tables as tables.

    A top-level scalar gets its own heading: after a section, a bare row would read as part of it.
    """
    facts = template.fold_address(facts)
    out: list[Block] = []
    rows: list[tuple[str, str]] = []

    def flush() -> None:
        if rows:
            out.append(_label_value_table(styles, list(rows), tint=False))
            rows.clear()

    for key, value in facts.items():
        if template.hidden(key):
            continue
        label = template.label(language, key, parent)
        if _is_section(template, value):
            flush()
            out.append(Text(label, "h1" if level == 1 else "h2"))
            out += fact_blocks(styles, template, language, value, key, level + 1)
        elif _is_table(value):
            flush()
            out += [Gap((4 if level == 1 else 2) * mm),
                    _list_table(styles, template, language, key, value, label, level)]
        elif level == 1:
            out += [Text(label, "h1"),
                    _value_line(styles, template.value(language, key, value))]
        else:
            rows.append((label, template.value(language, key, value)))
    flush()
    return out


def notice(styles: Styles, paragraphs: list[str]) -> list[Block]:
    """The availability notice and verification hint, kept together on a tinted band."""
    cells: list[list[Text | None]] = [[Text(text, "notice")] for text in paragraphs]
    box = Grid(cells, [styles.width], [
        ("BACKGROUND", (0, 0), (-1, -1), _TINT),
        ("LINEBEFORE", (0, 0), (0, -1), 2, styles.accent),
        ("LEFTPADDING", (0, 0), (-1, -1), 8),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ])
    return [Gap(8 * mm), Together([box])]
