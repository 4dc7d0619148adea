"""WS-Security for MAGDA: an X.509 BinarySecurityToken and an XML signature over the SOAP Body.

zeep's ``BinarySignature`` defaults to SHA-1, re-reads the key on every call and verifies every
reply (an unsigned reply raises). We pass RSA-SHA256 explicitly, load the key once, and apply our
own verification policy per back end (``verify`` / ``log-only`` / ``off``) against that back
end's trust store: one PEM file with MAGDA's reply-signing certificate(s).

A reply is checked the way the gateway signs it (``/work/shared/domain/magda.md`` §1): one
``ds:Signature`` in ``wsse:Security`` whose Reference names the Body's ``wsu:Id``, exclusive C14N,
RSA-SHA1 (MAGDA's official client) or RSA-SHA256/384/512. An MTOM reply is checked on its
XOP-decoded form (see :meth:`BodySignature.verify`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import structlog
import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from xmlsec import constants as xmlsec_constants
from zeep import ns
from zeep.wsse.signature import BinarySignature, _sign_envelope_with_key_binary

from adapters.magda.xop import XopError, reassemble
from hub.errors import ConfigurationError, PermanentError

__all__ = ["REPLY_POLICIES", "BodySignature", "ReplySignatureInvalid", "load_reply_keys"]

log = structlog.get_logger(__name__)

REPLY_POLICIES = ("verify", "log-only", "off")

# What a reply's references may do: canonicalise and digest. Anything else (XPath, XSLT,
# base64, enveloped-signature) is refused, so a Reference cannot filter away what it claims to
# cover (an XPath transform that selects nothing digests to a constant: the Body could then be
# anything).
_REFERENCE_TRANSFORMS = (
    xmlsec_constants.TransformExclC14N,
    xmlsec_constants.TransformSha1,  # MAGDA's official client digests with SHA-1
    xmlsec_constants.TransformSha256,
    xmlsec_constants.TransformSha384,
    xmlsec_constants.TransformSha512,
)
_SIGNATURE_TRANSFORMS = (
    xmlsec_constants.TransformExclC14N,
    xmlsec_constants.TransformRsaSha1,  # ... and signs with RSA-SHA1
    xmlsec_constants.TransformRsaSha256,
    xmlsec_constants.TransformRsaSha384,
    xmlsec_constants.TransformRsaSha512,
)


class ReplySignatureInvalid(PermanentError):
    """Under ``verify``, a reply whose Body is not signed by the back end's trusted certificate.

    Permanent on purpose. Another attempt gets the same answer until an operator acts (MAGDA
    changed its certificate: the trust store needs the new one) or it is an attack; and a retry
    is not harmless everywhere: the criminal record's first call *requests* an extract at the
    source, so a blind retry would request a second one. ``details`` carry the service, the
    reason and (added by the client) the MAGDA reference of the refused call.
    """

    default_code = "BACKEND_REPLY_SIGNATURE_INVALID"


def load_reply_keys(path: Path) -> tuple[xmlsec.Key, ...]:
    """Every certificate in a PEM (or one DER) file as a verification key; a trust store.

    Several certificates let a back end roll its signing certificate over without a gap.
    """
    try:
        raw = path.read_bytes()
        certificates = (
            x509.load_pem_x509_certificates(raw)
            if b"-----BEGIN" in raw
            else [x509.load_der_x509_certificate(raw)]
        )
        return tuple(
            xmlsec.Key.from_memory(
                certificate.public_bytes(Encoding.PEM), xmlsec_constants.KeyDataFormatCertPem,
                None,
            )
            for certificate in certificates
        )
    except (OSError, ValueError, xmlsec.Error) as exc:
        raise ConfigurationError(
            f"cannot load the reply signing certificate(s) {path}: {exc}"
        ) from exc


class BodySignature(BinarySignature):
    """Signs the Body of every request; checks replies by ``response_policy``."""

    def __init__(
        self,
        key_file: Path,
        cert_file: Path,
        *,
        response_policy: str = "off",
        response_cert_file: Path | None = None,
    ) -> None:
        try:
            super().__init__(
                str(key_file),
                str(cert_file),
                signature_method=xmlsec_constants.TransformRsaSha256,
                digest_method=xmlsec_constants.TransformSha256,
            )
            pem = xmlsec_constants.KeyDataFormatPem
            self._key = xmlsec.Key.from_memory(self.key_data, pem, None)
            self._key.load_cert_from_memory(self.cert_data, pem)
        except (OSError, xmlsec.Error) as exc:
            raise ConfigurationError(
                f"cannot load the MAGDA signing key/certificate: {exc}"
            ) from exc
        if response_policy not in REPLY_POLICIES:
            raise ConfigurationError("response signature policy must be verify, log-only or off")
        self._policy = response_policy
        if response_policy != "off" and response_cert_file is None:
            raise ConfigurationError(
                f"reply_signature = {response_policy!r} needs the back end's reply signing"
                " certificate (reply_signing_cert)"
            )
        self._response_keys = (
            load_reply_keys(response_cert_file)
            if response_policy != "off" and response_cert_file is not None
            else ()
        )

    @property
    def policy(self) -> str:
        return self._policy

    def apply(self, envelope: etree._Element, headers: Any) -> tuple[etree._Element, Any]:
        _sign_envelope_with_key_binary(
            envelope, self._key, self.signature_method, self.digest_method
        )
        return envelope, headers

    def verify(
        self,
        envelope: etree._Element,
        attachments: dict[str, bytes] | None = None,
        *,
        service: str = "",
    ) -> etree._Element:
        """Apply the policy to a reply that is not a SOAP Fault (faults are read first and never
        signed). Under ``verify`` a problem raises :class:`ReplySignatureInvalid`."""
        if self._policy == "off":
            return envelope
        problem = self._reply_signature_problem(envelope, attachments or {})
        if problem is not None:
            if self._policy == "verify":
                # An operator must hear of it: a whole back end refused means a certificate
                # that changed, one reply refused means someone changed it on the way.
                log.error("magda.reply.signature_refused", service=service, reason=problem)
                raise ReplySignatureInvalid(
                    f"the back end's reply signature does not verify: {problem}",
                    details={"service": service, "reason": problem},
                )
            log.warning("magda.reply.signature_invalid", service=service, reason=problem)
        return envelope

    def _reply_signature_problem(
        self, envelope: etree._Element, attachments: dict[str, bytes]
    ) -> str | None:
        """Why the reply's Body is not signed by a trusted certificate, or None."""
        if not self._response_keys:
            return "no certificate configured for replies"
        # MTOM: the gateway signs the Body with each document inline as base64 and only then
        # moves the documents to MIME parts (XOP). What it signed is the XOP-decoded infoset,
        # not the package: the placeholders `<xop:Include href="cid:…"/>` were never signed, so
        # checking the envelope as it arrives fails on every MTOM reply (the criminal record's
        # extract). The parts are covered through the Body: a changed byte in a PDF changes
        # the base64 put back here, hence the Body's digest. (WS-Security's SwA profile, with
        # cid: references and the Attachment-Content transform, is another packaging; MAGDA
        # uses MTOM.)
        try:
            envelope = reassemble(envelope, attachments)
        except XopError as exc:
            return f"the signed form cannot be rebuilt: {exc}"
        soap_env = envelope.tag.split("}")[0].lstrip("{")
        bodies = envelope.findall(f"{{{soap_env}}}Body")
        signatures = envelope.findall(
            f"{{{soap_env}}}Header/{{{ns.WSSE}}}Security/{{{ns.DS}}}Signature"
        )
        if len(bodies) != 1 or not signatures:
            return "no signature in the reply"
        if len(signatures) > 1:
            return "more than one signature in the reply"
        body, signature = bodies[0], signatures[0]
        body_id = body.get(f"{{{ns.WSU}}}Id")
        if not body_id:
            return "the reply Body has no wsu:Id"
        # Against signature wrapping: the id must name exactly one element, the Body itself,
        # and the signature must reference it.
        holders = envelope.xpath("//*[@wsu:Id=$id]", namespaces={"wsu": ns.WSU}, id=body_id)
        if holders != [body]:
            return "the Body's wsu:Id is not unique"
        references = signature.xpath(
            "ds:SignedInfo/ds:Reference/@URI", namespaces={"ds": ns.DS}
        )
        if f"#{body_id}" not in references:
            return "the signature does not cover the Body"
        for key in self._response_keys:
            context = xmlsec.SignatureContext()
            try:
                for element in envelope.xpath("//*[@wsu:Id]", namespaces={"wsu": ns.WSU}):
                    context.register_id(element, "Id", ns.WSU)
            except xmlsec.Error:
                # libxml2 knows an id once: a second wsu:Id with the same value (a copied
                # token) or an xml:id equal to a wsu:Id (a wrapped Body) makes register_id
                # raise. That is a forged reply, and is refused like one, not a crash.
                return "an id in the reply is not unique"
            for transform in _REFERENCE_TRANSFORMS:
                context.enable_reference_transform(transform)
            for transform in _SIGNATURE_TRANSFORMS:
                context.enable_signature_transform(transform)
            context.key = key
            try:
                context.verify(signature)
            except xmlsec.Error:
                continue
            return None
        return "the signature value does not match (or uses a transform that is not allowed)"
