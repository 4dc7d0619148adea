"""Render a :class:`~hub.ports.CertificateModel` to a readable A4 PDF (reportlab).

Layout: the tenant's logo, the title, a box with issuer, subject, references and issue time, the
facts (a nested table is a labelled section, a list of tables a table that breaks across pages
with its header repeated), then the 3-month availability notice and the verification hint.

The bytes are a function of the inputs only: reportlab's invariant mode, the creation date set to
the issue time, and a document /ID derived from the content, so re-rendering a retried job gives
the same file.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import hashlib
import json
from io import BytesIO
from pathlib import Path
from typing import Any

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc
from reportlab.platypus import SimpleDocTemplate, Spacer
from reportlab.platypus.flowables import Flowable

from hub.config import TenantSettings
from hub.documents.pdf_layout import Styles, fact_flowables, info_box, notice
from hub.documents.pdf_template import DEFAULT_LOGO_DIR, DEFAULT_TEMPLATE, load_template
from hub.documents.render import AVAILABILITY
from hub.ports import CertificateModel

__all__ = ["render_certificate_pdf"]

# ASCII85 only makes streams survive 7-bit channels; ours travel as bytes (base64 in the reply).
# Left on, it costs 6 ms per certificate in pure Python and makes the file larger.
rl_config.useA85 = 0


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


def _logo(path: Path, height: float) -> Flowable | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    image = _encoded_image(path, stat.st_mtime_ns, stat.st_size)
    return _Logo(image, height * image.width / image.height, height)


def render_certificate_pdf(
    model: CertificateModel,
    *,
    tenant: TenantSettings,
    reference: str,
    backend_reference: str | None,
    issued_at: dt.datetime,
    template_path: Path = DEFAULT_TEMPLATE,
    logo_dir: Path = DEFAULT_LOGO_DIR,
) -> bytes:
    """The unsigned PDF certificate; same inputs, same bytes."""
    template = load_template(template_path)
    language = template.language(model.language)
    margin = float(template.page["margin_mm"]) * mm
    accent = colors.HexColor(template.accent(tenant.slug))
    styles = Styles.build(template, accent, A4[0] - 2 * margin)
    until = template.date(language, (issued_at + AVAILABILITY).date())

    story: list[Flowable] = []
    logo = _logo(logo_dir / f"{tenant.slug}.png", float(template.page["logo_height_mm"]) * mm)
    story.append(logo if logo is not None else styles.paragraph(tenant.name, "issuer"))
    story += [Spacer(1, 6 * mm), styles.paragraph(model.title, "title"), Spacer(1, 4 * mm)]
    story.append(
        info_box(styles, template, language, [
            ("issued_by", tenant.name),
            ("subject", template.value(language, "Identifier", model.subject_identifier)),
            ("reference", reference),
            ("backend_reference", backend_reference),
            ("issued_on", template.moment(language, issued_at)),
        ])
    )
    story += fact_flowables(styles, template, language, model.facts)
    story += notice(styles, [
        template.text(language, "availability", until=until),
        template.text(language, "verification", issuer=tenant.name),
    ])

    def footer(canvas: Any, page: int, pages: int) -> None:
        canvas.saveState()
        canvas.setFont(styles.regular, 7.5)
        canvas.setFillColor(colors.HexColor("#6b7280"))
        text = f"{tenant.name} · {template.text(language, 'reference')} {reference}"
        canvas.drawString(margin, 10 * mm, text)
        numbering = template.text(language, "page", page=str(page), pages=str(pages))
        canvas.drawRightString(A4[0] - margin, 10 * mm, numbering)
        canvas.restoreState()

    out = BytesIO()
    document = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=margin, rightMargin=margin, topMargin=margin,
        bottomMargin=margin + 6 * mm, invariant=1, pageCompression=1, displayDocTitle=1,
        title=model.title, author=tenant.name, subject=model.kind, creator="loket-hub",
        lang=language,
    )
    fingerprint = _fingerprint(model, tenant, reference, backend_reference, issued_at.isoformat())
    document.build(story, canvasmaker=_canvas_class(issued_at, fingerprint, footer))
    return out.getvalue()
