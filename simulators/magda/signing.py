"""Reply signatures, and the reply-level faults that play with them or with the XML prolog.

Replies are signed the way the hub signs requests (zeep's ``BinarySignature``: a
``wsse:BinarySecurityToken`` and an exclusive-C14N RSA-SHA256 signature over the Body's
``wsu:Id``), so the hub's verification policy can be tested against a real signature.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import xmlsec
from lxml import etree
from zeep.wsse.signature import BinarySignature

from hub.devpki import KeyPair
from simulators.magda.envelopes import GATEWAY_NAME, envelope
from simulators.wssecurity import SOAP11_NS

__all__ = ["ReplySigner", "render_reply"]

_ENTITY = "gateway"


class ReplySigner:
    """Signs reply envelopes with one key pair, read from disk once."""

    def __init__(self, pair: KeyPair) -> None:
        # BinarySignature reads both files here; zeep's default would be RSA-SHA1 and SHA-1.
        # zeep ships no annotations for it (the hub's own signing modules relax this check).
        self._signature: Any = BinarySignature(  # type: ignore[no-untyped-call]
            str(pair.key),
            str(pair.cert),
            signature_method=xmlsec.constants.TransformRsaSha256,
            digest_method=xmlsec.constants.TransformSha256,
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
    of the signed Body afterwards; ``entity-declaration`` puts a DOCTYPE with an internal entity
    in front and uses the entity in the Body (its expansion is the original text, so a parser
    that expands entities sees the same, validly signed, answer). ``after_signing`` changes the
    envelope between signing and serialising (MTOM moves documents out of the signed form).
    """
    document = envelope(payload)
    if signer is not None and kind != "unsigned-reply":
        signer.sign(document)
        if kind == "tampered-reply-signature":
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
