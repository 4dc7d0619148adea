"""A small A4 page writer on reportlab's canvas: titles, labelled fields, wrapped text, a QR code.

Output is a function of the inputs only: reportlab's invariant mode, the creation date set by
the caller, and a document /ID derived from a fingerprint of the content. Standard fonts are
not embedded, so a document stays a few kilobytes and ``pdftotext`` reads it as written.
"""

from __future__ import annotations

import hashlib
from datetime import date
from io import BytesIO

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

__all__ = ["PdfWriter", "dutch_date"]

_FONT, _BOLD = "Helvetica", "Helvetica-Bold"
_MARGIN = 20 * mm
_LABEL_WIDTH = 50 * mm
_NOTICE = ("Gesimuleerd document, gemaakt door de MAGDA-simulator van loket-hub: geen echte "
           "persoon, geen geldig document.")


def dutch_date(day: date) -> str:
    """``dd-mm-jjjj``, as Belgian documents print a date."""
    return f"{day.day:02d}-{day.month:02d}-{day.year}"


class PdfWriter:
    """Writes one document top to bottom, starting a new page when the current one is full."""

    def __init__(self, title: str, *, dated: date, fingerprint: str) -> None:
        self._buffer = BytesIO()
        canvas = Canvas(self._buffer, pagesize=A4, invariant=1, pageCompression=1)
        stamp = f"D:{dated:%Y%m%d}000000+00'00'"
        canvas.setDateFormatter(lambda *_: stamp)
        # Invariant mode alone gives every document with the same title the same /ID.
        canvas._doc.updateSignature(hashlib.sha256(fingerprint.encode()).hexdigest())
        canvas.setTitle(title)
        canvas.setAuthor("MAGDA-simulator (loket-hub)")
        canvas.setCreator("loket-hub simulators")
        self._canvas = canvas
        self._width, self._height = A4
        self._y = self._height - _MARGIN
        self._text_width = self._width - 2 * _MARGIN

    def title(self, text: str) -> None:
        """A large bold heading."""
        self._lines(text, _BOLD, 16, indent=0.0)
        self.gap(3)

    def heading(self, text: str) -> None:
        """A section heading."""
        self.gap(4)
        self._lines(text, _BOLD, 12, indent=0.0)
        self.gap(1)

    def text(self, text: str, *, size: float = 10) -> None:
        """A paragraph, wrapped to the page width."""
        self._lines(text, _FONT, size, indent=0.0)

    def field(self, label: str, value: str) -> None:
        """``label`` in bold, ``value`` wrapped beside it."""
        lines = simpleSplit(value, _FONT, 10, self._text_width - _LABEL_WIDTH) or [""]
        self._room(len(lines) * 14)
        self._canvas.setFont(_BOLD, 10)
        self._canvas.drawString(_MARGIN, self._y - 10, label)
        self._lines(value, _FONT, 10, indent=_LABEL_WIDTH)

    def gap(self, millimetres: float) -> None:
        """Vertical space."""
        self._y -= millimetres * mm

    def qr_code(self, value: str, *, size: float = 30 * mm) -> None:
        """A QR code of ``value`` at the left margin."""
        self._room(size + 4)
        widget = QrCodeWidget(value)
        left, bottom, right, top = widget.getBounds()
        drawing = Drawing(size, size, transform=[size / (right - left), 0, 0,
                                                 size / (top - bottom), 0, 0])
        drawing.add(widget)
        renderPDF.draw(drawing, self._canvas, _MARGIN, self._y - size)
        self._y -= size + 4

    def finish(self) -> bytes:
        """Close the document with the simulator notice; the PDF's bytes."""
        self.gap(8)
        self.text(_NOTICE, size=8)
        self._canvas.showPage()
        self._canvas.save()
        return self._buffer.getvalue()

    def _lines(self, text: str, font: str, size: float, *, indent: float) -> None:
        leading = size * 1.4
        for line in simpleSplit(text, font, size, self._text_width - indent) or [""]:
            self._room(leading)
            self._canvas.setFont(font, size)
            self._canvas.drawString(_MARGIN + indent, self._y - size, line)
            self._y -= leading

    def _room(self, needed: float) -> None:
        if self._y - needed < _MARGIN:
            self._canvas.showPage()
            self._y = self._height - _MARGIN
