"""A one-page certificate written straight to PDF, with platypus's geometry and none of its cost.

reportlab's platypus spends ~10 ms on a household certificate: every cell a parsed Paragraph,
tables measured several times, a font subset made and compressed per document. This module
draws the same blocks (:mod:`hub.documents.pdf_layout`) itself: the same line breaks (platypus's
greedy rule, 5 % space shrinkage), the same frame, paddings, row heights and rules, the same
drawing operators, so the page looks the same (``tests/documents/test_pdf_pixels.py``). What is
fixed per process is made once: the embedded font subsets (:mod:`hub.documents.pdf_objects`,
which also writes the file).

It only draws what fits on one page and only text it can encode; anything else raises
:class:`NotDrawn` and the caller lays the document out with platypus instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportlab.lib.rl_accel import fp_str
from reportlab.pdfbase import pdfmetrics

from hub.documents.pdf_layout import Block, Gap, Grid, Picture, Styles, Text, Together
from hub.documents.pdf_objects import (
    DrawnPdf,
    EmbeddedFont,
    NotDrawn,
    PageSetup,
    embedded_font,
    write_pdf,
)

__all__ = ["FooterText", "NotDrawn", "PageSetup", "draw_document"]

_FUZZ = 1e-6  # reportlab's rl_config._FUZZ
_SPACE_SHRINK = 0.05  # rl_config.spaceShrinkage
_FRAME_PAD = 6.0  # a platypus Frame's default padding on every side
# Table cell defaults (reportlab CellStyle): padding, and the leading of a string cell.
_CELL_PAD = {"LEFTPADDING": 6.0, "RIGHTPADDING": 6.0, "TOPPADDING": 3.0, "BOTTOMPADDING": 3.0}
_STRING_CELL_LEADING = 12.0

# PDF literal string bytes: ( ) \ escaped, codes outside printable ASCII as octal.
_ESCAPED = [
    f"\\{c:03o}" if c < 32 or c > 126 else ("\\" + chr(c) if chr(c) in "()\\" else chr(c))
    for c in range(256)
]


class _Page:
    """The content stream of one page and the fonts it uses."""

    def __init__(self, fonts: Mapping[str, tuple[str, EmbeddedFont]]) -> None:
        self.code: list[str] = []
        self.fonts = fonts  # reportlab font name -> (resource name, font)
        self.pictures: dict[str, Picture] = {}

    def literal(self, font: str, text: str) -> str:
        codes = self.fonts[font][1].codes
        try:
            return "(" + "".join(_ESCAPED[codes[c]] for c in text) + ")"
        except KeyError as missing:  # the character only: the text may be personal data
            raise NotDrawn(
                f"a character outside the embedded subset: U+{ord(missing.args[0]):04X}"
            ) from None


def _colour(colour: Any, op: str) -> str:
    return f"{fp_str(colour.red, colour.green, colour.blue)} {op}"


@dataclass
class _Lines:
    """A paragraph broken into lines, as platypus's Paragraph.breakLines (kind 0) does."""

    text: Text
    lines: list[tuple[float, list[str]]]
    height: float


def _break(styles: Styles, block: Text, width: float) -> _Lines:
    style = styles.styles[block.style]
    font, size = style.fontName, style.fontSize
    words = block.text.split()
    space = pdfmetrics.stringWidth(" ", font, size)
    lines: list[tuple[float, list[str]]] = []
    line: list[str] = []
    current = -space
    for word in words:
        word_width = pdfmetrics.stringWidth(word, font, size)
        new = current + space + word_width
        limit = width + _SPACE_SHRINK * space * len(line)
        if new > limit and word_width > width:
            raise NotDrawn(f"a word wider than its column ({len(word)} characters)")
        if new <= limit or not line:
            line.append(word)
            current = new
        else:
            lines.append((width - current, line))
            line, current = [word], word_width
    if line:
        lines.append((width - current, line))
    return _Lines(block, lines, len(lines) * style.leading)


def _draw_text(page: _Page, styles: Styles, para: _Lines, x: float, y: float) -> None:
    """A Paragraph's drawOn: translated to its lower left corner, lines from the top."""
    if not para.lines:
        return
    style = styles.styles[para.text.style]
    resource = page.fonts[style.fontName][0]
    code = page.code
    code.append(f"q\n1 0 0 1 {fp_str(x, y)} cm\nq\n{_colour(style.textColor, 'rg')}")
    parts = [f"BT 1 0 0 1 0 {fp_str(para.height - style.fontSize)} Tm "
             f"/{resource} {fp_str(style.fontSize)} Tf {fp_str(style.leading)} TL"]
    for extra, words in para.lines:
        literal = page.literal(style.fontName, " ".join(words))
        if extra > -1e-8 or len(words) <= 1:
            parts.append(f"{literal} Tj T*")
        else:  # a line fitted by shrinking its spaces
            parts.append(f"{fp_str(extra / (len(words) - 1))} Tw {literal} Tj T* 0 Tw")
    code.append(" ".join(parts) + " ET\nQ\nQ")


