"""The PDF file of one drawn page: its embedded font subsets, images and cross-reference
table (``hub.documents.pdf_draw`` draws the page's content).

Each font is embedded as one subset of the 256 characters Belgian register data uses (ASCII,
Latin-1, the common Central European letters, typographic punctuation), made and compressed
once per process, with its widths and ToUnicode map for text extraction.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportlab.lib.rl_accel import fp_str
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import FF_NONSYMBOLIC, FF_SYMBOLIC, makeToUnicodeCMap

__all__ = [
    "DrawnPdf", "EmbeddedFont", "NotDrawn", "PageSetup", "Revision", "embedded_font",
    "text_string", "write_pdf",
]

# Codes 1-31 and 128-255 of the embedded subset (32-126 are ASCII, as in reportlab's subsets).
# Left out on purpose: no-break space and soft hyphen, which platypus treats specially.
_EXTRA = (
    "–—‘’‚“”„•…€‹›"
    "ĄąĆćĘęŁłŃńŚśŹźŻżČčĎďĚěŇňŘřŠšŤťŮůŽžŐőŰűĞğİıŞş"
    + "".join(chr(c) for c in range(0xA1, 0x100) if c != 0xAD)
)
_CODES = [*range(1, 32), *range(128, 256)]


class NotDrawn(Exception):
    """This document needs platypus: more than a page, a word wider than its column, or a
    character outside the fixed font subset."""


@dataclass(frozen=True)
class PageSetup:
    """The page and its one frame, as SimpleDocTemplate sets them up."""

    width: float
    height: float
    left: float
    right: float
    top: float
    bottom: float


@dataclass(frozen=True)
class Revision:
    """What a later revision of a written file needs (``hub.documents.pdf_increment``): the
    entries of the dictionaries it rewrites and where the cross-reference table is."""

    catalog: str  # the catalog's entries (object 1) but /AcroForm, without the << >>
    page: str  # the page's entries but /Annots
    page_number: int
    size: int  # the trailer's /Size: the next free object number
    info: int  # the information dictionary's object number
    document_id: bytes  # the first string of the trailer's /ID
    startxref: int  # where the last cross-reference section starts
    fields: tuple[int, ...] = ()  # the signature fields (and the page's widgets) so far


class DrawnPdf(bytes):
    """A PDF file :func:`write_pdf` wrote: its bytes, and its :class:`Revision` (so that it is
    signed in one pass). Pickled, it becomes plain bytes."""

    revision: Revision

    def __new__(cls, data: bytes, revision: Revision) -> DrawnPdf:
        self = super().__new__(cls, data)
        self.revision = revision
        return self

    def __reduce__(self) -> tuple[type[bytes], tuple[bytes]]:
        return bytes, (bytes(self),)


def text_string(text: str) -> str:
    """A PDF text string: PDFDocEncoding where it can, UTF-16 otherwise (as reportlab does;
    its codecs, registered by ``pdfmetrics``)."""
    try:
        encoded = text.encode("pdfdoc")
    except UnicodeEncodeError:
        encoded = "\ufeff".encode("utf-16-be") + text.encode("utf-16-be")
    escaped = encoded.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return "(" + escaped.decode("latin-1") + ")"


@dataclass(frozen=True)
class EmbeddedFont:
    """One embedded subset: the code of every character, and its objects' bytes."""

    name: str  # registered reportlab font name, for widths
    codes: Mapping[str, int]
    objects: Callable[[int], list[bytes]]  # first object number -> font, descriptor, cmap, file


def _stream(dictionary: str, data: bytes) -> bytes:
    return (f"<< {dictionary} /Length {len(data)} >>\nstream\n").encode("latin-1") + data + (
        b"\nendstream"
    )


