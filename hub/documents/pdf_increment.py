"""The signature revision of a PDF this hub drew, written directly (ISO 32000-1 7.5.6, 12.8).

A file :func:`hub.documents.pdf_objects.write_pdf` wrote is known object by object, so the
incremental update that signs it needs no PDF parser: the catalog again, with the signature
form (``/AcroForm``, ``/SigFlags 3``), the PAdES extension (``/Extensions /ESIC``) and the
document security store when the level asks for it; the page again, with the signature field's
widget in ``/Annots``; the invisible field; the signature dictionary (``/ETSI.CAdES.detached``)
with room for the CMS; a cross-reference section and a trailer that point back to the first.
The ``/ByteRange`` covers the whole file but the ``/Contents`` string; its SHA-256 is what the
CMS signs (:class:`hub.documents.cms.CmsSigner`).

At B-LTA a second revision of the same shape adds the document time stamp (``/DocTimeStamp``,
``/ETSI.RFC3161``: the TSA's token over that byte range) in a field of its own.

That is what pyHanko's ``PdfSigner`` and ``PdfTimeStamper`` write into such a file, object for
object (the same entries, the same fields; pyHanko also rewrites the information dictionary
to name itself), without reading the file back and writing it through its object model, most
of a signature's CPU before (``docs/performance.md``). Any other PDF (a back-end act to seal,
a page laid out by platypus) is signed by pyHanko (:mod:`hub.documents.pdf_signature`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable, Sequence

from hub.documents.pdf_objects import DrawnPdf, text_string
from hub.errors import SignatureError

__all__ = ["DssParts", "sign_drawn", "timestamp_drawn"]

# (certificates, OCSP answers, CRLs), DER, for the document security store.
DssParts = tuple[Sequence[bytes], Sequence[bytes], Sequence[bytes]]
_ESIC = ("/Extensions << /ESIC << /Type /DeveloperExtensions /BaseVersion /1.7 "
         "/ExtensionLevel 1 >> >>")
# "[0 a b c]" with room for three ten-digit offsets; padded with spaces.
_BYTE_RANGE_WIDTH = 40
_CONTENTS = b" /Contents "


def sign_drawn(
    pdf: DrawnPdf, sign: Callable[[bytes], bytes], *, reserve: int, field: str, reason: str,
    location: str | None, signing_time: dt.datetime, dss: DssParts | None = None,
) -> DrawnPdf:
    """``pdf`` with its signature revision: ``sign`` turns the SHA-256 of the signed byte
    range into a DER CMS of at most ``reserve`` bytes; ``dss`` goes into the document security
    store (ISO 32000-2 12.8.4.3: /Certs, /OCSPs, /CRLs, no VRI), in the signed revision."""
    when = text_string(signing_time.astimezone(dt.UTC).strftime("D:%Y%m%d%H%M%S+00'00'"))
    entries = (f"/Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /M {when}"
               f" /Reason {text_string(reason)}")
    if location:
        entries += f" /Location {text_string(location)}"

    def catalog(add: Callable[[bytes], int]) -> str:
        extra = f" /Version /1.7 {_ESIC}"
        return extra + (f" /DSS {_dss(dss, add)} 0 R" if dss is not None else "")

    return _append(pdf, catalog, f"/T {text_string(field)}", entries, sign, reserve)


def timestamp_drawn(
    pdf: DrawnPdf, stamp: Callable[[bytes], bytes], *, reserve: int, field: str
) -> DrawnPdf:
    """``pdf`` (signed by :func:`sign_drawn`) with a document time stamp revision (PAdES
    B-LTA, ETSI EN 319 142-1 5.5): ``stamp`` turns the SHA-256 of the byte range into a DER
    time-stamp token of at most ``reserve`` bytes."""
    return _append(pdf, lambda add: "", f"/T {text_string(field)} /TU (Timestamp)",
                   "/Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161",
                   stamp, reserve)


def _append(
    pdf: DrawnPdf, catalog: Callable[[Callable[[bytes], int]], str], field: str, entries: str,
    sign: Callable[[bytes], bytes], reserve: int,
) -> DrawnPdf:
    """One revision: the catalog with ``catalog``'s entries added (it may add objects) and one
    more signature field (``field``: its name entries), the page with its widget, the
    signature dictionary (``entries``) whose /Contents ``sign`` fills."""
    revision = pdf.revision
    number = revision.size
    objects: list[tuple[int, bytes]] = []

    def add(body: bytes) -> int:
        nonlocal number
        objects.append((number, body))
        number += 1
        return number - 1

    entries_added = catalog(add)
    widget, signature = number, number + 1
    fields = (*revision.fields, widget)
    references = " ".join(f"{n} 0 R" for n in fields)
    add((f"<< /FT /Sig {field} /Type /Annot /Subtype /Widget /F 132 /Rect [ 0 0 0 0 ] "
         f"/P {revision.page_number} 0 R /V {signature} 0 R >>").encode("latin-1"))
    head = f"<< {entries} /ByteRange ".encode("latin-1")
    add(head + b" " * _BYTE_RANGE_WIDTH + _CONTENTS + b"<" + b"0" * (2 * reserve) + b"> >>")
    later = dataclasses.replace(revision, catalog=revision.catalog + entries_added,
                                fields=fields, size=number)
    changed = [
        (1, f"<< {later.catalog} /AcroForm << /Fields [ {references} ] /SigFlags 3 >> >>"),
        (revision.page_number, f"<< {revision.page} /Annots [ {references} ] >>"),
    ]
    data, offsets = bytearray(pdf), {}
    for object_number, body in [(n, b.encode("latin-1")) for n, b in changed] + objects:
        offsets[object_number] = len(data)
        data += b"%d 0 obj\n%s\nendobj\n" % (object_number, body)
    xref_at = len(data)
    data += _xref(offsets)
    later_id = hashlib.sha256(b"%s %d" % (revision.document_id, xref_at)).digest()[:16]
    data += (b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R /ID [ <%s> <%s> ] /Prev %d >>\n"
             b"startxref\n%d\n%%%%EOF\n"
             % (number, revision.info, revision.document_id.hex().encode("ascii"),
                later_id.hex().encode("ascii"), revision.startxref, xref_at))

    at = offsets[signature] + len(b"%d 0 obj\n" % signature) + len(head)  # the /ByteRange
    start = at + _BYTE_RANGE_WIDTH + len(_CONTENTS)  # the /Contents string's "<"
    end = start + 2 * reserve + 2
    data[at:at + _BYTE_RANGE_WIDTH] = (b"[0 %d %d %d]" % (start, end, len(data) - end)).ljust(
        _BYTE_RANGE_WIDTH)
    view = memoryview(data)
    digest = hashlib.sha256(view[:start])
    digest.update(view[end:])
    view.release()
    signed = sign(digest.digest()).hex().encode("ascii")
    if len(signed) > 2 * reserve:
        raise SignatureError(f"the signature ({len(signed) // 2} bytes) is larger than the "
                             f"{reserve} bytes reserved for it")
    data[start + 1:start + 1 + len(signed)] = signed
    return DrawnPdf(bytes(data), dataclasses.replace(later, startxref=xref_at))


def _dss(dss: DssParts, add: Callable[[bytes], int]) -> int:
    """The store's streams and dictionary, added; the dictionary's number."""
    arrays = []
    for key, items in zip(("/Certs", "/OCSPs", "/CRLs"), dss, strict=True):
        numbers = [add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(item), item))
                   for item in items]
        if numbers:
            arrays.append(f"{key} [ {' '.join(f'{n} 0 R' for n in numbers)} ]")
    return add(f"<< {' '.join(arrays)} >>".encode("latin-1"))


def _xref(offsets: dict[int, int]) -> bytes:
    """The cross-reference section: object 0 (free) and every object written, in runs."""
    entries = {0: b"0000000000 65535 f \n"} | {
        n: b"%010d 00000 n \n" % offset for n, offset in offsets.items()}
    out = [b"xref\n"]
    numbers = sorted(entries)
    run_start = 0
    for i, n in enumerate(numbers):
        if i + 1 == len(numbers) or numbers[i + 1] != n + 1:
            run = numbers[run_start:i + 1]
            out.append(b"%d %d\n" % (run[0], len(run)))
            out += [entries[m] for m in run]
            run_start = i + 1
    return b"".join(out)
