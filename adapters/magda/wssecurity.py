"""WS-Security for MAGDA: an X.509 BinarySecurityToken and an XML signature over the SOAP Body.

zeep's ``BinarySignature`` defaults to SHA-1, re-reads the key on every call and verifies every
reply (an unsigned reply raises). We pass RSA-SHA256 explicitly, load the key once, and apply our
own verification policy per back end (``verify`` / ``log-only`` / ``off``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import structlog
import xmlsec
from lxml import etree
from xmlsec import constants as xmlsec_constants
from zeep import ns
from zeep.wsse.signature import BinarySignature, _make_verify_key, _sign_envelope_with_key_binary

from hub.errors import BackendError, ConfigurationError

__all__ = ["BodySignature"]

log = structlog.get_logger(__name__)


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
        if response_policy not in {"verify", "log-only", "off"}:
            raise ConfigurationError("response signature policy must be verify, log-only or off")
        self._policy = response_policy
        self._response_key = (
            _make_verify_key(response_cert_file.read_bytes())
            if response_policy != "off" and response_cert_file
            else None
        )

    def apply(self, envelope: etree._Element, headers: Any) -> tuple[etree._Element, Any]:
        _sign_envelope_with_key_binary(
            envelope, self._key, self.signature_method, self.digest_method
        )
        return envelope, headers

    def verify(self, envelope: etree._Element) -> etree._Element:
        if self._policy == "off":
            return envelope
        problem = self._reply_signature_problem(envelope)
        if problem is not None:
            if self._policy == "verify":
                raise BackendError(
                    f"the back end's reply signature does not verify: {problem}",
                    code="BACKEND_REPLY_SIGNATURE_INVALID",
                )
            log.warning("magda.reply.signature_invalid", reason=problem)
        return envelope

    def _reply_signature_problem(self, envelope: etree._Element) -> str | None:
        """Why the reply's Body is not signed by the configured certificate, or None."""
        if self._response_key is None:
            return "no certificate configured for replies"
        soap_env = envelope.tag.split("}")[0].lstrip("{")
        body = envelope.find(f"{{{soap_env}}}Body")
        security = f"{{{soap_env}}}Header/{{{ns.WSSE}}}Security"
        signature = envelope.find(f"{security}/{{{ns.DS}}}Signature")
        if body is None or signature is None:
            return "no signature in the reply"
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
        context = xmlsec.SignatureContext()
        try:
            for element in envelope.xpath("//*[@wsu:Id]", namespaces={"wsu": ns.WSU}):
                context.register_id(element, "Id", ns.WSU)
        except xmlsec.Error:
            # libxml2 knows an id once: a second wsu:Id with the same value (a copied token)
            # or an xml:id equal to a wsu:Id (a wrapped Body) makes register_id raise. That is
            # a forged reply, and must be refused like one, not escape as an untyped crash.
            return "an id in the reply is not unique"
        context.key = self._response_key
        try:
            context.verify(signature)
        except xmlsec.Error:
            return "the signature value does not match"
        return None
