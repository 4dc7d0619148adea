"""hub.documents.pdf_increment: a PDF the hub drew is signed in one pass with the revision
pyHanko's PdfSigner writes into it, object for object (pdfsig's view is in
test_pdf_signature.py, the long-term levels' in test_long_term.py)."""

from __future__ import annotations

import pickle
import re
from io import BytesIO
from typing import Any

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

from hub.documents.keys import SigningIdentity
from hub.documents.pdf_increment import sign_drawn
from hub.documents.pdf_objects import DrawnPdf
from hub.documents.pdf_render import render_certificate_pdf
from hub.documents.pdf_signature import FIELD_NAME, PadesSigner
from hub.errors import SignatureError
from tests.documents.factories import GENT, ISSUED, model


@pytest.fixture(scope="module")
def rendered() -> DrawnPdf:
    pdf = render_certificate_pdf(model("household-composition"), tenant=GENT, reference="job-1",
                                 backend_reference="magda-1", issued_at=ISSUED)
    assert isinstance(pdf, DrawnPdf)  # the direct writer drew it
    return pdf


def _sign(identity: SigningIdentity, pdf: bytes) -> bytes:
    return PadesSigner(identity).sign(pdf, reason="Gezinssamenstelling (ç, €)",
                                      location="Stad Gent", signing_time=ISSUED)


@pytest.fixture(scope="module")
def both(gent_identity: SigningIdentity, rendered: DrawnPdf) -> tuple[bytes, bytes]:
    """(signed in one pass, signed by pyHanko's PdfSigner from the same bytes)."""
    return _sign(gent_identity, rendered), _sign(gent_identity, bytes(rendered))


def _plain(value: Any, skip: set[str]) -> Any:
    """A PDF object as Python values, references resolved except under the ``skip`` keys."""
    if isinstance(value, generic.IndirectObject):
        value = value.get_object()  # type: ignore[no-untyped-call]
    if isinstance(value, dict):
        return {k: _plain(v, skip) for k, v in value.items() if k not in skip}
    if isinstance(value, list):
        return [_plain(v, skip) for v in value]
    return value


def _revision(pdf: bytes) -> dict[str, Any]:
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    field = reader.root["/AcroForm"]["/Fields"][0].get_object()
    signature = field["/V"].get_object()
    page = reader.root["/Pages"]["/Kids"][0].get_object()
    return {
        "revisions": reader.xrefs.total_revisions,
        "catalog": _plain(reader.root, {"/AcroForm", "/Pages"}),
        "form": _plain(reader.root["/AcroForm"], {"/Fields"}),
        "field": _plain(field, {"/V", "/P"}),
        "field on the page": page["/Annots"][0].get_object() is field
        and field["/P"].get_object() is page,
        "signature": _plain(signature, {"/Contents", "/ByteRange", "/M"}),
        "signed at": reader.embedded_signatures[0].self_reported_timestamp,
        "info": _plain(reader.trailer["/Info"], {"/Producer", "/ModDate"}),
    }


def test_the_revision_is_the_one_pyhanko_writes(both: tuple[bytes, bytes]) -> None:
    ours, theirs = (_revision(pdf) for pdf in both)
    assert ours == theirs
    assert ours["revisions"] == 2 and ours["field on the page"]
    assert ours["field"]["/T"] == FIELD_NAME and ours["field"]["/F"] == 132
    assert ours["signature"]["/SubFilter"] == "/ETSI.CAdES.detached"
    assert ours["signed at"] == ISSUED


def test_both_verify_alike(gent_identity: SigningIdentity, both: tuple[bytes, bytes]) -> None:
    ours, theirs = (PadesSigner(gent_identity).verify(pdf) for pdf in both)
    assert ours.ok, ours.summary
    assert (ours.level, ours.signer_subject, ours.signing_time, ours.covers_whole_file) == (
        theirs.level, theirs.signer_subject, theirs.signing_time, theirs.covers_whole_file)


def test_the_byte_range_is_the_whole_file_but_the_signature(
    rendered: DrawnPdf, both: tuple[bytes, bytes]
) -> None:
    signed = both[0]
    assert signed.startswith(rendered)
    found = re.findall(rb"/ByteRange \[0 (\d+) (\d+) (\d+)\]", signed)
    assert len(found) == 1
    start, end, rest = map(int, found[0])
    assert end + rest == len(signed)
    assert signed[start:start + 1] == b"<" and signed[end - 1:end] == b">"
    assert re.fullmatch(rb"<[0-9a-f]+>", signed[start:end])


def test_a_pickled_drawn_pdf_is_plain_bytes_and_signed_by_pyhanko(
    gent_identity: SigningIdentity, rendered: DrawnPdf
) -> None:
    travelled = pickle.loads(pickle.dumps(rendered))
    assert type(travelled) is bytes and travelled == rendered
    assert PadesSigner(gent_identity).verify(_sign(gent_identity, travelled)).ok


def test_a_signature_larger_than_its_room_is_a_signature_error(rendered: DrawnPdf) -> None:
    with pytest.raises(SignatureError, match="larger than the 8 bytes reserved"):
        sign_drawn(rendered, lambda digest: bytes(9), reserve=8, field=FIELD_NAME, reason="x",
                   location=None, signing_time=ISSUED)
