"""Hardened parsing and WS-Security signature verification of incoming SOAP requests.

The hub signs MAGDA requests with zeep's ``BinarySignature``: a ``wsse:BinarySecurityToken``
(X.509v3, base64) and a ``ds:Signature`` (exclusive C14N) in ``Header/wsse:Security``, whose
Reference points at the Body's ``wsu:Id``. This module checks such a signature with python-xmlsec
directly, the way the MAGDA gateway would: the token must be a pinned, trusted certificate, the
Body must be among the signed references, and the signature must verify with that certificate.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from xmlsec import constants as consts

__all__ = [
    "DS_NS",
    "SOAP11_NS",
    "SOAP12_NS",
    "WSSE_NS",
    "WSU_NS",
    "SignatureVerificationError",
    "SignatureVerifier",
    "TrustedCertificate",
    "UnsafeXMLError",
    "VerifiedSignature",
    "load_trusted_certificates",
    "parse_untrusted_xml",
]

SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
BASE64_BINARY = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0"
    "#Base64Binary"
)
_XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
_ID_ATTRIBUTES = (f"{{{WSU_NS}}}Id", "Id", "ID", _XML_ID)
_NS = {"ds": DS_NS, "wsse": WSSE_NS, "wsu": WSU_NS}

# What a reference may do: canonicalise and digest. Anything else (XPath, XSLT, base64,
# enveloped-signature) is refused, so a reference cannot select or rewrite what it covers.
_REFERENCE_TRANSFORMS = (
    consts.TransformExclC14N,
    consts.TransformSha1,  # MAGDA's official client still digests with SHA-1
    consts.TransformSha256,
    consts.TransformSha384,
    consts.TransformSha512,
)
_SIGNATURE_TRANSFORMS = (
    consts.TransformExclC14N,
    consts.TransformRsaSha1,  # and signs with RSA-SHA1; the hub uses RSA-SHA256
    consts.TransformRsaSha256,
    consts.TransformRsaSha384,
    consts.TransformRsaSha512,
)
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


class UnsafeXMLError(ValueError):
    """Incoming XML is unreadable, too large, or carries a DOCTYPE (DTD/entities)."""


class SignatureVerificationError(Exception):
    """The request's WS-Security signature is missing, untrusted or does not verify."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TrustedCertificate:
    """A pinned certificate: its DER bytes, SHA-256 fingerprint (hex) and subject."""

    der: bytes
    fingerprint: str
    subject: str


@dataclass(frozen=True)
class VerifiedSignature:
    """What a successful verification established."""

    certificate: TrustedCertificate
    signed_ids: tuple[str, ...]


