"""Render a :class:`~hub.ports.CertificateModel` to a readable A4 PDF.

Layout: the tenant's logo, the title, a box with issuer, subject, references and issue time, the
facts (a nested table is a labelled section, a list of tables a table that breaks across pages
with its header repeated), then the 3-month availability notice and the verification hint.

A certificate that fits on one page (nearly all) is written by :mod:`hub.documents.pdf_draw`,
about 1 ms of CPU; a longer one goes through reportlab's platypus (page breaks, repeated table
headers), 10 ms and more. Both lay out the same blocks with the same geometry.

The bytes are a function of the inputs only: the creation date is the issue time and the
document /ID is derived from the content (reportlab's invariant mode on the platypus path), so
re-rendering a retried job gives the same file.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import hashlib
import json
from io import BytesIO
from pathlib import Path
from typing import Any, Literal

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.platypus import SimpleDocTemplate
from reportlab.platypus.flowables import Flowable

from hub.config import TenantSettings
from hub.documents.pdf_draw import FooterText, NotDrawn, PageSetup, draw_document
from hub.documents.pdf_layout import (
    Block,
    Gap,
    Picture,
    Styles,
    Text,
    fact_blocks,
    flowables,
    info_box,
    notice,
)
from hub.documents.pdf_objects import text_string
from hub.documents.pdf_template import (
    DEFAULT_LOGO_DIR,
    DEFAULT_TEMPLATE,
    CertificateTemplate,
    load_template,
)
from hub.documents.render import AVAILABILITY
from hub.ports import CertificateModel

__all__ = ["render_certificate_pdf"]

# ASCII85 only makes streams survive 7-bit channels; ours travel as bytes (base64 in the reply).
# Left on, it costs 6 ms per certificate in pure Python and makes the file larger.
rl_config.useA85 = 0
_FOOTER_SIZE = 7.5
_FOOTER_COLOUR = colors.HexColor("#6b7280")
_FOOTER_Y = 10 * mm


def _fingerprint(model: CertificateModel, tenant: TenantSettings, *parts: object) -> bytes:
    payload = json.dumps(
        [model.kind, model.title, model.language, model.subject_identifier, model.facts,
         tenant.slug, tenant.name, *parts],
        sort_keys=True, default=str, ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).digest()


def _canvas_class(issued_at: dt.datetime, fingerprint: bytes, footer: Any) -> type:
    """A canvas that numbers pages "n of N", dates the file at issue time and fixes its /ID."""
    from reportlab.pdfgen.canvas import Canvas

    stamp = issued_at.astimezone(dt.UTC).strftime("D:%Y%m%d%H%M%S+00'00'")

    class CertificateCanvas(Canvas):  # type: ignore[misc]  # reportlab is untyped
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.setDateFormatter(lambda *_: stamp)
            # Without this, invariant mode gives every document of one title the same /ID.
            self._doc.updateSignature(fingerprint)
            self._certificate_pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._certificate_pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for number, state in enumerate(self._certificate_pages, start=1):
                self.__dict__.update(state)
                footer(self, number, len(self._certificate_pages))
                super().showPage()
            super().save()

    return CertificateCanvas


class _Logo(Flowable):  # type: ignore[misc]  # reportlab is untyped
    """A tenant's logo, drawn from an image object encoded once per process.

    reportlab's own image flowable decodes the PNG and deflates its pixels again for every
    document: 4.7 ms of a 21 ms certificate. The encoded image object depends on the file only,
    so every document of the process shares it. Registration mirrors ``Canvas.drawImage``.
    """

    def __init__(self, image: pdfdoc.PDFImageXObject, width: float, height: float) -> None:
        super().__init__()
        self.image, self.width, self.height = image, width, height
        self.hAlign = "LEFT"

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canvas, name = self.canv, self.image.name
        document = canvas._doc
        registered = document.getXObjectName(name)
        if registered not in document.idToObject:
            # A document marks the objects it registers: each gets its own shallow copy (the
            # encoded bytes are shared, not copied).
            image = copy.copy(self.image)
            document.Reference(image, registered)
            document.addForm(name, image)
        canvas.saveState()
        canvas.scale(self.width, self.height)
        canvas._code.append(f"/{registered} Do")
        canvas.restoreState()
        canvas._formsinuse.append(name)


@functools.lru_cache(maxsize=64)
def _encoded_image(path: Path, _mtime_ns: int, _size: int) -> pdfdoc.PDFImageXObject:
    # The file's time and size are part of the key: a replaced logo is read again.
    name = "Logo" + hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return pdfdoc.PDFImageXObject(name, str(path))


def _logo(path: Path, height: float) -> Picture | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    image = _encoded_image(path, stat.st_mtime_ns, stat.st_size)
    return Picture(image, height * image.width / image.height, height)


_STYLES: dict[tuple[int, str, float], Styles] = {}


def _styles(template: CertificateTemplate, accent: str, width: float) -> Styles:
    """The paragraph styles of one template and accent colour, built once per process."""
    key = (id(template), accent, width)
    if key not in _STYLES:
        _STYLES[key] = Styles.build(template, colors.HexColor(accent), width)
    return _STYLES[key]


def render_certificate_pdf(
    model: CertificateModel,
    *,
    tenant: TenantSettings,
    reference: str,
    backend_reference: str | None,
    issued_at: dt.datetime,
    template_path: Path = DEFAULT_TEMPLATE,
    logo_dir: Path = DEFAULT_LOGO_DIR,
    engine: Literal["direct", "platypus"] | None = None,
    signer: str | None = None,
) -> bytes:
    """The unsigned PDF certificate; same inputs, same bytes. A page the direct writer drew
    is a :class:`~hub.documents.pdf_objects.DrawnPdf`, which the PAdES signer signs in one
    pass; a platypus page is plain bytes.

    ``signer``: who will sign it, as its certificate names the organisation (the notice says
    so); default the tenant's name.

    ``engine``: by default the direct writer, and platypus where it does not draw the document;
    ``"direct"`` raises :class:`~hub.documents.pdf_draw.NotDrawn` instead, ``"platypus"`` skips
    it (tests and ``benchmarks/documents.py`` compare the two).
    """
    template = load_template(template_path)
    language = template.language(model.language)
    margin = float(template.page["margin_mm"]) * mm
    styles = _styles(template, template.accent(tenant.slug), A4[0] - 2 * margin)
    story = _story(model, tenant, template, language, styles, logo_dir, signer or tenant.name,
                   (reference, backend_reference, issued_at))
    footer_text = f"{tenant.name} · {template.text(language, 'reference')} {reference}"
    fingerprint = _fingerprint(model, tenant, reference, backend_reference, issued_at.isoformat())
    bottom = margin + 6 * mm

    try:
        if engine == "platypus":
            raise NotDrawn("platypus asked for")
        numbering = template.text(language, "page", page="1", pages="1")
        right = A4[0] - margin - pdfmetrics.stringWidth(numbering, styles.regular, _FOOTER_SIZE)
        stamp = text_string(issued_at.astimezone(dt.UTC).strftime("D:%Y%m%d%H%M%S+00'00'"))
        return draw_document(
            styles, PageSetup(A4[0], A4[1], margin, margin, margin, bottom), story,
            [FooterText(styles.regular, _FOOTER_SIZE, _FOOTER_COLOUR, x, _FOOTER_Y, text)
             for x, text in ((margin, footer_text), (right, numbering))],
            info={"Title": text_string(model.title), "Author": text_string(tenant.name),
                  "Subject": text_string(model.kind), "Creator": "(loket-hub)",
                  "Producer": "(loket-hub)", "CreationDate": stamp, "ModDate": stamp,
                  "Trapped": "/False"},
            catalog=f"/Lang {text_string(language)} /PageMode /UseNone "
                    "/ViewerPreferences << /DisplayDocTitle true >>",
            document_id=fingerprint[:16],
            fonts={styles.regular: template.font("regular"), styles.bold: template.font("bold")},
        )
    except NotDrawn:
        if engine == "direct":
            raise
        # more than a page, or something only platypus lays out: on to platypus

    return _platypus(styles, story, template, language, (margin, bottom), footer_text,
                     model, tenant.name, issued_at, fingerprint)


def _story(
    model: CertificateModel, tenant: TenantSettings, template: CertificateTemplate,
    language: str, styles: Styles, logo_dir: Path, signer: str,
    job: tuple[str, str | None, dt.datetime],
) -> list[Block]:
    """The blocks of the certificate: logo, title, the information box, the facts, the notice
    (which names ``signer``); ``job``: reference, back-end reference, issue time."""
    reference, backend_reference, issued_at = job
    until = template.date(language, (issued_at + AVAILABILITY).date())
    story: list[Block] = []
    logo = _logo(logo_dir / f"{tenant.slug}.png", float(template.page["logo_height_mm"]) * mm)
    story.append(logo if logo is not None else Text(tenant.name, "issuer"))
    story += [Gap(6 * mm), Text(model.title, "title"), Gap(4 * mm)]
    story.append(
        info_box(styles, template, language, [
            ("issued_by", tenant.name),
            ("subject", template.value(language, "Identifier", model.subject_identifier)),
            ("reference", reference),
            ("backend_reference", backend_reference),
            ("issued_on", template.moment(language, issued_at)),
        ])
    )
    story += fact_blocks(styles, template, language, model.facts)
    story += notice(styles, [
        template.text(language, "availability", until=until),
        template.text(language, "verification", issuer=signer),
    ])
    return story


def _platypus(
    styles: Styles, story: list[Block], template: CertificateTemplate, language: str,
    margins: tuple[float, float], footer_text: str, model: CertificateModel, author: str,
    issued_at: dt.datetime, fingerprint: bytes,
) -> bytes:
    """The certificate laid out by platypus (more than a page, or what the direct writer does
    not draw); ``margins``: the page margin and the frame's bottom."""
    margin, bottom = margins

    def footer(canvas: Any, page: int, pages: int) -> None:
        canvas.saveState()
        canvas.setFont(styles.regular, _FOOTER_SIZE)
        canvas.setFillColor(_FOOTER_COLOUR)
        canvas.drawString(margin, _FOOTER_Y, footer_text)
        numbering = template.text(language, "page", page=str(page), pages=str(pages))
        canvas.drawRightString(A4[0] - margin, _FOOTER_Y, numbering)
        canvas.restoreState()

    out = BytesIO()
    document = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=margin, rightMargin=margin, topMargin=margin,
        bottomMargin=bottom, invariant=1, pageCompression=1, displayDocTitle=1,
        title=model.title, author=author, subject=model.kind, creator="loket-hub",
        lang=language,
    )
    document.build(flowables(styles, story, lambda p: _Logo(p.image, p.width, p.height)),
                   canvasmaker=_canvas_class(issued_at, fingerprint, footer))
    return out.getvalue()
