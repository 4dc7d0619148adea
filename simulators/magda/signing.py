"""Reply signatures, and the reply-level faults that play with them or with the XML prolog.

Replies are signed the way the hub signs requests and the MAGDA gateway signs its replies
(zeep's ``BinarySignature``: a ``wsse:BinarySecurityToken`` and an exclusive-C14N signature over
the Body's ``wsu:Id``; RSA-SHA256, or RSA-SHA1 as MAGDA's official client signs), so the hub's
verification policy is tested against a real signature. A reply that carries documents is signed
with each document inline as base64 and only then packaged as MTOM (:mod:`.mtom`): the signature
covers the XOP-decoded infoset, the attachments through the Body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import xmlsec
from lxml import etree
from zeep.wsse.signature import BinarySignature

from hub.devpki import KeyPair, generate_self_signed
from simulators.magda.envelopes import GATEWAY_NAME, envelope
from simulators.magda.settings import dev_reply_signing
from simulators.wssecurity import SOAP11_NS

__all__ = ["SIGNATURE_METHODS", "ReplySigner", "render_reply", "tamper_attachment"]

_ENTITY = "gateway"
SIGNATURE_METHODS = {
    "rsa-sha256": (xmlsec.constants.TransformRsaSha256, xmlsec.constants.TransformSha256),
    "rsa-sha1": (xmlsec.constants.TransformRsaSha1, xmlsec.constants.TransformSha1),
}
"""Signature and digest algorithm per name; ``rsa-sha1`` is what MAGDA's official client uses."""


class ReplySigner:
    """Signs reply envelopes with one key pair, read from disk once."""

    def __init__(self, pair: KeyPair, *, method: str = "rsa-sha256") -> None:
        if pair == dev_reply_signing():
            # The development gateway's pair is made on first use (as generate_dev_pki does).
            generate_self_signed(pair.key.parent, "magda-gateway",
                                 "loket-hub dev MAGDA gateway (reply signing)")
        signature_method, digest_method = SIGNATURE_METHODS[method]
        # BinarySignature reads both files here; zeep's default would be RSA-SHA1 and SHA-1.
        # zeep ships no annotations for it (the hub's own signing modules relax this check).
        self._signature: Any = BinarySignature(  # type: ignore[no-untyped-call]
            str(pair.key),
            str(pair.cert),
            signature_method=signature_method,
            digest_method=digest_method,
        )

    def sign(self, document: etree._Element) -> None:
        """Add wsse:Security with token and signature to the envelope, in place."""
        self._signature.apply(document, {})


def render_reply(
    payload: etree._Element, signer: ReplySigner | None, kind: str | None,
    after_signing: Callable[[etree._Element], None] | None = None,
) -> bytes:
    """The reply document for ``payload``: signed when a signer is set, shaped by fault ``kind``.

    ``unsigned-reply`` skips the signature; ``tampered-reply-signature`` changes one character
    of the signed Body afterwards (so does ``tampered-reply-attachment`` when the reply has no
    MTOM part to spoil; with one, :func:`tamper_attachment` spoils the part instead);
    ``entity-declaration`` puts a DOCTYPE with an internal entity in front and uses the entity
    in the Body (its expansion is the original text, so a parser that expands entities sees the
    same, validly signed, answer). ``after_signing`` changes the envelope between signing and
    serialising (MTOM moves the documents, signed inline, out to their parts).
    """
    document = envelope(payload)
    if signer is not None and kind != "unsigned-reply":
        signer.sign(document)
        if kind == "tampered-reply-signature" or (
            kind == "tampered-reply-attachment" and after_signing is None
        ):
            _tamper(document)
    if after_signing is not None:
        after_signing(document)
    if kind == "entity-declaration":
        return _with_entity(document)
    return bytes(etree.tostring(document, xml_declaration=True, encoding="UTF-8"))


def _tamper(document: etree._Element) -> None:
    # The gateway's own reference: every reply has it, and a UUID stays a UUID.
    referte = document.find(
        f"{{{SOAP11_NS}}}Body/*/Repliek/Context/Bericht/Afzender/Referte"
    )
    if referte is None or not referte.text:
        raise ValueError("a reply without Context/Bericht/Afzender/Referte")
    last = referte.text[-1]
    referte.text = referte.text[:-1] + ("1" if last == "0" else "0")


def _with_entity(document: etree._Element) -> bytes:
    text = etree.tostring(document, xml_declaration=False, encoding="UTF-8")
    plain = f"<Naam>{GATEWAY_NAME}</Naam>".encode()
    if plain not in text:
        raise ValueError("a reply without the gateway's Naam")
    doctype = f'<!DOCTYPE soapenv:Envelope [<!ENTITY {_ENTITY} "{GATEWAY_NAME}">]>\n'.encode()
    return doctype + bytes(text).replace(plain, f"<Naam>&{_ENTITY};</Naam>".encode(), 1)


def tamper_attachment(data: bytes) -> bytes:
    """``data`` with one byte changed after signing, as on a hostile path.

    For a PDF, a byte of the binary comment on its second line (``%âãÏÓ``): the file still
    reads as a PDF, so a hub that only logs the bad signature can still deliver it, while
    every byte counts for the reply signature (through the Body's base64).
    """
    if not data:
        return b"\x00"
    index = data.find(b"\n%", 0, 64) + 2 if data.startswith(b"%PDF") else -1
    if not 2 <= index < len(data):
        index = len(data) - 1
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1:]
