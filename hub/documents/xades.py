"""Enveloped XAdES signatures over whole certificate documents (signxml), and their check.

The signature carries three references, all SHA-256 with exclusive C14N: the document (enveloped),
the XAdES ``SignedProperties`` (``SigningTime``, ``SigningCertificateV2`` digest) and ``KeyInfo``,
whose ``X509Data`` holds the signing certificate and its chain. A tenant at level B-T and up also
gets a signature time stamp (XAdES-T), at B-LT the validation data (:mod:`hub.documents.xades_lt`).
Independent check with xmlsec1 (Debian ``xmlsec1``), which takes the key from the certificate in
``X509Data`` only (``--enabled-key-data x509``) and checks that certificate's chain up to the
trusted CA; the ``--id-attr`` option names the ``Id`` attribute the ``SignedProperties``
reference points at::

    xmlsec1 --verify --enabled-key-data x509 --trusted-pem var/dev-pki/ca/root.crt \\
        --id-attr:Id http://uri.etsi.org/01903/v1.3.2#:SignedProperties certificate.xml

A valid document prints ``OK`` and ``SignedInfo References (ok/all): 3/3`` on stderr (exit 0);
one changed byte prints ``FAIL``, another CA as ``--trusted-pem`` ``certificate verification
failed`` and ``ERROR`` (exit 1 both). xmlsec1 1.2.37
also finds the ``Id`` without the option; other builds do not, so the command keeps it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from base64 import b64encode
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.exceptions import InvalidInput, InvalidSignature
from signxml.xades.xades import XAdESSignatureConfiguration, XAdESSigner, XAdESVerifier

from hub.documents.keys import SigningIdentity
from hub.documents.longterm import LongTerm
from hub.documents.xades_lt import add_long_term
from hub.errors import SignatureError

__all__ = ["XADES_NS", "VerifiedXml", "XadesSigner", "verify_xades"]

XADES_NS = "http://uri.etsi.org/01903/v1.3.2#"
_DS_NS = "http://www.w3.org/2000/09/xmldsig#"
_EXC_C14N = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0
_NS = {"ds": _DS_NS, "xades": XADES_NS}
# Trust only what we sign with: a downgraded or re-shaped signature is refused, and the
# ds:Signature must sit directly under the root (no wrapping attacks).
_EXPECTED = XAdESSignatureConfiguration(
    location="./",
    expect_references=3,
    signature_methods=frozenset({SignatureMethod.RSA_SHA256}),
    digest_algorithms=frozenset({DigestAlgorithm.SHA256}),
)


def _ds(name: str) -> str:
    return f"{{{_DS_NS}}}{name}"


class _Signer(XAdESSigner):
    """signxml's XAdES signer with a fixed signing time and explicit reference transforms."""

    def __init__(self, signing_time: dt.datetime) -> None:
        super().__init__(
            signature_algorithm=SignatureMethod.RSA_SHA256,
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=_EXC_C14N,
        )
        self._signing_time = signing_time

    def add_signing_time(self, properties: Any, sig_root: Any, signing_settings: Any) -> None:
        node = etree.SubElement(properties, f"{{{XADES_NS}}}SigningTime")
        node.text = self._signing_time.astimezone(dt.UTC).isoformat(timespec="seconds")

    def _add_reference_to_signed_info(
        self, sig_root: Any, node_to_reference: Any, **attrs: Any
    ) -> None:
        # signxml digests SignedProperties and KeyInfo with our C14N but lists no transform, and
        # a reference without transforms means inclusive C14N to every other verifier (xmlsec1
        # fails it). Naming exclusive C14N explicitly makes the digest mean the same everywhere.
        signed_info = sig_root.find("ds:SignedInfo", namespaces=_NS)
        target = f"#{node_to_reference.get('Id')}"
        reference = etree.SubElement(signed_info, _ds("Reference"), URI=target)
        for name, value in attrs.items():
            reference.set(name, value)
        transforms = etree.SubElement(reference, _ds("Transforms"))
        etree.SubElement(transforms, _ds("Transform"), Algorithm=_EXC_C14N.value)
        etree.SubElement(reference, _ds("DigestMethod"), Algorithm=self.digest_alg.value)
        canonical = self._c14n(node_to_reference, algorithm=_EXC_C14N)
        digest = self._get_digest(canonical, algorithm=self.digest_alg)
        etree.SubElement(reference, _ds("DigestValue")).text = b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class VerifiedXml:
    """What a valid signature covers: the signed document (signature removed) and who/when."""

    signer_subject: str
    signing_time: dt.datetime
    signer_certificate: x509.Certificate
    signed_root: etree._Element


class XadesSigner:
    """Signs certificate documents with one tenant's identity (loaded once, reused)."""

    def __init__(self, identity: SigningIdentity, long_term: LongTerm | None = None) -> None:
        self._identity = identity
        self._long_term = long_term
        self.signer_name = identity.signer_name

    def sign(self, root: etree._Element, *, signing_time: dt.datetime | None = None) -> bytes:
        """The signed document as UTF-8 bytes with an XML declaration.

        ``signing_time`` defaults to now; pass the issue time to tie the signature to it.
        """
        when = signing_time or dt.datetime.now(dt.UTC)
        chain = [self._identity.certificate, *self._identity.chain]
        try:
            signed = _Signer(when).sign(root, key=self._identity.key, cert=chain)
        except (InvalidInput, ValueError) as exc:
            raise SignatureError(f"XAdES signing failed: {exc}") from exc
        if self._long_term is not None and self._long_term.spec.timestamped:
            add_long_term(signed, self._long_term)
        out: bytes = etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
        return out

    def verify(self, document: bytes) -> VerifiedXml:
        """Verify against this identity's own certificate."""
        return verify_xades(document, self._identity.certificate)


def _signing_time(element: etree._Element) -> dt.datetime:
    text = element.findtext(".//xades:SigningTime", namespaces=_NS)
    if not text:
        raise SignatureError("the signature has no XAdES SigningTime")
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise SignatureError(f"unreadable XAdES SigningTime {text!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def verify_xades(document: bytes, trusted: x509.Certificate) -> VerifiedXml:
    """Verify ``document`` as signed by exactly ``trusted``; raises :class:`SignatureError`.

    The certificate's validity is checked at the signing time the signature itself covers, so a
    document stays verifiable after its signer's certificate was renewed.
    """
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        claimed = etree.fromstring(document, parser)
        signature = claimed.find("ds:Signature", namespaces=_NS)
        if signature is None:
            raise SignatureError("the document carries no XML signature")
        when = _signing_time(signature)
        config = dataclasses.replace(_EXPECTED, verification_time=when)
        results = XAdESVerifier().verify(document, x509_cert=trusted, expect_config=config)
    except (InvalidSignature, InvalidInput, etree.XMLSyntaxError) as exc:
        raise SignatureError(f"XML signature does not verify: {exc}") from exc
    signed_root = results[0].signed_xml
    # Only what the signature covers counts: the whole document (reference 0) and the signing
    # time read from the verified SignedProperties (reference 1), not from the input bytes.
    signed_properties = getattr(results[1], "signed_properties", None)
    if signed_root is None or signed_root.tag != claimed.tag or signed_properties is None:
        raise SignatureError("the signature does not cover the document and its signed properties")
    verified_time = _signing_time(signed_properties)
    if verified_time != when:
        raise SignatureError("the signing time read differs from the signed one")
    return VerifiedXml(
        signer_subject=trusted.subject.rfc4514_string(),
        signing_time=verified_time,
        signer_certificate=trusted,
        signed_root=signed_root,
    )
