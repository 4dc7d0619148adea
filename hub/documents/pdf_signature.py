"""PAdES baseline B-B signatures on PDF certificates (pyHanko), and their check.

One invisible signature field, SHA-256, the signer's certificate (and chain) embedded, written as
an incremental update: the signed PDF starts with the exact bytes it was given. That is how a
back-end PDF (a civil-status act, a criminal-record extract) is sealed without re-rendering.

Independent check with poppler (Debian ``poppler-utils``): ``pdfsig certificate.pdf``. For a
self-signed development certificate it prints ``- Signature Validation: Signature is Valid.`` and
``- Certificate Validation: Certificate issuer isn't Trusted.``; after one changed byte in the
signed range it prints ``- Signature Validation: Digest Mismatch.`` (pdfsig exits 0 in both cases).

pyHanko runs its own event loop (``asyncio.run``) inside these blocking calls: call them from a
worker process or thread (:mod:`hub.documents.pool`), never on the hub's event loop.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.attributes import CMSAttributeProvider, SigningCertificateV2Provider
from pyhanko.sign.general import SigningError, as_signing_certificate_v2, simple_cms_attribute
from pyhanko.sign.signers.pdf_cms import (
    CAdESSignedAttributeProviderSpec,
    CMSSignedAttributes,
)
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from hub.documents.keys import SigningIdentity
from hub.errors import SignatureError

__all__ = ["FIELD_NAME", "PadesSigner", "VerifiedPdf", "verify_pades"]

FIELD_NAME = "LoketHubSignature"
# A municipality's server certificate may carry either usage; one of them is enough.
_KEY_USAGE = KeyUsageConstraints(
    key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False
)


def _asn1_certs(certs: Iterable[x509.Certificate]) -> list[Any]:
    pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)
    return list(load_certs_from_pemder_data(pem))


class _CachedKeySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner re-parses its key on every signature (~60 ms for RSA-2048 with
    key checks); this one signs with the key object loaded once at start-up."""

    def __init__(self, key: RSAPrivateKey, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._key = key

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        if dry_run:  # the size estimate only needs a signature of the right length
            return bytes(self._key.key_size // 8)
        return self.sign_raw(data, digest_algorithm)

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        if mechanism["algorithm"].native != "sha256_rsa":
            raise SigningError(f"unexpected signature mechanism {mechanism['algorithm'].native}")
        return self._key.sign(data, PKCS1v15(), hashes.SHA256())


class _EncodedAttribute(CMSAttributeProvider):
    """A signed attribute that is the same for every signature, kept in its DER encoding."""

    def __init__(self, attribute_type: str, der: bytes) -> None:
        self.attribute_type = attribute_type
        self._der = der

    async def get_attribute(self, dry_run: bool = False) -> cms.CMSAttribute:
        return cms.CMSAttribute.load(self._der)


class _PadesAttributes(CAdESSignedAttributeProviderSpec):
    """pyHanko's PAdES signed attributes, with the signing-certificate-v2 one encoded once.

    Built from the parsed certificate, that attribute made asn1crypto walk and re-encode the
    whole certificate each time the signed attributes were encoded: 14 of a signature's 19 ms.
    Loaded from its DER encoding, it is encoded already.
    """

    def __init__(self, signing_cert: Any) -> None:
        super().__init__(
            attr_settings=CMSSignedAttributes(), signing_cert=signing_cert, is_pades=True,
            timestamper=None,
        )
        self._signing_certificate = _EncodedAttribute(
            SigningCertificateV2Provider.attribute_type,
            simple_cms_attribute(  # type: ignore[no-untyped-call]
                SigningCertificateV2Provider.attribute_type,
                as_signing_certificate_v2(signing_cert),
            ).dump(),
        )

    def signed_attr_providers(
        self, data_digest: bytes, digest_algorithm: str
    ) -> Iterable[CMSAttributeProvider]:
        for provider in super().signed_attr_providers(data_digest, digest_algorithm):
            if isinstance(provider, SigningCertificateV2Provider):
                yield self._signing_certificate
            else:
                yield provider


class _FixedTimeSigner(signers.PdfSigner):
    """pyHanko takes the signing time from the clock; we pass the issue time instead."""

    def __init__(self, *args: Any, signing_time: dt.datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._signing_time = signing_time

    def init_signing_session(self, *args: Any, **kwargs: Any) -> Any:
        session = super().init_signing_session(*args, **kwargs)
        session.system_time = self._signing_time
        return session


@dataclass(frozen=True)
class VerifiedPdf:
    """The outcome of checking the last signature of a PDF."""

    signer_subject: str
    signing_time: dt.datetime | None
    intact: bool  # the signed byte range hashes to the signed digest
    valid: bool  # the cryptographic signature checks out
    trusted: bool  # the signer chains to a certificate we trust
    covers_whole_file: bool  # nothing was appended after the signature
    summary: str

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted and self.covers_whole_file


class PadesSigner:
    """Signs and seals PDFs with one tenant's identity (converted once for pyHanko)."""

    def __init__(self, identity: SigningIdentity) -> None:
        key_pem = identity.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        certs = _asn1_certs([identity.certificate, *identity.chain])
        registry = SimpleCertificateStore()  # type: ignore[no-untyped-call]
        registry.register_multiple(certs)
        self._signer = _CachedKeySigner(
            identity.key,
            signing_cert=certs[0],
            signing_key=load_private_key_from_pemder_data(key_pem, passphrase=None),
            cert_registry=registry,
        )
        # Our signatures carry no CAdES extras (no commitment type, no signer attributes), so
        # one attribute spec serves them all.
        self._signer.signed_attr_prov_spec = _PadesAttributes(certs[0])
        self._identity = identity
        # Reserving the CMS space up front skips pyHanko's estimate, a full dummy signature
        # (half of the signing time). The bound (hex digits, hence x2) holds for our signed
        # attributes with a wide margin.
        cms_bytes = 4096 + identity.key.key_size // 8 + sum(len(c.dump()) for c in certs)
        self._reserved = 2 * cms_bytes

    def sign(
        self, pdf: bytes, *, reason: str, location: str | None, signing_time: dt.datetime
    ) -> bytes:
        """``pdf`` with a PAdES B-B signature appended as an incremental update."""
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            reason=reason,
            location=location,
        )
        pdf_signer = _FixedTimeSigner(
            meta, self._signer, signing_time=signing_time,
            new_field_spec=fields.SigFieldSpec(sig_field_name=FIELD_NAME),
        )
        try:
            writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
            out: BytesIO = pdf_signer.sign_pdf(
                writer, output=BytesIO(), bytes_reserved=self._reserved
            )
        except (PdfError, SigningError, ValueError) as exc:
            raise SignatureError(f"PAdES signing failed: {exc}") from exc
        return out.getvalue()

    def seal(
        self, pdf: bytes, *, reason: str = "Sealed as received from the source",
        location: str | None = None, signing_time: dt.datetime | None = None,
    ) -> bytes:
        """Sign a PDF we did not render (a back-end act) as-is: its bytes stay a prefix."""
        return self.sign(
            pdf, reason=reason, location=location,
            signing_time=signing_time or dt.datetime.now(dt.UTC),
        )

    def verify(self, pdf: bytes) -> VerifiedPdf:
        """Check the last signature with this identity's certificate as the only trust root."""
        return verify_pades(pdf, [self._identity.certificate])


def verify_pades(pdf: bytes, trusted: Iterable[x509.Certificate]) -> VerifiedPdf:
    """Check the last signature of ``pdf`` against ``trusted`` roots; no network is used.

    The certificate is checked at the signing time the signature reports, so a document stays
    verifiable after its signer's certificate was renewed.
    """
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except (PdfError, ValueError) as exc:
        raise SignatureError(f"not a readable PDF: {exc}") from exc
    if not signatures:
        raise SignatureError("the PDF carries no signature")
    embedded = signatures[-1]
    claimed = embedded.self_reported_timestamp
    context = ValidationContext(
        trust_roots=_asn1_certs(trusted), moment=claimed, allow_fetching=False
    )
    try:
        status = validate_pdf_signature(embedded, context, key_usage_settings=_KEY_USAGE)
    except (PdfError, ValueError) as exc:
        raise SignatureError(f"the PDF signature cannot be checked: {exc}") from exc
    return VerifiedPdf(
        signer_subject=x509.load_der_x509_certificate(status.signing_cert.dump())
        .subject.rfc4514_string(),
        signing_time=status.signer_reported_dt or claimed,
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        summary=status.summary(),
    )
