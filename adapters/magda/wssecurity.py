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
from zeep.exceptions import SignatureVerificationFailed
from zeep.wsse.signature import (
    BinarySignature,
    _make_verify_key,
    _sign_envelope_with_key_binary,
    _verify_envelope_with_key,
)

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
        try:
            if self._response_key is None:
                raise SignatureVerificationFailed("no certificate configured for replies")
            _verify_envelope_with_key(envelope, self._response_key)
        except SignatureVerificationFailed as exc:
            if self._policy == "verify":
                raise BackendError(
                    "the back end's reply signature does not verify",
                    code="BACKEND_REPLY_SIGNATURE_INVALID",
                ) from exc
            log.warning("magda.reply.signature_invalid", reason=str(exc))
        return envelope
