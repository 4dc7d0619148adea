"""The CMS SignedData of a PAdES signature (CAdES detached, RFC 5652 and ETSI EN 319 122-1),
assembled from DER parts made once per signing identity.

What pyHanko's ``Signer.async_sign`` builds for our signatures: SHA-256 with RSA PKCS#1 v1.5,
the signer named by issuer and serial number, the signed attributes content-type,
message-digest and signing-certificate-v2 (no signing-time: PAdES puts it in the signature
dictionary), the signer's certificate and its CAs, and at B-T and above a
signature-time-stamp-token over the signature value as the one unsigned attribute.

Everything but the message digest, the signature value and the time-stamp token is the same for
every signature of an identity, so asn1crypto and pyHanko's own attribute builder encode those
parts once, here; a signature only frames the three changing values in DER (tag, length,
content). pyHanko does the same work with asn1crypto objects for every signature, through
asyncio tasks for its attribute providers: 1.5 ms of CPU above the RSA signature itself on the
machine of ``docs/performance.md``, and about 1 ms more to encode a time-stamp token again that
it had parsed. ``tests/documents/test_cms.py`` holds the result to pyHanko's, byte for byte.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from asn1crypto import algos, cms
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute

__all__ = ["CmsSigner", "der"]

_SEQUENCE, _SET, _OCTET_STRING = 0x30, 0x31, 0x04
_CONTEXT_0, _CONTEXT_1 = 0xA0, 0xA1  # [0] and [1], constructed


def der(tag: int, *content: bytes) -> bytes:
    """One DER element (X.690 8.1): ``tag``, the definite length of ``content``, ``content``."""
    body = b"".join(content)
    size = len(body)
    if size < 0x80:
        return bytes((tag, size)) + body
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + body


class CmsSigner:
    """Detached CMS signatures over a SHA-256 document digest, for one key and its chain.

    ``certs``: the signer's certificate first, then its CAs (DER), embedded as given.
    """

    def __init__(self, key: RSAPrivateKey, certs: Sequence[bytes]) -> None:
        if not certs:
            raise ValueError("a CMS signer needs its certificate")
        self._key = key
        signer = asn1_x509.Certificate.load(certs[0])
        self._signed_prefix = (
            cms.CMSAttribute({"type": "content_type", "values": ["data"]}).dump()
            + _message_digest_prefix()
        )
        self._signed_suffix = simple_cms_attribute(  # type: ignore[no-untyped-call]
            "signing_certificate_v2", as_signing_certificate_v2(signer)).dump()
        self._before_attributes = (
            b"\x02\x01\x01"  # SignerInfo version 1: issuer and serial number
            + cms.SignerIdentifier({"issuer_and_serial_number": {
                "issuer": signer.issuer, "serial_number": signer.serial_number}}).dump()
            + _DIGEST_ALGORITHM
        )
        self._before_signers = (
            b"\x02\x01\x01"  # SignedData version 1
            + der(_SET, _DIGEST_ALGORITHM)
            + der(_SEQUENCE, cms.ContentType("data").dump())  # detached: no content
            + der(_CONTEXT_0, *certs)
        )
        self.signature_bytes = key.key_size // 8

    def signed_attributes(self, digest: bytes) -> bytes:
        """The DER SET of signed attributes for a document ``digest``, as RSA signs it."""
        if len(digest) != 32:
            raise ValueError("a SHA-256 digest has 32 bytes")
        return der(_SET, self._signed_prefix, digest, self._signed_suffix)

    def sign(self, digest: bytes, timestamp: Callable[[bytes], bytes] | None = None) -> bytes:
        """The DER ContentInfo of a signature over the document ``digest``.

        ``timestamp``: at B-T and above, the TSA (a SHA-256 digest in, a DER time-stamp
        token out), asked for a token over the signature value.
        """
        attributes = self.signed_attributes(digest)
        signature = self._key.sign(attributes, PKCS1v15(), hashes.SHA256())
        unsigned = b""
        if timestamp is not None:
            token = timestamp(hashlib.sha256(signature).digest())
            unsigned = der(_CONTEXT_1, der(_SEQUENCE, _TIME_STAMP_TOKEN, der(_SET, token)))
        signer_info = der(
            _SEQUENCE, self._before_attributes, bytes((_CONTEXT_0,)) + attributes[1:],
            _SIGNATURE_ALGORITHM, der(_OCTET_STRING, signature), unsigned,
        )
        signed_data = der(_SEQUENCE, self._before_signers, der(_SET, signer_info))
        return der(_SEQUENCE, _SIGNED_DATA, der(_CONTEXT_0, signed_data))


def _message_digest_prefix() -> bytes:
    """The message-digest attribute's DER before its 32 digest bytes."""
    encoded: bytes = cms.CMSAttribute({"type": "message_digest", "values": [bytes(32)]}).dump()
    return encoded[:-32]


_DIGEST_ALGORITHM = algos.DigestAlgorithm({"algorithm": "sha256"}).dump()
_SIGNATURE_ALGORITHM = algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}).dump()
_SIGNED_DATA = cms.ContentType("signed_data").dump()
_TIME_STAMP_TOKEN = cms.CMSAttributeType("signature_time_stamp_token").dump()
