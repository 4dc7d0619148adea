"""`verify FILE`: any delivered document, its type read from the content, a verdict in words."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.devpki import KeyPair, generate_self_signed
from hub.documents.keys import SigningIdentity
from hub.documents.pdf_render import render_certificate_pdf
from hub.documents.pdf_signature import PadesSigner
from hub.documents.render import render_certificate_xml
from hub.documents.verify import format_report, verify_document
from hub.documents.xades import XadesSigner
from tests.documents.factories import GENT, ISSUED, model


@pytest.fixture(scope="module")
def documents(gent_identity: SigningIdentity) -> dict[str, bytes]:
    certificate = model("proof-of-life")
    root = render_certificate_xml(certificate, tenant=GENT, reference="job-7",
                                  backend_reference=None, issued_at=ISSUED)
    rendered = render_certificate_pdf(certificate, tenant=GENT, reference="job-7",
                                      backend_reference=None, issued_at=ISSUED)
    xml = XadesSigner(gent_identity).sign(root, signing_time=ISSUED)
    pdf = PadesSigner(gent_identity).sign(rendered, reason="Bewijs van leven",
                                          location="Stad Gent", signing_time=ISSUED)
    return {"xml": xml, "pdf": pdf}


@pytest.mark.parametrize("kind", ["xml", "pdf"])
def test_a_delivered_document_is_valid_and_names_its_signer(
    kind: str, documents: dict[str, bytes], gent_pair: KeyPair, gent_identity: SigningIdentity
) -> None:
    report = verify_document(documents[kind], trusted=[gent_pair.cert])
    assert (report.kind, report.valid) == (kind, True), report.reason
    assert report.signer == gent_identity.subject
    assert report.signed_at == ISSUED
    text = format_report(report)
    assert text.startswith(f"VALID {kind.upper()} signature")
    assert f"signed by: {gent_identity.subject}" in text
    assert f"signed at: {ISSUED.isoformat()}" in text


@pytest.mark.parametrize("kind", ["xml", "pdf"])
def test_a_changed_document_is_invalid(
    kind: str, documents: dict[str, bytes], gent_pair: KeyPair
) -> None:
    data = documents[kind]
    at = data.index(b"Peeters") if kind == "xml" else len(data) // 3
    tampered = data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]
    report = verify_document(tampered, trusted=[gent_pair.cert])
    assert not report.valid
    assert format_report(report).startswith(f"INVALID {kind.upper()} signature")


@pytest.mark.parametrize("kind", ["xml", "pdf"])
def test_an_untrusted_signer_is_reported(
    kind: str, documents: dict[str, bytes], tmp_path: Path
) -> None:
    stranger = generate_self_signed(tmp_path, "stranger", "someone else")
    report = verify_document(documents[kind], trusted=[stranger.cert])
    assert not report.valid
    assert "not a trusted certificate" in report.reason


def test_anything_else_is_not_a_document(gent_pair: KeyPair) -> None:
    report = verify_document(b"\x00\x01 not a document", trusted=[gent_pair.cert])
    assert (report.kind, report.valid) == ("unknown", False)


def test_an_unsigned_xml_document_is_invalid(gent_pair: KeyPair) -> None:
    report = verify_document(b"<?xml version='1.0'?><a/>", trusted=[gent_pair.cert])
    assert (report.kind, report.valid) == ("xml", False)
    assert "no signer certificate" in report.reason
