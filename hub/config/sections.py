"""The settings of the hub's own machinery and its MAGDA side: broker, store, back ends, MAGDA,
document signing. Frozen dataclasses validated by pydantic on load; the docstring under each
field is its description (the example configuration's comment)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import Field

from hub.config.types import (
    REPO_ROOT,
    SECTION,
    AmqpUrl,
    FloatList,
    HttpUrl,
    OptionalHttpUrl,
    Positive,
    ReplyPolicy,
    RepoPath,
    StoreUrl,
)

__all__ = [
    "BackendSettings",
    "BrokerSettings",
    "DocumentSettings",
    "MagdaSettings",
    "SigningSettings",
    "StoreSettings",
]


@dataclass(frozen=True)
class BrokerSettings:
    """RabbitMQ: where it is, how many jobs a worker takes, the retry and poll delays."""

    __pydantic_config__ = SECTION

    url: AmqpUrl = "amqp://guest:guest@127.0.0.1:5672/"
    """The broker (amqp:// or amqps://, with the virtual host as path)."""
    prefetch: Positive = 32
    """Unacknowledged jobs handed to one worker (= jobs in flight)."""
    concurrency: Positive = 32
    """Jobs one worker works on at once."""
    publish_timeout_s: float = 10.0
    """A publish not confirmed within this is a broker error (the job is not acknowledged)."""
    retry_delays_s: FloatList = (2.0, 10.0, 60.0, 300.0)
    """Delay before attempt 2, 3, ...; the attempt after the last delay is the final one."""
    poll_delays_s: FloatList = (10.0, 60.0, 300.0, 1800.0, 7200.0)
    """How often a job waiting on an asynchronous back end (the criminal record) is looked at;
    a wait is rounded down to one of these."""
    shutdown_grace_s: float = 20.0
    """SIGTERM: in-flight jobs may finish within this, then they are handed back."""
    delivery_limit: Positive = 5
    """RabbitMQ's own poison-message guard on the quorum work queues: redeliveries before a
    crashing message is dead-lettered."""


@dataclass(frozen=True)
class StoreSettings:
    """The outcome store: results, documents, audit, leases."""

    __pydantic_config__ = SECTION

    url: StoreUrl = "sqlite:///var/loket-hub.sqlite3"
    """sqlite:///<path> (relative to the repository) or postgresql://user@host:5432/db (for
    several workers)."""
    claim_lease_s: float = 120.0
    """How long a worker owns a job it started; a crashed worker's claim expires after this."""
    recovery_grace_s: float = 60.0
    """Jobs the broker lost (a lease ran out and nobody took the job over, a retry never came
    back) are published again from the store this long after they were due."""
    recovery_interval_s: float = 30.0
    """How often overdue jobs are looked for (0 turns the search off)."""
    maintenance_interval_s: float = 3600.0
    """Retention runs on every worker this often, one worker at a time (a lease in the store):
    documents (documents.retention_days), audit (audit.retention_years), dead letters, and
    consultation records of runs that died. 0 turns it off."""
    dead_letter_retention_days: int = 92
    """Dead letters hold whole job messages: kept this long, then deleted."""


@dataclass(frozen=True)
class BackendSettings:
    """One back end: population, civil-status, criminal-record or backoffice (every back
    office); a back end without its own table has these defaults."""

    __pydantic_config__ = SECTION

    connect_timeout_s: float = 15.0
    """Seconds to connect."""
    read_timeout_s: float = 30.0
    """Seconds to wait for the answer once connected."""
    total_timeout_s: float = 45.0
    """The whole call's deadline (enforced with asyncio.timeout as well)."""
    concurrency: Positive = 50
    """Calls in flight to this back end, whichever adapter makes them."""
    connect_retries: int = 2
    """Cheap retries inside one attempt, for connection failures only (never for timeouts)."""
    breaker_failure_threshold: Positive = 5
    """Consecutive transient failures that open the circuit breaker."""
    breaker_reset_timeout_s: float = 30.0
    """How long the breaker stays open before a trial call."""
    breaker_half_open_calls: Positive = 1
    """Trial calls while the breaker is half open."""
    max_answer_bytes: Positive = 5 * 1024 * 1024
    """A larger answer is refused (the read is cut at the limit)."""
    reply_signature: ReplyPolicy = ""
    """Signatures on this back end's replies: "verify", "log-only" or "off", against the
    certificate(s) in reply_signing_cert. Empty: the [magda] value, and "verify" when that is
    not set either."""
    reply_signing_cert: str = ""
    """This back end's trust store (PEM; several certificates are each trusted). Empty: the
    [magda] value."""

    def reply_policy(self, magda: MagdaSettings) -> tuple[str, str]:
        """(policy, trust-store file) for this back end's replies.

        Per back end first; then the global ``magda.reply_signature`` / ``reply_signing_cert``
        of earlier configurations (kept so they mean what they meant); then ``verify``.
        """
        policy = self.reply_signature or magda.reply_signature or "verify"
        return policy, self.reply_signing_cert or magda.reply_signing_cert


@dataclass(frozen=True)
class MagdaSettings:
    """How we present ourselves to MAGDA and where its services live."""

    __pydantic_config__ = SECTION

    base_url: HttpUrl = "http://127.0.0.1:8701"
    """The MAGDA host; service paths follow its pattern /<Service>Dienst-<vv.vv>/soap/WebService."""
    client_identification: str = "kb.vlaanderen.be/aiv/loket-hub-dev"
    """The request's Afzender identification."""
    hoedanigheid: str = ""
    """MAGDA's capacity code for the client: required, here or per tenant (check-config says
    where it is missing); no default, since only MAGDA can assign it."""
    receiver_identification: str = "vip.vlaanderen.be"
    """The request's Ontvanger identification."""
    signing_key: RepoPath = REPO_ROOT / "var/dev-pki/magda-client.key"
    """WS-Security signing key (PEM)."""
    signing_cert: RepoPath = REPO_ROOT / "var/dev-pki/magda-client.crt"
    """WS-Security certificate (PEM), matching signing_key."""
    wsdl_dir: RepoPath = REPO_ROOT / "wsdl/magda"
    """Our WSDL/XSD; the hub never fetches a WSDL over the network."""
    tls_cert: str = ""
    """Mutual TLS: our organisation certificate (PEM). Empty: no client certificate."""
    tls_key: str = ""
    """Mutual TLS: the key of tls_cert."""
    ca_file: str = ""
    """The CA that signs MAGDA's server certificate. Empty: the system trust store."""
    reply_signature: ReplyPolicy = ""
    """Signatures on MAGDA's replies, for every back end without its own
    backends.<name>.reply_signature: "verify", "log-only" or "off"; empty means "verify"."""
    reply_signing_cert: str = "var/dev-pki/magda-gateway.crt"
    """The certificate(s) that sign MAGDA's replies: the development gateway's by default."""


@dataclass(frozen=True)
class SigningSettings:
    """Where a document-signing key lives: PEM ``key`` + ``cert``, or one ``pkcs12`` file.

    The password comes from ``password_file`` or the environment variable named by
    ``password_env`` — never from the configuration itself. Empty strings mean "not set".
    """

    __pydantic_config__ = SECTION

    key: str = ""
    """The signing key (PEM)."""
    cert: str = ""
    """Its certificate (PEM; the chain may follow)."""
    pkcs12: str = ""
    """Instead of key and cert: one PKCS#12 file."""
    password_file: str = ""
    """A file holding the key's password."""
    password_env: str = ""
    """The name of an environment variable holding the key's password."""
    level: Literal["B-B", "B-T", "B-LT", "B-LTA"] = "B-B"
    """The signature level: B-B; B-T adds a time stamp from tsa_url (RFC 3161); B-LT also
    embeds the chain and OCSP (ocsp_url) and/or CRL (crl_url) answers, checked against
    trust_roots; B-LTA adds a document time stamp to the PDF."""
    tsa_url: OptionalHttpUrl = ""
    """The time-stamp authority (RFC 3161 over HTTP), for B-T and up."""
    ocsp_url: OptionalHttpUrl = ""
    """The OCSP responder for the signing certificate, for B-LT and up."""
    crl_url: OptionalHttpUrl = ""
    """The CRL distribution point of the signing certificate's issuer, for B-LT and up."""
    trust_roots: str = ""
    """The CA root certificates (PEM) the validation data is checked against."""
    timeout_s: Annotated[float, Field(gt=0)] = 5.0
    """Per request to the TSA, the OCSP responder and the CRL distribution point."""

    @property
    def configured(self) -> bool:
        return bool(self.pkcs12 or (self.key and self.cert))


@dataclass(frozen=True)
class DocumentSettings:
    """Rendering and signing the delivered documents."""

    __pydantic_config__ = SECTION

    signing: SigningSettings = field(
        default_factory=lambda: SigningSettings(
            key="var/dev-pki/document-signing.key", cert="var/dev-pki/document-signing.crt"
        )
    )
    """The default signing identity, for tenants without their own [signing] table."""
    pool_size: Positive = 2
    """Worker processes that render and sign, off the event loop."""
    pool_mode: Literal["process", "thread"] = "process"
    """Worker processes ("process"), or threads ("thread") for small set-ups and tests."""
    expiry_warning_days: int = 30
    """Signing certificates ending within this are reported at start-up and by check-config."""
    retention_days: int = 92
    """A job's result and documents are kept this long after the request (the e-counter
    promises a document for three months), then purged; a replay after that gets
    DOCUMENT_EXPIRED. 0 keeps them for ever."""