class _Table:
    """A Grid measured as platypus's Table measures it (fixed column widths, TOP alignment)."""

    def __init__(self, styles: Styles, grid: Grid) -> None:
        self.grid, self.styles = grid, styles
        rows, cols = len(grid.rows), len(grid.widths)
        self.pad = [[dict(_CELL_PAD) for _ in range(cols)] for _ in range(rows)]
        self.background: list[tuple[str, tuple[int, int], tuple[int, int], Any]] = []
        self.lines: list[tuple[str, tuple[int, int], tuple[int, int], float, Any]] = []
        self.spans: list[tuple[tuple[int, int], tuple[int, int]]] = []
        for command in grid.commands:
            op, start, stop, *args = command
            (sc, sr), (ec, er) = self._norm(start, stop)
            if op in _CELL_PAD:
                for r in range(sr, er + 1):
                    for c in range(sc, ec + 1):
                        self.pad[r][c][op] = float(args[0])
            elif op in ("BACKGROUND", "ROWBACKGROUNDS"):
                self.background.append((op, (sc, sr), (ec, er), args[0]))
            elif op in ("LINEBELOW", "LINEBEFORE") and len(args) == 2:
                self.lines.append((op, (sc, sr), (ec, er), float(args[0]), args[1]))
            elif op == "SPAN" and sr == er:
                self.spans.append(((sc, sr), (ec, er)))
            elif op == "VALIGN" and args[0] == "TOP":
                pass
            else:
                raise NotDrawn(f"table command {op} {args}")
        self.colpositions = [0.0]
        width = 0.0
        for w in grid.widths:
            width = width + w
            self.colpositions.append(width)
        self.width = width
        self.cells: dict[tuple[int, int], _Lines] = {}
        heights = self._row_heights(styles, grid)
        # Row positions from the bottom up, with reportlab's compensated sum.
        positions: list[float] = []
        height = comp = 0.0
        for h in reversed(heights):
            positions.append(height)
            y = h - comp
            t = height + y
            comp = (t - height) - y
            height = t
        positions.append(height)
        positions.reverse()
        self.rowpositions, self.heights, self.height = positions, heights, height

    def _row_heights(self, styles: Styles, grid: Grid) -> list[float]:
        """Each row's height; the cells' lines broken into ``self.cells``."""
        covered = {(c, r) for (sc, r), (ec, _) in self.spans for c in range(sc + 1, ec + 1)}
        heights: list[float] = []
        for r, row in enumerate(grid.rows):
            h = 0.0
            for c, cell in enumerate(row):
                pad = self.pad[r][c]
                if cell is None:  # an empty string cell: one line of the default leading
                    t = _STRING_CELL_LEADING
                else:
                    if (c, r) in covered:
                        raise NotDrawn("text in a spanned cell")
                    w = self._span_width(c, r)
                    lines = _break(styles, cell, w - pad["LEFTPADDING"] - pad["RIGHTPADDING"])
                    self.cells[c, r] = lines
                    t = lines.height
                t += pad["BOTTOMPADDING"] + pad["TOPPADDING"]
                h = max(h, t)
            heights.append(h)
        return heights

    def _norm(self, start: tuple[int, int], stop: tuple[int, int]) -> tuple[tuple[int, int], ...]:
        rows, cols = len(self.grid.rows), len(self.grid.widths)
        (sc, sr), (ec, er) = start, stop
        return ((sc + cols if sc < 0 else sc, sr + rows if sr < 0 else sr),
                (ec + cols if ec < 0 else ec, er + rows if er < 0 else er))

    def _span_width(self, c: int, r: int) -> float:
        for (sc, sr), (ec, _) in self.spans:
            if (sc, sr) == (c, r):
                return self.colpositions[ec + 1] - self.colpositions[sc]
        return self.grid.widths[c]

    def draw(self, page: _Page, x: float, y: float) -> None:
        code = page.code
        code.append(f"q\n1 0 0 1 {fp_str(x, y)} cm\nq")
        rows, cols = len(self.grid.rows), len(self.grid.widths)
        for op, (sc, sr), (ec, er), arg in self.background:
            x0, y0 = self.colpositions[sc], self.rowpositions[sr]
            w = self.colpositions[min(ec + 1, cols)] - x0
            if op == "ROWBACKGROUNDS":
                for i in range(er - sr + 1):
                    fill, h = arg[i % len(arg)], self.heights[sr + i]
                    if fill:
                        code.append(f"{_colour(fill, 'rg')}\n"
                                    f"n {fp_str(x0, y0, w, -h)} re f*")
                    y0 = y0 - h
            else:
                h = self.rowpositions[min(er + 1, rows)] - y0
                code.append(f"{_colour(arg, 'rg')}\nn {fp_str(x0, y0, w, h)} re f*")
        for (c, r), lines in self.cells.items():
            pad = self.pad[r][c]
            top = self.rowpositions[r + 1] + self.heights[r] - pad["TOPPADDING"]
            _draw_text(page, self.styles, lines, self.colpositions[c] + pad["LEFTPADDING"],
                       top - lines.height)
        if self.lines:
            code.append("q\n1 J\n1 j")
            colour: Any = None
            weight: float | None = None
            for op, (sc, sr), (ec, er), line_weight, line_colour in self.lines:
                if line_colour != colour:
                    code.append(_colour(line_colour, "RG"))
                    colour = line_colour
                if line_weight != weight:
                    code.append(f"{fp_str(line_weight)} w")
                    weight = line_weight
                if op == "LINEBELOW":
                    x0, x1 = self.colpositions[sc], self.colpositions[ec + 1]
                    for y1 in self.rowpositions[sr + 1:er + 2]:
                        code.append(f"n {fp_str(x0, y1)} m {fp_str(x1, y1)} l S")
                else:  # LINEBEFORE
                    y0, y1 = self.rowpositions[er + 1], self.rowpositions[sr]
                    for x1 in self.colpositions[sc:ec + 1]:
                        code.append(f"n {fp_str(x1, y0)} m {fp_str(x1, y1)} l S")
            code.append("Q")
        code.append("Q\nQ")