@functools.lru_cache(maxsize=8)
def embedded_font(name: str, path: Path) -> EmbeddedFont:
    face = pdfmetrics.getFont(name).face  # the registered font: the widths platypus uses
    if Path(face.filename) != path:
        raise NotDrawn(f"font {name} is registered from {face.filename}, not {path}")
    subset = [0] * 256
    for code in range(32, 127):
        subset[code] = code
    usable = [c for c in dict.fromkeys(_EXTRA) if ord(c) in face.charToGlyph]
    for code, char in zip(_CODES, usable, strict=False):
        subset[code] = ord(char)
    codes = {chr(u): i for i, u in enumerate(subset) if i and u}
    base = "AAAAAA+" + face.name.decode("latin-1")
    font_file = face.makeSubset(subset)
    widths = " ".join(fp_str(face.getCharWidth(u)) for u in subset)
    flags = (face.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC
    cmap = zlib.compress(makeToUnicodeCMap(base, subset).encode("latin-1"))
    packed = zlib.compress(font_file)

    @functools.cache
    def objects(first: int) -> list[bytes]:
        descriptor, tounicode, file = first + 1, first + 2, first + 3
        return [
            (f"<< /Type /Font /Subtype /TrueType /BaseFont /{base} /FirstChar 0 /LastChar 255 "
             f"/Widths [ {widths} ] /FontDescriptor {descriptor} 0 R "
             f"/ToUnicode {tounicode} 0 R >>").encode("latin-1"),
            (f"<< /Type /FontDescriptor /FontName /{base} /Flags {flags} "
             f"/FontBBox [ {fp_str(*face.bbox)} ] /ItalicAngle {fp_str(face.italicAngle)} "
             f"/Ascent {fp_str(face.ascent)} /Descent {fp_str(face.descent)} "
             f"/CapHeight {fp_str(face.capHeight)} /StemV {fp_str(face.stemV)} "
             f"/MissingWidth {fp_str(face.defaultWidth)} /FontFile2 {file} 0 R >>"
             ).encode("latin-1"),
            _stream("/Filter /FlateDecode", cmap),
            _stream(f"/Filter /FlateDecode /Length1 {len(font_file)}", packed),
        ]

    return EmbeddedFont(name, codes, objects)


@functools.lru_cache(maxsize=64)
def _image_object(image: Any) -> bytes:
    """The image XObject's bytes, from reportlab's encoded image (shared by a process)."""
    if image.mask or getattr(image, "smask", None) or getattr(image, "_decode", None):
        raise NotDrawn("an image with a mask or a decode array")
    filters = " ".join(f"/{f}" for f in image._filters)
    return _stream(
        f"/Type /XObject /Subtype /Image /Width {image.width} /Height {image.height} "
        f"/BitsPerComponent {image.bitsPerComponent} /ColorSpace /{image.colorSpace} "
        f"/Filter [ {filters} ]", image.streamContent)


def write_pdf(
    code: list[str], fonts: Iterable[tuple[str, EmbeddedFont]], pictures: Mapping[str, Any],
    setup: PageSetup, info: Mapping[str, str], catalog: str, document_id: bytes,
) -> DrawnPdf:
    """The file: catalog, page tree, the page, its content stream (``code``), its ``fonts``
    (resource name, font) and ``pictures`` (XObject name -> Picture), the information
    dictionary."""
    content = zlib.compress("\n".join(code).encode("latin-1"))
    objects: list[bytes] = [b"", b""]  # 1 catalog, 2 pages: filled in below
    page_number = 3
    objects.append(b"")
    objects.append(_stream("/Filter /FlateDecode", content))
    font_refs = []
    for resource, font in fonts:
        first = len(objects) + 1
        objects += font.objects(first)
        font_refs.append(f"/{resource} {first} 0 R")
    image_refs = []
    for name, picture in pictures.items():
        objects.append(_image_object(picture.image))
        image_refs.append(f"/{name} {len(objects)} 0 R")
    info_number = len(objects) + 1
    objects.append(("<< " + " ".join(f"/{k} {v}" for k, v in info.items()) + " >>")
                   .encode("latin-1"))
    catalog = f"/Type /Catalog /Pages 2 0 R {catalog}"
    objects[0] = f"<< {catalog} >>".encode("latin-1")
    objects[1] = f"<< /Type /Pages /Kids [ {page_number} 0 R ] /Count 1 >>".encode("latin-1")
    resources = f"/Font << {' '.join(font_refs)} >> /ProcSet [ /PDF /Text /ImageB /ImageC /ImageI ]"
    if image_refs:
        resources += f" /XObject << {' '.join(image_refs)} >>"
    page = (f"/Type /Page /Parent 2 0 R /MediaBox [ 0 0 {fp_str(setup.width)} "
            f"{fp_str(setup.height)} ] /Resources << {resources} >> /Contents 4 0 R /Rotate 0")
    objects[2] = f"<< {page} >>".encode("latin-1")
    out = [b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"]
    offsets = []
    position = len(out[0])
    for number, body in enumerate(objects, start=1):
        chunk = b"%d 0 obj\n" % number + body + b"\nendobj\n"
        offsets.append(position)
        out.append(chunk)
        position += len(chunk)
    xref = [b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)]
    xref += [b"%010d 00000 n \n" % offset for offset in offsets]
    identifier = document_id.hex().encode("ascii")
    out += xref
    out.append(b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R /ID [ <%s> <%s> ] >>\n"
               b"startxref\n%d\n%%%%EOF\n"
               % (len(objects) + 1, info_number, identifier, identifier, position))
    return DrawnPdf(b"".join(out), Revision(
        catalog, page, page_number, len(objects) + 1, info_number, document_id, position))
