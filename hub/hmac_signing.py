"""HMAC-SHA256 signatures of HTTP bodies sent to back offices (and checked by their simulator).

The signed string is ``<timestamp>.<body>``: the unix-seconds timestamp travels in
``X-Loket-Timestamp`` and the signature in ``X-Loket-Signature: sha256=<hex>``. Signing the
timestamp with the body lets a receiver refuse a replayed request once it is older than its
tolerance, not only a tampered one.

Standard library only: the hub's forwarder and the simulated back office both import it.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

__all__ = [
    "DEFAULT_TOLERANCE_S",
    "SIGNATURE_HEADER",
    "SIGNATURE_PREFIX",
    "TIMESTAMP_HEADER",
    "SignatureRejected",
    "sign",
    "signature",
    "verify",
]

SIGNATURE_HEADER = "X-Loket-Signature"
TIMESTAMP_HEADER = "X-Loket-Timestamp"
SIGNATURE_PREFIX = "sha256="
DEFAULT_TOLERANCE_S = 300


class SignatureRejected(ValueError):
    """A signed request does not verify; ``reason`` says why, in a stable word.

    Reasons: ``missing-timestamp``, ``bad-timestamp``, ``stale-timestamp``,
    ``missing-signature``, ``bad-signature``.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def signature(body: bytes, secret: bytes, timestamp: int) -> str:
    """The hex HMAC-SHA256 of ``<timestamp>.<body>`` under ``secret``."""
    signed = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret, signed, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers that sign ``body``: timestamp (now when not given) and signature."""
    if not secret:
        # An empty key still yields a valid-looking MAC: refuse instead of sending it.
        raise ValueError("an HMAC secret must not be empty")
    at = int(time.time()) if timestamp is None else timestamp
    return {
        TIMESTAMP_HEADER: str(at),
        SIGNATURE_HEADER: SIGNATURE_PREFIX + signature(body, secret, at),
    }


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # HTTP header names are case-insensitive; aiohttp's mapping is, a plain dict is not.
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def verify(
    body: bytes,
    secret: bytes,
    headers: Mapping[str, str],
    *,
    now: float | None = None,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> int:
    """Check the signature headers of ``body``; return the signed timestamp.

    Raises :class:`SignatureRejected` when a header is missing or malformed, the timestamp is
    more than ``tolerance_s`` seconds from ``now`` (either way), or the signature differs. The
    signature is compared last, so a stale replay is named as such even with a valid MAC.
    """
    if not secret:
        raise ValueError("an HMAC secret must not be empty")
    raw_signature = _header(headers, SIGNATURE_HEADER)
    if raw_signature is None:
        raise SignatureRejected("missing-signature", f"header {SIGNATURE_HEADER} is missing")
    given = raw_signature.strip()
    if not given.startswith(SIGNATURE_PREFIX):
        raise SignatureRejected(
            "bad-signature", f"{SIGNATURE_HEADER} must be {SIGNATURE_PREFIX}<hex>"
        )
    raw_timestamp = _header(headers, TIMESTAMP_HEADER)
    if raw_timestamp is None:
        raise SignatureRejected("missing-timestamp", f"header {TIMESTAMP_HEADER} is missing")
    stripped = raw_timestamp.strip()
    if not stripped.isascii() or not stripped.isdigit():
        raise SignatureRejected(
            "bad-timestamp", f"{TIMESTAMP_HEADER} must be unix seconds (digits only)"
        )
    timestamp = int(stripped)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        raise SignatureRejected(
            "stale-timestamp",
            f"{TIMESTAMP_HEADER} is more than {tolerance_s} s away from the receiver's clock",
        )
    expected = signature(body, secret, timestamp)
    # Compared as ASCII bytes: compare_digest refuses non-ASCII str, which a caller may send.
    if not hmac.compare_digest(
        given[len(SIGNATURE_PREFIX):].lower().encode("utf-8"), expected.encode("ascii")
    ):
        raise SignatureRejected("bad-signature", "the signature does not match the body")
    return timestamp
