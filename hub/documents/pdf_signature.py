"""PAdES baseline signatures on PDF certificates (pyHanko): B-B, B-T, B-LT and B-LTA.

One invisible signature field, SHA-256, the signer's certificate (and chain) embedded, written as
an incremental update: the signed PDF starts with the exact bytes it was given. That is how a
back-end PDF (a civil-status act, a criminal-record extract) is sealed without re-rendering.

A PDF the hub drew itself (:class:`~hub.documents.pdf_objects.DrawnPdf`) gets the same
revision written directly (:mod:`hub.documents.pdf_increment`) around a CMS assembled from
parts made once (:mod:`hub.documents.cms`); any other PDF goes through pyHanko's ``PdfSigner``.

B-T adds the TSA's signature time stamp (an unsigned attribute). B-LT also writes the document
security store (DSS: the chain's certificates, OCSP answers and CRLs, cached per tenant by
:class:`~hub.documents.longterm.LongTerm`) in the signed revision itself, before the signature,
as pyHanko's ``SigDSSPlacementPreference.TOGETHER_WITH_SIGNATURE`` does, without pyHanko's
per-signature path validation. B-LTA adds a document time stamp as a second revision. The check
is :mod:`hub.documents.pdf_verify`.

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
from io import BytesIO
from typing import Any

from asn1crypto import cms
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import fields, signers
from pyhanko.sign.attributes import CMSAttributeProvider, SigningCertificateV2Provider
from pyhanko.sign.general import SigningError, as_signing_certificate_v2, simple_cms_attribute
from pyhanko.sign.signers.pdf_cms import (
    CAdESSignedAttributeProviderSpec,
    CMSSignedAttributes,
)
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.validation import DocumentSecurityStore
from pyhanko_certvalidator.registry import SimpleCertificateStore

from hub.documents.cms import CmsSigner
from hub.documents.keys import SigningIdentity
from hub.documents.longterm import LongTerm, ValidationMaterial, asn1_cert
from hub.documents.pdf_increment import sign_drawn, timestamp_drawn
from hub.documents.pdf_objects import DrawnPdf
from hub.documents.pdf_verify import VerifiedPdf, verify_pades
from hub.errors import HubError, SignatureError, TimestampUnavailable

__all__ = ["FIELD_NAME", "TIMESTAMP_FIELD", "PadesSigner", "VerifiedPdf", "verify_pades"]

FIELD_NAME = "LoketHubSignature"
TIMESTAMP_FIELD = "LoketHubArchiveTimestamp"
# Room for a signature time stamp (the token with the TSA's certificate chain), hex-encoded.
_TOKEN_RESERVE = 2 * 8192


def _asn1_certs(certs: Iterable[x509.Certificate]) -> list[Any]:
    pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)
    return list(load_certs_from_pemder_data(pem))


def _add_dss(writer: IncrementalPdfFileWriter, material: ValidationMaterial) -> None:
    """The document security store (ISO 32000-2 12.8.4.3: /Certs, /OCSPs, /CRLs, no VRI) in
    the revision about to be signed; what pyHanko's ``supply_dss_in_writer`` writes, from the
    cached DER answers without its per-signature parsing."""
    if "/DSS" in writer.root:  # a back-end PDF with a DSS of its own: pyHanko merges into it
        DocumentSecurityStore.supply_dss_in_writer(
            writer, None, certs=[asn1_cert(c) for c in material.certs],
            ocsps=[asn1_ocsp.OCSPResponse.load(o) for o in material.ocsps],
            crls=[asn1_crl.CertificateList.load(c) for c in material.crls],
        )
        return

    def streams(items: tuple[bytes, ...]) -> generic.ArrayObject:
        return generic.ArrayObject(
            writer.add_object(generic.StreamObject(stream_data=item)) for item in items)

    dss = generic.DictionaryObject(  # type: ignore[no-untyped-call]
        {generic.pdf_name("/Certs"): streams(material.cert_ders)})
    if material.ocsps:
        dss[generic.pdf_name("/OCSPs")] = streams(material.ocsps)
    if material.crls:
        dss[generic.pdf_name("/CRLs")] = streams(material.crls)
    writer.root[generic.pdf_name("/DSS")] = writer.add_object(dss)
    writer.update_root()  # type: ignore[no-untyped-call]


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


class PadesSigner:
    """Signs and seals PDFs with one tenant's identity (converted once for pyHanko)."""

    def __init__(self, identity: SigningIdentity, long_term: LongTerm | None = None) -> None:
        key_pem = identity.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        certs = _asn1_certs([identity.certificate, *identity.chain])
        registry = SimpleCertificateStore()  # type: ignore[no-untyped-call]
        registry.register_multiple(certs[1:])  # the CAs: pyHanko adds the signer's own
        self._signer = _CachedKeySigner(
            identity.key,
            signing_cert=certs[0],
            signing_key=load_private_key_from_pemder_data(key_pem, passphrase=None),
            cert_registry=registry,
        )
        # Our signatures carry no CAdES extras (no commitment type, no signer attributes), so
        # one attribute spec serves them all.
        self._signer.signed_attr_prov_spec = _PadesAttributes(certs[0])
        self._cms = CmsSigner(identity.key, [c.dump() for c in certs])
        self._identity = identity
        self._long_term = long_term
        self.level = long_term.spec.level if long_term is not None else "B-B"
        # Reserving the CMS space up front skips pyHanko's estimate, a full dummy signature
        # (half of the signing time). The bound (hex digits, hence x2) holds for our signed
        # attributes with a wide margin.
        cms_bytes = 4096 + identity.key.key_size // 8 + sum(len(c.dump()) for c in certs)
        self._reserved = 2 * cms_bytes + (_TOKEN_RESERVE if self.level != "B-B" else 0)

    def sign(
        self, pdf: bytes, *, reason: str, location: str | None, signing_time: dt.datetime
    ) -> bytes:
        """``pdf`` signed at this signer's level, as incremental updates.

        Raises :class:`TimestampUnavailable` (retryable) when the TSA does not answer: a
        document is never delivered below its level.
        """
        long_term = self._long_term if self.level != "B-B" else None
        try:
            if isinstance(pdf, DrawnPdf):
                return self._sign_drawn(pdf, long_term, reason=reason, location=location,
                                        signing_time=signing_time)
            out = self._sign_with_pyhanko(pdf, long_term, reason=reason, location=location,
                                          signing_time=signing_time)
            if long_term is not None and self.level == "B-LTA":
                out = self._archive_timestamp(out, long_term)
        except HubError:
            raise
        except TimestampRequestError as exc:
            raise TimestampUnavailable(f"the TSA refused the time stamp: {exc}") from exc
        except (PdfError, SigningError, ValueError) as exc:
            raise SignatureError(f"PAdES signing failed: {exc}") from exc
        return out.getvalue()

    def _sign_with_pyhanko(
        self, pdf: bytes, long_term: LongTerm | None, *, reason: str, location: str | None,
        signing_time: dt.datetime,
    ) -> BytesIO:
        """Any PDF, signed by pyHanko as an incremental update."""
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            reason=reason,
            location=location,
        )
        pdf_signer = _FixedTimeSigner(
            meta, self._signer, signing_time=signing_time,
            timestamper=long_term.timestamper if long_term is not None else None,
            new_field_spec=fields.SigFieldSpec(sig_field_name=FIELD_NAME),
        )
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
        if long_term is not None and long_term.spec.long_term:
            _add_dss(writer, long_term.material())
        out: BytesIO = pdf_signer.sign_pdf(writer, output=BytesIO(), bytes_reserved=self._reserved)
        return out

    def _sign_drawn(
        self, pdf: DrawnPdf, long_term: LongTerm | None, *, reason: str, location: str | None,
        signing_time: dt.datetime,
    ) -> bytes:
        """A PDF we drew, signed in one pass: the same revision pyHanko would write."""
        dss = None
        if long_term is not None and long_term.spec.long_term:
            material = long_term.material()
            dss = (material.cert_ders, material.ocsps, material.crls)
        stamp = long_term.stamp if long_term is not None else None
        signed = sign_drawn(
            pdf, lambda digest: self._cms.sign(digest, stamp), reserve=self._reserved // 2,
            field=FIELD_NAME, reason=reason, location=location, signing_time=signing_time,
            dss=dss,
        )
        if long_term is not None and self.level == "B-LTA":
            signed = timestamp_drawn(signed, long_term.stamp, reserve=_TOKEN_RESERVE // 2,
                                     field=TIMESTAMP_FIELD)
        return bytes(signed)

    @staticmethod
    def _archive_timestamp(signed: BytesIO, long_term: LongTerm) -> BytesIO:
        """B-LTA: a document time stamp over the signed revision and its DSS."""
        assert long_term.timestamper is not None
        stamper = signers.PdfTimeStamper(long_term.timestamper, field_name=TIMESTAMP_FIELD)
        result: BytesIO = stamper.timestamp_pdf(
            IncrementalPdfFileWriter(signed, strict=False), "sha256", output=BytesIO(),
            bytes_reserved=_TOKEN_RESERVE,
        )
        return result

    def seal(
        self, pdf: bytes, *, reason: str = "Sealed as received from the source",
        location: str | None = None, signing_time: dt.datetime | None = None,
    ) -> bytes:
        """Sign a PDF we did not render (a back-end act) as-is: its bytes stay a prefix."""
        return self.sign(
            pdf, reason=reason, location=location,
            signing_time=signing_time or dt.datetime.now(dt.UTC),
        )

    def close(self) -> None:
        """Close the TSA/OCSP connections of its :class:`LongTerm` (shared with the XML signer)."""
        if self._long_term is not None:
            self._long_term.close()

    def verify(self, pdf: bytes) -> VerifiedPdf:
        """Check the signature with this identity's certificate (and CA roots) as trust."""
        roots = self._long_term.roots if self._long_term is not None else []
        return verify_pades(pdf, [self._identity.certificate, *roots])
