"""Settings of the MAGDA simulator."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hub.devpki import KeyPair

__all__ = ["MagdaSimulatorSettings", "TlsSettings", "default_wsdl_dir", "dev_reply_signing"]


def default_wsdl_dir() -> Path:
    """The repository's ``wsdl/magda`` folder (this file is ``simulators/magda/settings.py``)."""
    return Path(__file__).resolve().parents[2] / "wsdl" / "magda"


def dev_reply_signing() -> KeyPair:
    """The development gateway's reply-signing pair in ``var/dev-pki`` (``generate_dev_pki``),
    which the hub trusts by default (``magda.reply_signing_cert``)."""
    directory = Path(__file__).resolve().parents[2] / "var" / "dev-pki"
    return KeyPair(directory / "magda-gateway.key", directory / "magda-gateway.crt")


@dataclass(frozen=True)
class TlsSettings:
    """Serve HTTPS with ``cert``/``key`` (PEM); with ``require_client_cert``, mutual TLS.

    Each of ``client_cas`` (PEM) is trusted as a CA for client certificates; a self-signed client
    certificate is simply listed itself, as MAGDA's dev certificates are.
    """

    cert: Path
    key: Path
    client_cas: tuple[Path, ...] = ()
    require_client_cert: bool = True


@dataclass(frozen=True)
class MagdaSimulatorSettings:
    """Where the simulator listens, whom it trusts, and how it behaves.

    ``port`` 0 picks a free port (the started simulator reports the real one). With
    ``require_signature`` every request needs a valid Body signature by one of ``trusted_certs``
    (PEM or DER files); without it a signature is still checked when present, and only logged.
    With ``enforce_repertorium`` GeefPersoon and GeefHistoriekPersoon answer 40003 for an INSZ
    the calling client has not registered through RegistreerInschrijving. ``reply_signing``
    signs every SOAP reply (not faults), as MAGDA does: by default with the development
    gateway's pair (:func:`dev_reply_signing`, made on first use), None for unsigned replies;
    ``tls`` serves HTTPS.

    Criminal-record extracts turn final after ``strafregister_ready_after_polls`` status queries
    about them (``strafregister_police_check_polls`` for model 596.2); both can be changed at run
    time through ``POST /_control/strafregister``. With ``seal_documents`` every delivered PDF
    (acts, extracts) is sealed with ``document_seal``, or with a key generated once per process
    when that is None.
    """

    host: str = "127.0.0.1"
    port: int = 8701
    trusted_certs: tuple[Path, ...] = ()
    require_signature: bool = True
    latency_ms: int = 0
    seed: int = 7
    households: int = 60
    wsdl_dir: Path = field(default_factory=default_wsdl_dir)
    enforce_repertorium: bool = True
    reply_signing: KeyPair | None = field(default_factory=dev_reply_signing)
    tls: TlsSettings | None = None
    strafregister_ready_after_polls: int = 1
    strafregister_police_check_polls: int = 3
    seal_documents: bool = True
    document_seal: KeyPair | None = None
    official_answers: Path | None = None
    """Serve MAGDA's own mock answers from this folder (laid out as ``magda-reference/answers``)
    for the services it has answers for, as MAGDA's mock does; see ``simulators.magda.official``."""
