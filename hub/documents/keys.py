"""Per-tenant document-signing identities: a private key and its certificate, loaded once.

A municipality signs with its own server certificate. The key comes from PEM files (key +
certificate, optionally a chain in the certificate file) or from one PKCS#12 file. A password is
never a configuration value: it is read from a file (``password_file``) or from an environment
variable (``password_env``), used once to decrypt, and dropped; it is never logged or kept.

Start-up refuses an identity that cannot be used: a missing file, a wrong password, a key that
does not belong to the certificate, a certificate that is expired or not yet valid.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from hub.documents.levels import LongTermSpec
from hub.errors import ConfigurationError

__all__ = ["SigningIdentity", "SigningKeySpec", "load_certificates", "load_signing_identity"]


@dataclass(frozen=True)
class SigningKeySpec:
    """Where a signing identity lives: ``key`` + ``cert`` (PEM) or ``pkcs12``, and its password.

    The password source is a file path or an environment variable *name*, never the value.
    ``long_term``: the signature level and the TSA/OCSP/CRL services it needs.
    """

    key: Path | None = None
    cert: Path | None = None
    pkcs12: Path | None = None
    password_file: Path | None = None
    password_env: str | None = None
    long_term: LongTermSpec = field(default_factory=LongTermSpec)

    def __post_init__(self) -> None:
        # Settings readers hand over strings for optional paths; accept them as paths.
        for name in ("key", "cert", "pkcs12", "password_file"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, Path(value) if value else None)

    def describe(self) -> str:
        """Where the identity comes from, for error messages (paths only, no secrets)."""
        if self.pkcs12:
            return f"PKCS#12 {self.pkcs12}"
        return f"key {self.key}, certificate {self.cert}"


class SigningIdentity:
    """A private key with its certificate (and chain), checked to belong together."""

    def __init__(
        self,
        key: RSAPrivateKey,
        certificate: x509.Certificate,
        chain: tuple[x509.Certificate, ...] = (),
    ) -> None:
        self.key = key
        self.certificate = certificate
        self.chain = chain

    def __repr__(self) -> str:
        # Never the key material: identities end up in logs and tracebacks.
        return f"SigningIdentity(subject={self.subject!r}, not_after={self.not_after.isoformat()})"

    @property
    def subject(self) -> str:
        """The certificate subject as an RFC 4514 string."""
        return self.certificate.subject.rfc4514_string()

    @property
    def signer_name(self) -> str:
        """Who signs, as a document names it: the certificate's organisation, else its common
        name, else the whole subject."""
        for oid in (NameOID.ORGANIZATION_NAME, NameOID.COMMON_NAME):
            found = self.certificate.subject.get_attributes_for_oid(oid)
            if found:
                return str(found[0].value)
        return self.subject

    @property
    def not_before(self) -> dt.datetime:
        return self.certificate.not_valid_before_utc

    @property
    def not_after(self) -> dt.datetime:
        return self.certificate.not_valid_after_utc

    @property
    def fingerprint_sha256(self) -> str:
        """SHA-256 of the DER certificate, as colon-separated upper-case hex."""
        return self.certificate.fingerprint(hashes.SHA256()).hex(":").upper()

    def expires_within(self, days: int, now: dt.datetime) -> bool:
        """Whether the certificate stops being valid within ``days`` of ``now`` (health check)."""
        return self.not_after <= now + dt.timedelta(days=days)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read the {what} {path}: {exc.strerror}") from exc


def _password(spec: SigningKeySpec) -> bytes | None:
    if spec.password_file is not None:
        # A trailing newline is how editors and `echo` write secrets; it is never part of one.
        return _read(spec.password_file, "password file").rstrip(b"\r\n")
    if spec.password_env is not None:
        value = os.environ.get(spec.password_env)
        if value is None:
            raise ConfigurationError(
                f"the environment variable {spec.password_env} (signing key password) is not set"
            )
        return value.encode("utf-8")
    return None


def _from_pkcs12(spec: SigningKeySpec, path: Path) -> tuple[object, list[x509.Certificate]]:
    try:
        data = _read(path, "PKCS#12 file")
        key, cert, extra = pkcs12.load_key_and_certificates(data, _password(spec))
    except ValueError as exc:
        # cryptography says "Invalid password or PKCS12 data": both are the operator's to fix.
        raise ConfigurationError(
            f"cannot open the PKCS#12 file {path}: wrong password or not a PKCS#12 file"
        ) from exc
    if key is None or cert is None:
        raise ConfigurationError(
            f"the PKCS#12 file {path} must hold a private key and its certificate"
        )
    return key, [cert, *extra]


def _from_pem(spec: SigningKeySpec) -> tuple[object, list[x509.Certificate]]:
    if spec.key is None or spec.cert is None:
        raise ConfigurationError("a signing identity needs either pkcs12, or both key and cert")
    key_data = _read(spec.key, "signing key")
    certs_data = _read(spec.cert, "signing certificate")
    try:
        key = serialization.load_pem_private_key(key_data, password=_password(spec))
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(
            f"cannot load the signing key {spec.key}: wrong or missing password, or not a PEM key"
        ) from exc
    try:
        certs = x509.load_pem_x509_certificates(certs_data)
    except ValueError as exc:
        raise ConfigurationError(f"cannot load the signing certificate {spec.cert}") from exc
    return key, certs


def load_certificates(spec: SigningKeySpec) -> list[x509.Certificate]:
    """The identity's certificate and chain, without the validity checks (``verify`` trusts
    them, also once expired). A PEM identity needs no password for this; PKCS#12 does."""
    if spec.pkcs12:
        return _from_pkcs12(spec, spec.pkcs12)[1]
    if spec.cert is None:
        raise ConfigurationError("a signing identity needs either pkcs12, or both key and cert")
    try:
        return x509.load_pem_x509_certificates(_read(spec.cert, "signing certificate"))
    except ValueError as exc:
        raise ConfigurationError(f"cannot load the signing certificate {spec.cert}") from exc


def load_signing_identity(spec: SigningKeySpec, *, now: dt.datetime) -> SigningIdentity:
    """Load and check one identity; raises :class:`ConfigurationError` saying what is wrong."""
    if spec.password_file is not None and spec.password_env is not None:
        raise ConfigurationError("give the signing key password as password_file or password_env")
    key, certs = _from_pkcs12(spec, spec.pkcs12) if spec.pkcs12 else _from_pem(spec)
    if not isinstance(key, RSAPrivateKey):
        raise ConfigurationError(f"the signing key of {spec.describe()} must be an RSA key")
    leaf, *chain = certs
    ours = serialization.PublicFormat.SubjectPublicKeyInfo
    encoding = serialization.Encoding.DER
    if key.public_key().public_bytes(encoding, ours) != leaf.public_key().public_bytes(
        encoding, ours
    ):
        raise ConfigurationError(
            f"the signing key and certificate of {spec.describe()} do not belong together"
        )
    identity = SigningIdentity(key, leaf, tuple(chain))
    if now < identity.not_before:
        raise ConfigurationError(
            f"the signing certificate {identity.subject} is not valid before "
            f"{identity.not_before.isoformat()}"
        )
    if now >= identity.not_after:
        raise ConfigurationError(
            f"the signing certificate {identity.subject} expired on "
            f"{identity.not_after.isoformat()}"
        )
    return identity
