"""Check a PAdES signature (pyHanko): intact, valid, trusted, at which level, stamped when.

No network is used: trust is the given certificates, validation data is what the PDF carries.

Which time the signer's certificate is checked at:

- a time-stamped signature (B-T and up): the time stamp's, a proof that the signature existed
  then; the TSA's own certificate is checked at ``at`` (default now). B-LT: with the OCSP/CRL
  answers of the document security store, which must cover the signer's chain (``hard-fail``);
  so after the signing certificate expired, the document still verifies.
- a B-B signature: the signing time it reports itself when ``at`` is not given (a document stays
  verifiable after its signer's certificate was renewed), else ``at``: once the certificate
  expired, nothing proves the signature is older than that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import (
    DocumentSecurityStore,
    EmbeddedPdfSignature,
    validate_pdf_signature,
    validate_pdf_timestamp,
)
from pyhanko.sign.validation.errors import ValidationInfoReadingError
from pyhanko.sign.validation.generic_cms import extract_tst_data_iter
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from hub.errors import SignatureError

__all__ = ["KEY_USAGE", "VerifiedPdf", "verify_pades"]

# A municipality's server certificate may carry either usage; one of them is enough.
KEY_USAGE = KeyUsageConstraints(
    key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False
)
# After the signed revision: only a document time stamp (and validation data), B-LTA.
_ALLOWED_AFTER = (ModificationLevel.LTA_UPDATES,)


@dataclass(frozen=True)
class VerifiedPdf:
    """The outcome of checking the (last regular) signature of a PDF."""

    signer_subject: str
    signing_time: dt.datetime | None
    intact: bool  # the signed byte range hashes to the signed digest
    valid: bool  # the cryptographic signature checks out
    trusted: bool  # the signer chains to a certificate we trust
    covers_whole_file: bool  # nothing but validation data and time stamps was appended
    summary: str
    level: str = "B-B"
    timestamp: dt.datetime | None = None  # the signature time stamp's time
    timestamp_ok: bool = True  # no time stamp, or one that is intact, valid and trusted
    archive_timestamp: dt.datetime | None = None  # B-LTA: the document time stamp's time

    @property
    def ok(self) -> bool:
        return (self.intact and self.valid and self.trusted and self.covers_whole_file
                and self.timestamp_ok)


def _asn1_certs(certs: Iterable[x509.Certificate]) -> list[Any]:
    pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)
    return list(load_certs_from_pemder_data(pem)) if pem else []


def _dss(reader: PdfFileReader) -> DocumentSecurityStore | None:
    try:
        return DocumentSecurityStore.read_dss(reader)
    except (ValidationInfoReadingError, KeyError, PdfError):
        return None


def _context(
    roots: list[Any], dss: DocumentSecurityStore | None, **kwargs: Any
) -> ValidationContext:
    settings = {"trust_roots": roots, "allow_fetching": False, **kwargs}
    if dss is not None:
        return dss.as_validation_context(settings)
    return ValidationContext(**settings)


def _tsa_context(roots: list[Any], dss: DocumentSecurityStore | None,
                 at: dt.datetime | None) -> ValidationContext:
    """The TSA's certificate is checked at ``at`` (default now) against the trust roots, with
    the chain the PDF carries. Its revocation answers in the DSS date from the signing: at a
    later ``at`` they are stale, and what the TSA's status was then only a later document time
    stamp or an online check can say, so they are left out there (``soft-fail``)."""
    if at is None:
        return _context(roots, dss, moment=at)
    certs = list(dss.load_certs()) if dss is not None else []
    return ValidationContext(trust_roots=roots, other_certs=certs, moment=at,
                             allow_fetching=False)


def _signature_timestamp(embedded: EmbeddedPdfSignature) -> dt.datetime | None:
    for token in extract_tst_data_iter(embedded.signer_info, signed=False):
        when: dt.datetime = token["encap_content_info"]["content"].parsed["gen_time"].native
        return when
    return None


def _archive(reader: PdfFileReader, roots: list[Any], dss: DocumentSecurityStore | None,
             at: dt.datetime | None) -> dt.datetime | None:
    """The time of a valid document time stamp that covers the whole file, if there is one."""
    stamps = reader.embedded_timestamp_signatures
    if not stamps:
        return None
    status = validate_pdf_timestamp(stamps[-1], _tsa_context(roots, dss, at))
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    return status.timestamp if status.intact and status.valid and status.trusted and whole \
        else None


def _level(timestamp: dt.datetime | None, long_term: bool, archive: dt.datetime | None) -> str:
    if timestamp is None:
        return "B-B"
    if not long_term:
        return "B-T"
    return "B-LTA" if archive is not None else "B-LT"


def verify_pades(
    pdf: bytes, trusted: Iterable[x509.Certificate], *, at: dt.datetime | None = None
) -> VerifiedPdf:
    """Check the last regular signature of ``pdf`` against ``trusted`` (see the module text)."""
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        signatures = reader.embedded_regular_signatures
    except (PdfError, ValueError) as exc:
        raise SignatureError(f"not a readable PDF: {exc}") from exc
    if not signatures:
        raise SignatureError("the PDF carries no signature")
    embedded = signatures[-1]
    roots = _asn1_certs(trusted)
    dss = _dss(reader)
    stamped = _signature_timestamp(embedded)
    has_revinfo = dss is not None and bool(dss.ocsps or dss.crls)
    moment = stamped or (at or embedded.self_reported_timestamp)
    signer_context = _context(roots, dss, moment=moment,
                              revocation_mode="hard-fail" if has_revinfo else "soft-fail")
    try:
        status = validate_pdf_signature(
            embedded, signer_context, ts_validation_context=_tsa_context(roots, dss, at),
            key_usage_settings=KEY_USAGE,
        )
        archive = _archive(reader, roots, dss, at) if has_revinfo else None
    except (PdfError, ValueError) as exc:
        raise SignatureError(f"the PDF signature cannot be checked: {exc}") from exc
    tst = status.timestamp_validity
    return VerifiedPdf(
        signer_subject=x509.load_der_x509_certificate(status.signing_cert.dump())
        .subject.rfc4514_string(),
        signing_time=status.signer_reported_dt or embedded.self_reported_timestamp,
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
            status.coverage == SignatureCoverageLevel.ENTIRE_REVISION and archive is not None
            and status.modification_level in _ALLOWED_AFTER and bool(status.docmdp_ok)
        ),
        summary=status.summary(),
        level=_level(stamped, has_revinfo and status.trusted, archive),
        timestamp=tst.timestamp if tst is not None else None,
        timestamp_ok=tst is None or (tst.intact and tst.valid and tst.trusted),
        archive_timestamp=archive,
    )
