"""Check any delivered document (signed XML or signed PDF): who signed it, when, and is it intact.

This is what ``loket-hub verify FILE`` prints (through :func:`format_report`). The type is read
from the content, not the file name. Trust is explicit: only the given certificates count.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from lxml import etree

from hub.documents.pdf_signature import verify_pades
from hub.documents.xades import verify_xades
from hub.errors import ConfigurationError, SignatureError

__all__ = ["VerificationReport", "format_report", "load_trusted", "verify_document"]

_DS = "http://www.w3.org/2000/09/xmldsig#"
Kind = Literal["xml", "pdf", "unknown"]


@dataclass(frozen=True)
class VerificationReport:
    """The verdict on one document; ``reason`` says why in one sentence."""

    kind: Kind
    valid: bool
    signer: str
    signed_at: dt.datetime | None
    reason: str


def load_trusted(paths: list[Path]) -> list[x509.Certificate]:
    """Every PEM certificate in ``paths`` (a file may hold several)."""
    certs: list[x509.Certificate] = []
    for path in paths:
        try:
            certs += x509.load_pem_x509_certificates(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot read trusted certificate(s) {path}: {exc}") from exc
    return certs


def _invalid(kind: Kind, signer: str, reason: str) -> VerificationReport:
    return VerificationReport(kind, False, signer, None, reason)


def _kind(data: bytes) -> Kind:
    head = data[:1024]
    if b"%PDF-" in head:  # the header may follow a little junk (ISO 32000-1, 7.5.2 note)
        return "pdf"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return "xml"
    return "unknown"


def _embedded_xml_cert(data: bytes) -> x509.Certificate | None:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    text = etree.fromstring(data, parser).findtext(f".//{{{_DS}}}X509Certificate")
    if not text:
        return None
    return x509.load_der_x509_certificate(base64.b64decode("".join(text.split())))


def _verify_xml(data: bytes, trusted: list[x509.Certificate]) -> VerificationReport:
    try:
        embedded = _embedded_xml_cert(data)
    except (etree.XMLSyntaxError, ValueError) as exc:
        return _invalid("xml", "", f"not a readable signed XML document: {exc}")
    if embedded is None:
        return _invalid("xml", "", "the document carries no signer certificate")
    signer = embedded.subject.rfc4514_string()
    match = next((c for c in trusted if c == embedded), None)
    if match is None:
        return _invalid("xml", signer, "the signer is not a trusted certificate")
    try:
        verified = verify_xades(data, match)
    except SignatureError as exc:
        return _invalid("xml", signer, exc.message)
    return VerificationReport(
        "xml", True, verified.signer_subject, verified.signing_time,
        "XAdES-BES signature valid; it covers the whole document",
    )


def _verify_pdf(data: bytes, trusted: list[x509.Certificate]) -> VerificationReport:
    try:
        result = verify_pades(data, trusted)
    except SignatureError as exc:
        return _invalid("pdf", "", exc.message)
    problems = []
    # pyHanko reports a broken signature as untrusted too; name the first cause only.
    if not result.intact:
        problems.append("the signed content was changed (digest mismatch)")
    elif not result.valid:
        problems.append("the signature value does not match the signer's key")
    elif not result.trusted:
        problems.append("the signer is not a trusted certificate")
    if not result.covers_whole_file:
        problems.append("content was added after the signature")
    reason = "; ".join(problems) or "PAdES signature valid; it covers the whole file"
    return VerificationReport(
        "pdf", not problems, result.signer_subject, result.signing_time, reason
    )


def verify_document(data: bytes, *, trusted: list[Path]) -> VerificationReport:
    """Verify a delivered document against the certificates in ``trusted`` (PEM files)."""
    certs = load_trusted(trusted)
    kind = _kind(data)
    if kind == "pdf":
        return _verify_pdf(data, certs)
    if kind == "xml":
        return _verify_xml(data, certs)
    return _invalid("unknown", "", "neither a PDF nor an XML document")


def format_report(report: VerificationReport) -> str:
    """Human-readable lines for the ``verify`` command."""
    verdict = "VALID" if report.valid else "INVALID"
    signed_at = report.signed_at.isoformat(timespec="seconds") if report.signed_at else "-"
    return "\n".join([
        f"{verdict} {report.kind.upper()} signature",
        f"  signed by: {report.signer or '-'}",
        f"  signed at: {signed_at}",
        f"  {report.reason}",
    ])