def parse_untrusted_xml(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse bytes from the network: no DTD, no entities, no network access, no huge trees."""
    if len(data) > max_bytes:
        raise UnsafeXMLError(f"document larger than {max_bytes} bytes")
    # Checked before parsing so libxml2 never even reads entity declarations; the check after
    # parsing catches a DOCTYPE in an encoding this byte search cannot see (UTF-16).
    if b"<!DOCTYPE" in data:
        raise UnsafeXMLError("DOCTYPE is not allowed")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise UnsafeXMLError(f"not well-formed XML: {exc}") from exc
    if root is None:
        raise UnsafeXMLError("empty document")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise UnsafeXMLError("DOCTYPE is not allowed")
    return root


def load_trusted_certificates(paths: Iterable[Path]) -> tuple[TrustedCertificate, ...]:
    """Load PEM (one or more certificates per file) or DER certificate files."""
    trusted: list[TrustedCertificate] = []
    for path in paths:
        raw = path.read_bytes()
        certs = (
            x509.load_pem_x509_certificates(raw)
            if b"-----BEGIN" in raw
            else [x509.load_der_x509_certificate(raw)]
        )
        trusted.extend(_trusted(cert.public_bytes(Encoding.DER)) for cert in certs)
    return tuple(trusted)


def _trusted(der: bytes) -> TrustedCertificate:
    cert = x509.load_der_x509_certificate(der)
    return TrustedCertificate(
        der=der,
        fingerprint=hashlib.sha256(der).hexdigest(),
        subject=cert.subject.rfc4514_string(),
    )


class SignatureVerifier:
    """Verifies Body signatures against a fixed set of trusted (pinned) certificates."""

    def __init__(self, trusted: Iterable[TrustedCertificate]) -> None:
        self._trusted = {cert.fingerprint: cert for cert in trusted}

    @classmethod
    def from_files(cls, paths: Iterable[Path]) -> SignatureVerifier:
        """A verifier trusting the certificates in these files."""
        return cls(load_trusted_certificates(paths))

    def verify(self, envelope: etree._Element) -> VerifiedSignature:
        """Verify the envelope's WS-Security signature or raise SignatureVerificationError."""
        soap_ns = etree.QName(envelope).namespace
        if etree.QName(envelope).localname != "Envelope" or soap_ns not in (SOAP11_NS, SOAP12_NS):
            raise SignatureVerificationError("not a SOAP envelope")
        body = _only(envelope.findall(f"{{{soap_ns}}}Body"), "SOAP Body")
        headers = envelope.findall(f"{{{soap_ns}}}Header")
        if len(headers) != 1:
            raise SignatureVerificationError("no SOAP Header")
        security = _only(headers[0].findall(f"{{{WSSE_NS}}}Security"), "wsse:Security header")
        signature = _only(security.findall(f"{{{DS_NS}}}Signature"), "ds:Signature")

        ids = _collect_ids(envelope)
        body_id = body.get(f"{{{WSU_NS}}}Id")
        if not body_id:
            raise SignatureVerificationError("the Body has no wsu:Id, so it cannot be signed")

        ctx = xmlsec.SignatureContext()
        signed_ids = _register_references(ctx, signature, ids)
        if body_id not in signed_ids:
            raise SignatureVerificationError("the signature does not cover the Body")

        certificate = self._token_certificate(security, signature, ids)
        for transform in _REFERENCE_TRANSFORMS:
            ctx.enable_reference_transform(transform)
        for transform in _SIGNATURE_TRANSFORMS:
            ctx.enable_signature_transform(transform)
        try:
            ctx.key = xmlsec.Key.from_memory(certificate.der, consts.KeyDataFormatCertDer, None)
            ctx.verify(signature)
        except xmlsec.Error as exc:
            raise SignatureVerificationError(
                "the signature does not verify (digest or signature value mismatch, or an "
                "algorithm that is not allowed)"
            ) from exc
        return VerifiedSignature(certificate=certificate, signed_ids=signed_ids)

    def _token_certificate(
        self,
        security: etree._Element,
        signature: etree._Element,
        ids: dict[str, etree._Element],
    ) -> TrustedCertificate:
        tokens = security.findall(f"{{{WSSE_NS}}}BinarySecurityToken")
        uris = signature.xpath(
            "ds:KeyInfo/wsse:SecurityTokenReference/wsse:Reference/@URI", namespaces=_NS
        )
        if isinstance(uris, list) and len(uris) == 1:
            token = ids.get(str(uris[0]).removeprefix("#"))
            if token is None or token not in tokens:
                raise SignatureVerificationError("the key reference points at no security token")
        else:
            token = _only(tokens, "wsse:BinarySecurityToken")
        if token.get("ValueType") != X509V3:
            raise SignatureVerificationError("the security token is not an X.509v3 certificate")
        if token.get("EncodingType", BASE64_BINARY) != BASE64_BINARY:
            raise SignatureVerificationError("the security token is not base64-encoded")
        try:
            der = base64.b64decode("".join((token.text or "").split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SignatureVerificationError("the security token is not valid base64") from exc
        trusted = self._trusted.get(hashlib.sha256(der).hexdigest())
        if trusted is None:
            raise SignatureVerificationError("the signing certificate is not trusted")
        return trusted


def _only(elements: list[etree._Element], what: str) -> etree._Element:
    if not elements:
        raise SignatureVerificationError(f"no {what}")
    if len(elements) > 1:
        raise SignatureVerificationError(f"more than one {what}")
    return elements[0]


def _collect_ids(envelope: etree._Element) -> dict[str, etree._Element]:
    """Every id-like attribute value in the document; a duplicate is refused outright.

    Duplicate ids are how signature-wrapping attacks make a verifier check one element while the
    application reads another, so we never have to guess which one a reference meant.
    """
    ids: dict[str, etree._Element] = {}
    for element in envelope.iter(etree.Element):
        for attribute in _ID_ATTRIBUTES:
            value = element.get(attribute)
            if value is None:
                continue
            if value in ids:
                raise SignatureVerificationError(f"duplicate id {value!r} in the document")
            ids[value] = element
    return ids


def _register_references(
    ctx: xmlsec.SignatureContext,
    signature: etree._Element,
    ids: dict[str, etree._Element],
) -> tuple[str, ...]:
    references = signature.findall(f"{{{DS_NS}}}SignedInfo/{{{DS_NS}}}Reference")
    if not references:
        raise SignatureVerificationError("the signature has no references")
    signed: list[str] = []
    for reference in references:
        uri = reference.get("URI") or ""
        if not uri.startswith("#") or len(uri) == 1:
            # Only same-document references by id: no whole-document or external URIs.
            raise SignatureVerificationError(f"unsupported reference URI {uri!r}")
        target = ids.get(uri[1:])
        if target is None or target.get(f"{{{WSU_NS}}}Id") != uri[1:]:
            raise SignatureVerificationError(f"reference {uri!r} matches no wsu:Id")
        ctx.register_id(target, "Id", WSU_NS)
        signed.append(uri[1:])
    return tuple(signed)
