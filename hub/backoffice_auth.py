"""Who may change a decision: signed decisions and actions on ``loket.backoffice``, per tenant.

An employee's decision (``decision.<tenant>``) and a back office's action (``action.<tenant>``)
change what a citizen receives, so anyone who can publish on the broker must not be able to
send one. Each carries an HMAC-SHA256 signature made with the *tenant's* back-office secret
over ``<timestamp>.<body>`` (the same construction as signed HTTP forwards,
:mod:`hub.hmac_signing`), in the AMQP headers ``x-loket-timestamp`` (unix seconds) and
``x-loket-signature`` (``sha256=<hex>``). The receiver checks, in this order: the routing key
names a known tenant, the signature headers are there and well-formed, the timestamp is within
the allowed clock skew ahead and not older than the allowed age, the signature matches the body
under that tenant's secret. The worker then checks that the job belongs to that tenant and that
the same signed message was not applied to the job before (replay).

Standard library only (besides :mod:`hub.hmac_signing`): the back-office simulator and test
helpers sign with :func:`sign_message`.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.hmac_signing import SIGNATURE_PREFIX, signature

__all__ = [
    "AMQP_SIGNATURE_HEADER",
    "AMQP_TIMESTAMP_HEADER",
    "MessageRejected",
    "TenantSecrets",
    "sign_message",
    "signature_key",
    "tenant_of_routing_key",
]

AMQP_TIMESTAMP_HEADER = "x-loket-timestamp"
AMQP_SIGNATURE_HEADER = "x-loket-signature"


class MessageRejected(ValueError):
    """A decision or action that may not be applied; ``reason`` is a stable word, also the
    dead letter's ``x-loket-dead-reason``: ``unknown-tenant``, ``unsigned``,
    ``bad-timestamp``, ``stale-signature``, ``bad-signature``, ``wrong-tenant``,
    ``replayed``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    @property
    def code(self) -> str:
        """The error code of the dead letter's ``x-loket-error``."""
        return "MESSAGE_" + self.reason.upper().replace("-", "_")


def sign_message(body: bytes, secret: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The AMQP headers that sign ``body`` for the tenant whose secret this is."""
    if not secret:
        raise ValueError("an HMAC secret must not be empty")
    at = int(time.time()) if timestamp is None else timestamp
    return {AMQP_TIMESTAMP_HEADER: str(at),
            AMQP_SIGNATURE_HEADER: SIGNATURE_PREFIX + signature(body, secret, at)}


def tenant_of_routing_key(routing_key: str | None, prefix: str) -> str | None:
    """``gent`` of ``decision.gent`` (prefix ``decision``); None when it names none."""
    if not routing_key:
        return None
    head, _, tenant = routing_key.partition(".")
    if head != prefix or not tenant or "." in tenant:
        return None
    return tenant


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        try:
            return value.decode("ascii")
        except UnicodeDecodeError:
            return None
    return value if isinstance(value, str) else None


def signature_key(headers: Mapping[str, Any]) -> str:
    """A short name of a message's signature, to remember it was applied (replays)."""
    given = _text(headers.get(AMQP_SIGNATURE_HEADER)) or ""
    return hashlib.sha256(given.strip().lower().encode("ascii", "replace")).hexdigest()[:32]


@dataclass(frozen=True)
class TenantSecrets:
    """Each tenant's back-office secret, read once from its file (never a value in config).

    ``max_age_s``: how old a signed message may be when it is read (it may wait in a queue
    while the hub is down); ``max_skew_s``: how far ahead of our clock its timestamp may be.
    """

    secrets: Mapping[str, bytes]
    max_age_s: float = 900.0
    max_skew_s: float = 300.0

    @classmethod
    def from_files(cls, files: Mapping[str, Path], *, max_age_s: float = 900.0,
                   max_skew_s: float = 300.0) -> TenantSecrets:
        """Read ``tenant → secret file``; a missing or empty file leaves that tenant without
        a secret, so every decision for it is refused (and check-config says so)."""
        secrets: dict[str, bytes] = {}
        for tenant, path in files.items():
            try:
                secret = path.read_bytes().strip()
            except OSError:
                continue
            if secret:
                secrets[tenant] = secret
        return cls(secrets, max_age_s, max_skew_s)

    def secret(self, tenant: str) -> bytes | None:
        return self.secrets.get(tenant)

    def verify(self, body: bytes, headers: Mapping[str, Any], routing_key: str | None,
               prefix: str, *, now: float | None = None) -> str:
        """The tenant that signed this message; raises :class:`MessageRejected`."""
        tenant = tenant_of_routing_key(routing_key, prefix)
        secret = self.secrets.get(tenant) if tenant else None
        if tenant is None or secret is None:
            raise MessageRejected("unknown-tenant",
                                  f"routing key {str(routing_key)[:100]!r} names no tenant "
                                  f"with a back-office secret ({prefix}.<tenant>)")
        given = _text(headers.get(AMQP_SIGNATURE_HEADER))
        stamp = _text(headers.get(AMQP_TIMESTAMP_HEADER))
        if given is None or stamp is None:
            raise MessageRejected("unsigned", f"headers {AMQP_TIMESTAMP_HEADER} and "
                                  f"{AMQP_SIGNATURE_HEADER} are required")
        stamp = stamp.strip()
        if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
            raise MessageRejected("bad-timestamp",
                                  f"{AMQP_TIMESTAMP_HEADER} must be unix seconds")
        at = int(stamp)
        current = time.time() if now is None else now
        if at - current > self.max_skew_s or current - at > self.max_age_s:
            raise MessageRejected(
                "stale-signature",
                f"signed at {at}, outside [{self.max_age_s:g} s before, {self.max_skew_s:g} s "
                "after] the hub's clock: sign it again")
        given = given.strip().lower()
        expected = SIGNATURE_PREFIX + signature(body, secret, at)
        if not hmac.compare_digest(given.encode("ascii", "replace"), expected.encode("ascii")):
            raise MessageRejected("bad-signature",
                                  f"the signature does not match the body under {tenant}'s "
                                  "back-office secret")
        return tenant
