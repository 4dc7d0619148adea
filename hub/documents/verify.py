"""Check any delivered document (signed XML or signed PDF): who signed it, when, at which level,
stamped when, and is it intact.

This is what ``loket-hub verify FILE [--at DATE]`` prints (through :func:`format_report`). The
type is read from the content, not the file name. Trust is explicit: only the given certificates
count, as trust anchors: a tenant's own certificate, or the root of the CA that issued it.
``at`` verifies as of that moment (e.g. after the signing certificate expired): a time-stamped
signature is checked at its time stamp's time, with the validation data it carries.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from lxml import etree

from hub.documents.pdf_verify import verify_pades
from hub.documents.xades import verify_xades
from hub.documents.xades_lt import check_long_term
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
    level: str = "-"  # B-B, B-T, B-LT, B-LTA
    timestamp: dt.datetime | None = None  # the signature time stamp's time


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


def _embedded_xml_certs(root: etree._Element) -> list[x509.Certificate]:
    """The certificates of the signature's ``X509Data``, the signer's first."""
    return [x509.load_der_x509_certificate(base64.b64decode("".join((e.text or "").split())))
            for e in root.findall(f"{{{_DS}}}Signature/{{{_DS}}}KeyInfo/{{{_DS}}}X509Data/"
                                  f"{{{_DS}}}X509Certificate")]


_XML_NAMES = {"B-B": "XAdES-BES", "B-T": "XAdES-T", "B-LT": "XAdES-T with validation data (LT)"}


def _verify_xml(
    data: bytes, trusted: list[x509.Certificate], at: dt.datetime | None
) -> VerificationReport:
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        root = etree.fromstring(data, parser)
        embedded = _embedded_xml_certs(root)
    except (etree.XMLSyntaxError, ValueError) as exc:
        return _invalid("xml", "", f"not a readable signed XML document: {exc}")
    if not embedded:
        return _invalid("xml", "", "the document carries no signer certificate (X509Data)")
    leaf, *chain = embedded
    signer = leaf.subject.rfc4514_string()
    try:
        verified = verify_xades(data, leaf)
        long_term = check_long_term(root, leaf, chain, trusted, signed_at=verified.signing_time,
                                    at=at)
    except SignatureError as exc:
        return _invalid("xml", signer, exc.message)
    if not long_term.trusted:
        return _invalid("xml", signer, f"the signer is not a trusted certificate "
                                       f"({long_term.reason})")
    return VerificationReport(
        "xml", True, verified.signer_subject, verified.signing_time,
        f"{_XML_NAMES[long_term.level]} signature valid; it covers the whole document",
        level=long_term.level, timestamp=long_term.timestamp,
    )


def _verify_pdf(
    data: bytes, trusted: list[x509.Certificate], at: dt.datetime | None
) -> VerificationReport:
    try:
        result = verify_pades(data, trusted, at=at)
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
    elif not result.timestamp_ok:
        problems.append("the signature time stamp does not verify (or its TSA is not trusted)")
    if not result.covers_whole_file:
        problems.append("content was added after the signature")
    reason = "; ".join(problems) or (
        f"PAdES {result.level} signature valid; it covers the whole file"
        + (" but for validation data and a document time stamp" if result.archive_timestamp
           else ""))
    return VerificationReport(
        "pdf", not problems, result.signer_subject, result.signing_time, reason,
        level=result.level, timestamp=result.timestamp,
    )


def verify_document(
    data: bytes, *, trusted: list[Path] | None = None,
    certificates: list[x509.Certificate] | None = None, at: dt.datetime | None = None,
) -> VerificationReport:
    """Verify a delivered document against the certificates in ``trusted`` (PEM files) and
    ``certificates``, as of ``at`` (default: now, or the claimed signing time of an unstamped
    signature)."""
    certs = load_trusted(trusted or []) + list(certificates or [])
    kind = _kind(data)
    if kind == "pdf":
        return _verify_pdf(data, certs, at)
    if kind == "xml":
        return _verify_xml(data, certs, at)
    return _invalid("unknown", "", "neither a PDF nor an XML document")


def format_report(report: VerificationReport) -> str:
    """Human-readable lines for the ``verify`` command."""
    verdict = "VALID" if report.valid else "INVALID"
    signed_at = report.signed_at.isoformat(timespec="seconds") if report.signed_at else "-"
    stamped = report.timestamp.isoformat(timespec="seconds") if report.timestamp else "-"
    return "\n".join([
        f"{verdict} {report.kind.upper()} signature",
        f"  signed by: {report.signer or '-'}",
        f"  signed at: {signed_at}",
        f"  level: {report.level}",
        f"  time stamp: {stamped}",
        f"  {report.reason}",
    ])