def _flatten(blocks: Iterable[Block]) -> list[Text | Gap | Grid | Picture]:
    # On a page it fits on, a KeepTogether is its content laid out one after the other.
    out: list[Text | Gap | Grid | Picture] = []
    for block in blocks:
        out += _flatten(block.blocks) if isinstance(block, Together) else [block]
    return out


def _space(styles: Styles, block: Block, which: str) -> float:
    if isinstance(block, Text):
        return float(getattr(styles.styles[block.style], which))
    return 0.0


@dataclass(frozen=True)
class FooterText:
    """A string drawn at a point of the page (drawString): font, size, colour, baseline."""

    font: str
    size: float
    colour: Any
    x: float
    y: float
    text: str


def draw_document(
    styles: Styles,
    setup: PageSetup,
    blocks: Sequence[Block],
    footer: Sequence[FooterText],
    info: Mapping[str, str],
    catalog: str,
    document_id: bytes,
    fonts: Mapping[str, Path],
) -> DrawnPdf:
    """The PDF of ``blocks`` on one page, laid out in a platypus frame of ``setup``.

    ``footer``: strings drawn last, in one saved graphics state; ``info``: the document
    information dictionary, its values PDF objects already (``(Stad Gent)``); ``catalog``:
    more catalog entries; ``fonts``: reportlab font name -> TrueType file, the order of the
    resource names.
    """
    page = _Page({name: (f"F{i}", embedded_font(name, path)) for i, (name, path) in
                  enumerate(fonts.items(), start=1)})
    frame_x = setup.left + _FRAME_PAD
    frame_width = setup.width - setup.left - setup.right - 2 * _FRAME_PAD
    y = setup.height - setup.top - _FRAME_PAD
    floor = setup.bottom + _FRAME_PAD
    at_top, previous_after = True, 0.0
    for block in _flatten(blocks):
        space = 0.0
        if not at_top:
            space = max(_space(styles, block, "spaceBefore") - previous_after, 0.0)
        para: _Lines | None = None
        table: _Table | None = None
        if isinstance(block, Text):
            para = _break(styles, block, frame_width)
            height = para.height
        elif isinstance(block, Grid):
            table = _Table(styles, block)
            height = table.height
        else:
            height = block.height
        if height <= 0 and not isinstance(block, Gap):
            raise NotDrawn("an empty block")
        new_y = y - height - space
        if new_y < floor - _FUZZ:
            raise NotDrawn("more than one page")
        if para is not None:
            _draw_text(page, styles, para, frame_x, new_y)
        elif table is not None:
            table.draw(page, frame_x, new_y)
        elif isinstance(block, Picture):
            _draw_picture(page, block, frame_x, new_y)
        after = _space(styles, block, "spaceAfter")
        new_y -= after
        previous_after = after
        if new_y != y:
            at_top = False
        y = new_y
    if footer:
        _draw_footer(page, footer)
    return write_pdf(page.code, page.fonts.values(), page.pictures, setup, info, catalog,
                     document_id)


def _draw_footer(page: _Page, footer: Sequence[FooterText]) -> None:
    code = ["q"]
    colour = None
    for item in footer:
        if item.colour != colour:
            code.append(_colour(item.colour, "rg"))
            colour = item.colour
        code.append(f"BT 1 0 0 1 {fp_str(item.x, item.y)} Tm "
                    f"/{page.fonts[item.font][0]} {fp_str(item.size)} Tf "
                    f"{fp_str(item.size * 1.2)} TL {page.literal(item.font, item.text)} "
                    "Tj T* ET")
    page.code.append("\n".join([*code, "Q"]))


def _draw_picture(page: _Page, picture: Picture, x: float, y: float) -> None:
    name = picture.image.name
    page.pictures[name] = picture
    page.code.append(f"q\n1 0 0 1 {fp_str(x, y)} cm\nq\n"
                     f"{fp_str(picture.width)} 0 0 {fp_str(picture.height)} 0 0 cm\n"
                     f"/{name} Do\nQ\nQ")
