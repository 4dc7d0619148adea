"""XAdES-T and long-term validation data on our XML signatures, and their check.

Added after signing, in ``xades:UnsignedProperties/UnsignedSignatureProperties`` (ETSI EN 319
132-1; no reference covers them, so xmlsec1 and signxml verify the signature as before):

- ``SignatureTimeStamp``: an RFC 3161 token over the SHA-256 of ``ds:SignatureValue`` in
  exclusive C14N (the ``ds:CanonicalizationMethod`` inside names it): XAdES-T (level B-T);
- ``CertificateValues`` (the chain and the TSA's, DER) and ``RevocationValues`` (the OCSP
  answers and CRLs): with them the signature verifies without any network, after the signing
  certificate expired (level B-LT; the XAdES-LT form, without the -C references).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms
from cryptography import x509
from lxml import etree
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import PathError, ValidationError

from hub.documents.longterm import LongTerm, asn1_cert
from hub.errors import SignatureError

__all__ = ["XmlLongTerm", "add_long_term", "check_long_term"]

XADES_NS = "http://uri.etsi.org/01903/v1.3.2#"
_DS_NS = "http://www.w3.org/2000/09/xmldsig#"
_EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
_NS = {"ds": _DS_NS, "xades": XADES_NS}


def _x(name: str) -> str:
    return f"{{{XADES_NS}}}{name}"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _signature_value_digest(signature: etree._Element) -> bytes:
    value = signature.find("ds:SignatureValue", namespaces=_NS)
    if value is None:
        raise SignatureError("the signature has no SignatureValue")
    canonical = etree.tostring(value, method="c14n", exclusive=True)
    return hashlib.sha256(canonical).digest()


def add_long_term(signed: etree._Element, long_term: LongTerm) -> None:
    """Stamp the signature of ``signed`` (B-T) and add the validation data (B-LT), in place."""
    signature = signed.find("ds:Signature", namespaces=_NS)
    properties = None if signature is None else signature.find(
        "ds:Object/xades:QualifyingProperties", namespaces=_NS)
    if signature is None or properties is None:
        raise SignatureError("no XAdES QualifyingProperties to add a time stamp to")
    token = long_term.stamp(_signature_value_digest(signature))
    unsigned = etree.SubElement(etree.SubElement(properties, _x("UnsignedProperties")),
                                _x("UnsignedSignatureProperties"))
    stamp = etree.SubElement(unsigned, _x("SignatureTimeStamp"))
    etree.SubElement(stamp, f"{{{_DS_NS}}}CanonicalizationMethod", Algorithm=_EXC_C14N)
    etree.SubElement(stamp, _x("EncapsulatedTimeStamp")).text = _b64(token)
    if not long_term.spec.long_term:
        return
    certs, ocsps, crls = long_term.material().base64
    values = etree.SubElement(unsigned, _x("CertificateValues"))
    for text in certs:
        etree.SubElement(values, _x("EncapsulatedX509Certificate")).text = text
    revocation = etree.SubElement(unsigned, _x("RevocationValues"))
    for kind, items in (("CRL", crls), ("OCSP", ocsps)):
        if items:
            parent = etree.SubElement(revocation, _x(f"{kind}Values"))
            for text in items:
                etree.SubElement(parent, _x(f"Encapsulated{kind}Value")).text = text


@dataclass(frozen=True)
class XmlLongTerm:
    """What a signature's unsigned properties prove, and the signer's path check."""

    level: str  # B-B, B-T, B-LT
    timestamp: dt.datetime | None
    trusted: bool  # the signer's chain validates to a trusted root at the proven time
    reason: str


def _decoded(parent: etree._Element, path: str) -> list[bytes]:
    return [base64.b64decode("".join((e.text or "").split()))
            for e in parent.findall(path, namespaces=_NS)]


def _timestamp(signature: etree._Element, roots: list[Any], extra: list[Any],
               at: dt.datetime | None) -> dt.datetime | None:
    """The verified time of the signature time stamp; raises when it does not verify."""
    stamps = signature.findall(".//xades:SignatureTimeStamp", namespaces=_NS)
    if not stamps:
        return None
    method = stamps[0].find("ds:CanonicalizationMethod", namespaces=_NS)
    if method is None or method.get("Algorithm") != _EXC_C14N:
        raise SignatureError("the signature time stamp names no exclusive C14N")
    (token_der, *_) = _decoded(stamps[0], "xades:EncapsulatedTimeStamp") or [b""]
    try:
        token = cms.ContentInfo.load(token_der)
        signed_data = token["content"]
        digest = _signature_value_digest(signature)
        context = ValidationContext(trust_roots=roots, other_certs=extra, moment=at,
                                    allow_fetching=False)
        status = asyncio.run(validate_tst_signed_data(signed_data, context, lambda _: digest))
    except (ValueError, KeyError, TypeError) as exc:
        raise SignatureError(f"unreadable signature time stamp: {exc}") from exc
    trusted = status.get("validation_path") is not None and not status.get("trust_problem_indic")
    if not (status.get("intact") and status.get("valid") and trusted):
        raise SignatureError("the signature time stamp does not verify (or its TSA is not "
                             "trusted)")
    when: dt.datetime = status["timestamp"]
    return when


def _validate_signer(leaf: x509.Certificate, context: ValidationContext) -> str | None:
    validator = CertificateValidator(asn1_cert(leaf), validation_context=context)
    try:
        asyncio.run(validator.async_validate_path())
    except (PathError, ValidationError) as exc:
        return str(exc)
    return None


def check_long_term(
    document: etree._Element, leaf: x509.Certificate, chain: Iterable[x509.Certificate],
    roots: list[x509.Certificate], *, signed_at: dt.datetime, at: dt.datetime | None = None,
) -> XmlLongTerm:
    """The level of the signature in ``document`` and whether ``leaf`` chains to ``roots``.

    With a time stamp, the signer is checked at its time (the proof the signature existed
    then); else at ``at``, or at the signing time it claims when ``at`` is not given.
    """
    signature = document.find("ds:Signature", namespaces=_NS)
    if signature is None:
        raise SignatureError("the document carries no XML signature")
    unsigned = signature.find(".//xades:UnsignedSignatureProperties", namespaces=_NS)
    values = [] if unsigned is None else _decoded(
        unsigned, "xades:CertificateValues/xades:EncapsulatedX509Certificate")
    ocsps = [] if unsigned is None else _decoded(
        unsigned, "xades:RevocationValues/xades:OCSPValues/xades:EncapsulatedOCSPValue")
    crls = [] if unsigned is None else _decoded(
        unsigned, "xades:RevocationValues/xades:CRLValues/xades:EncapsulatedCRLValue")
    asn1_roots = [asn1_cert(r) for r in roots]
    extra = [asn1_cert(c) for c in chain] + [asn1_cert(x509.load_der_x509_certificate(v))
                                             for v in values]
    stamped = _timestamp(signature, asn1_roots, extra, at) if unsigned is not None else None
    long_term = stamped is not None and bool(ocsps or crls)
    context = ValidationContext(
        trust_roots=asn1_roots, other_certs=extra, ocsps=ocsps, crls=crls,
        moment=stamped or at or signed_at, allow_fetching=False,
        revocation_mode="hard-fail" if long_term else "soft-fail",
    )
    problem = _validate_signer(leaf, context)
    level = "B-B" if stamped is None else ("B-LT" if long_term and problem is None else "B-T")
    return XmlLongTerm(level, stamped, problem is None,
                       problem or "the signer's chain validates to a trusted root")
