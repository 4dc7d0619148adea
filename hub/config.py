"""Typed configuration value objects, read from a TOML file and ``LOKET_*`` environment variables.

Precedence: defaults < TOML file (``--config`` or ``LOKET_CONFIG``) < environment. An environment
variable names the path of a setting with ``__`` between levels, e.g. ``LOKET_BROKER__URL`` or
``LOKET_BACKENDS__POPULATION__TOTAL_TIMEOUT_S``. Secrets are never values here, only file paths.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.errors import ConfigurationError
from hub.identifiers import IdentifierError, normalize_association_number, normalize_kbo

__all__ = [
    "RIGHT_BASES",
    "AdminSettings",
    "AuditSettings",
    "BackendSettings",
    "BackofficeSettings",
    "BrokerSettings",
    "DocumentSettings",
    "MagdaSettings",
    "Settings",
    "SigningSettings",
    "StatusSettings",
    "StoreSettings",
    "TenantAddress",
    "TenantMagdaSettings",
    "TenantRight",
    "TenantSettings",
    "load_settings",
    "load_tenants",
    "right_problems",
]

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class BrokerSettings:
    url: str = "amqp://guest:guest@127.0.0.1:5672/"
    prefetch: int = 32
    concurrency: int = 32
    publish_timeout_s: float = 10.0
    # Delay before attempt 2, 3, ...; the attempt after the last delay is the final one.
    retry_delays_s: tuple[float, ...] = (2.0, 10.0, 60.0, 300.0)
    # How often a job waiting on an asynchronous back end (the criminal record) is looked at.
    poll_delays_s: tuple[float, ...] = (10.0, 60.0, 300.0, 1800.0, 7200.0)
    shutdown_grace_s: float = 20.0
    # RabbitMQ's own poison-message guard on the quorum work queues.
    delivery_limit: int = 5


@dataclass(frozen=True)
class StoreSettings:
    url: str = "sqlite:///var/loket-hub.sqlite3"
    # How long a worker owns a job it started; a crashed worker's claim expires after this.
    claim_lease_s: float = 120.0
    # Jobs the broker lost (a lease ran out and nobody took the job over, a retry never came
    # back) are published again from the store this long after they were due, looked for
    # every recovery_interval_s (0 turns the search off).
    recovery_grace_s: float = 60.0
    recovery_interval_s: float = 30.0
    # Retention runs on every worker this often, one worker at a time (a lease in the store):
    # documents (documents.retention_days), audit (audit.retention_years), dead letters, and
    # consultation records of runs that died. 0 turns it off.
    maintenance_interval_s: float = 3600.0
    # Dead letters hold whole job messages: kept this long, then deleted.
    dead_letter_retention_days: int = 92


@dataclass(frozen=True)
class BackendSettings:
    connect_timeout_s: float = 15.0
    read_timeout_s: float = 30.0
    total_timeout_s: float = 45.0
    concurrency: int = 50
    # Cheap retries inside one attempt, for connection failures only (never for timeouts).
    connect_retries: int = 2
    breaker_failure_threshold: int = 5
    breaker_reset_timeout_s: float = 30.0
    breaker_half_open_calls: int = 1
    max_answer_bytes: int = 5 * 1024 * 1024
    # Signatures on this back end's replies: "verify", "log-only" or "off", against the
    # certificate(s) in reply_signing_cert. Empty: the [magda] value, and "verify" when that
    # is not set either (see reply_policy).
    reply_signature: str = ""
    reply_signing_cert: str = ""

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

    base_url: str = "http://127.0.0.1:8701"
    client_identification: str = "kb.vlaanderen.be/aiv/loket-hub-dev"
    # MAGDA's capacity code for the client: required, here or per tenant (check-config says
    # where it is missing); no default, since only MAGDA can assign it.
    hoedanigheid: str = ""
    receiver_identification: str = "vip.vlaanderen.be"
    signing_key: Path = REPO_ROOT / "var/dev-pki/magda-client.key"
    signing_cert: Path = REPO_ROOT / "var/dev-pki/magda-client.crt"
    wsdl_dir: Path = REPO_ROOT / "wsdl/magda"
    # Mutual TLS: our client certificate and key, and the CA that signs MAGDA's server
    # certificate. Empty: no client certificate / the system trust store.
    tls_cert: str = ""
    tls_key: str = ""
    ca_file: str = ""
    # Signatures on MAGDA's replies, for every back end without its own
    # backends.<name>.reply_signature: "verify", "log-only" or "off"; empty means "verify".
    # The certificate(s) that sign them: the development gateway's by default.
    reply_signature: str = ""
    reply_signing_cert: str = "var/dev-pki/magda-gateway.crt"


@dataclass(frozen=True)
class SigningSettings:
    """Where a document-signing key lives: PEM ``key`` + ``cert``, or one ``pkcs12`` file.

    The password comes from ``password_file`` or the environment variable named by
    ``password_env`` — never from the configuration itself. Empty strings mean "not set".
    """

    key: str = ""
    cert: str = ""
    pkcs12: str = ""
    password_file: str = ""
    password_env: str = ""
    # The signature level: B-B; B-T adds a time stamp from tsa_url (RFC 3161); B-LT also
    # embeds the chain and OCSP (ocsp_url) and/or CRL (crl_url) answers, checked against
    # trust_roots (the CA root certificates, PEM); B-LTA adds a document time stamp to the PDF.
    level: str = "B-B"
    tsa_url: str = ""
    ocsp_url: str = ""
    crl_url: str = ""
    trust_roots: str = ""
    # Per request to the TSA, the OCSP responder and the CRL distribution point.
    timeout_s: float = 5.0

    @property
    def configured(self) -> bool:
        return bool(self.pkcs12 or (self.key and self.cert))


@dataclass(frozen=True)
class DocumentSettings:
    # The default signing identity, for tenants without their own [signing] table.
    signing: SigningSettings = field(
        default_factory=lambda: SigningSettings(
            key="var/dev-pki/document-signing.key", cert="var/dev-pki/document-signing.crt"
        )
    )
    # Rendering and signing run in worker processes, off the event loop.
    pool_size: int = 2
    pool_mode: str = "process"
    expiry_warning_days: int = 30
    # A job's result and documents are kept this long after the request (the e-counter
    # promises a document for three months), then purged; a replay after that gets
    # DOCUMENT_EXPIRED. 0 keeps them for ever.
    retention_days: int = 92


@dataclass(frozen=True)
class TenantMagdaSettings:
    """A tenant's own MAGDA identity; empty values fall back to the ``[magda]`` settings."""

    client_identification: str = ""
    hoedanigheid: str = ""
    signing_key: str = ""
    signing_cert: str = ""
    tls_cert: str = ""
    tls_key: str = ""


RIGHT_BASES = ("legal-representative", "product-right")
"""Why a natural person may act for a company or association (``requester.basis``)."""


@dataclass(frozen=True)
class TenantRight:
    """A company (KBO) or association that receives these job types automatically.

    Only when the job meets the right: it names one of ``bases`` as ``requester.basis`` and an
    ``acting_person``; under ``product-right`` its product is one of ``products`` (catalogue
    numbers of these job types); under ``legal-representative`` every product of the types.
    """

    name: str = ""
    kbo: str = ""
    association: str = ""
    job_types: tuple[str, ...] = ()
    bases: tuple[str, ...] = ()
    products: tuple[int, ...] = ()

    @property
    def holder(self) -> str:
        return self.kbo or self.association


@dataclass(frozen=True)
class TenantAddress:
    """A postal address: the dossier manager's in the citizen profile (DossierBeheerder.Adres)."""

    street: str = ""
    number: str = ""
    postcode: str = ""
    municipality: str = ""

    @property
    def complete(self) -> bool:
        return bool(self.street and self.number and self.postcode and self.municipality)


@dataclass(frozen=True)
class TenantSettings:
    """One municipality (bestuur); read from ``mappings/tenants/<slug>.toml``."""

    slug: str
    name: str
    nis_code: str
    connector_urn: str
    magda: TenantMagdaSettings = field(default_factory=TenantMagdaSettings)
    # The municipality's own document-signing key; empty: the [documents.signing] default.
    signing: SigningSettings = field(default_factory=SigningSettings)
    # Companies and public bodies (notaries, lawyers, governments) with automatic delivery.
    rights: tuple[TenantRight, ...] = ()
    # Also send notifications (meldingen) to Mijn Burgerprofiel for statuses that need attention.
    notifications: bool = False
    # The municipality consults the national register through MAGDA (for prefill).
    register_link: bool = False
    # Shown as the dossier's manager in the citizen profile; without a complete address no
    # manager is sent (DOSIS's own client cannot send one without an address).
    service_name: str = ""
    service_email: str = ""
    service_phone: str = ""
    website: str = ""
    address: TenantAddress = field(default_factory=TenantAddress)
    # The language of dossier names and status texts in the citizen profile (nl, fr, de, en).
    language: str = "nl"
    # The dossier's page on the e-counter (Doorverwijzing): {dossier_id} and {job_id} are
    # filled in. Empty: no link.
    dossier_url: str = ""
    # A company agent's right in the citizen profile, "<right> - <context>" (the context may
    # be empty). Empty right: the company is an agent without rights.
    company_right: str = ""
    company_right_context: str = ""
    # The secret that signs forwards to this municipality's back offices and authenticates
    # their actions and its employees' decisions (a file, never a value). Empty:
    # var/dev-pki/backoffice-<slug>.secret.
    backoffice_secret_file: str = ""

    @property
    def backoffice_secret_path(self) -> Path:
        value = self.backoffice_secret_file or f"var/dev-pki/backoffice-{self.slug}.secret"
        path = Path(value).expanduser()
        return path if path.is_absolute() else REPO_ROOT / path


@dataclass(frozen=True)
class StatusSettings:
    """The status pusher: job statuses to the citizen profile (DOSIS), in order, never lost."""

    enabled: bool = False
    dosis_url: str = "http://127.0.0.1:8702"
    token_url: str = "http://127.0.0.1:8702/authorization/ws/oauth/v2/token"
    client_id: str = "loket-hub"
    # RSA private key (PEM) and the kid of its JWK as registered in DOSIS's admin site; empty
    # kid: the key's RFC 7638 thumbprint.
    client_key: Path = REPO_ROOT / "var/dev-pki/dosis-client.key"
    client_key_id: str = ""
    # The public client asks exactly this scope for uploads and read-backs.
    scope: str = "DosisImport"
    # The public client posts to /api/v2/dossiers, the public API page says
    # /api/v2/dosis/dossiers: set the one your DOSIS environment serves.
    upload_path: str = "/api/v2/dossiers"
    result_path: str = "/api/v1/dosis/resultaten/perUploadId"
    # How the Identificatie keys are spelt: "connector" (bron, dossierNummer: what the public
    # client writes) or "annotated" (Bron, DossierNummer).
    identification_keys: str = "connector"
    # WijzigingsDatum is a local date-time without offset, in this zone.
    local_timezone: str = "Europe/Brussels"
    # Mijn Burgerprofiel notifications: their own switch, scope and path (tenants opt in too).
    notifications_enabled: bool = False
    notifications_scope: str = "Notificaties"
    notifications_path: str = "/api/v2/notificaties"
    timeout_s: float = 10.0
    # Dossiers pushed at once; each dossier's statuses still go one after another, in order.
    concurrency: int = 32
    # Retries of one status while the service is down, before it goes to the dead letters.
    max_attempts: int = 8
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
    # How often accepted uploads are read back (DOSIS processes them later), and how long an
    # upload may stay unprocessed (read-back 404) before it is settled as "unconfirmed".
    reconcile_interval_s: float = 30.0
    readback_give_up_s: float = 86400.0
    # A job still running after this long has its "received" status published; one answered
    # sooner sends "received" right before its next status (0: always at once).
    received_after_s: float = 1.0


@dataclass(frozen=True)
class BackofficeSettings:
    """Where forwarded requests go: per product, an AMQP queue or a signed HTTP endpoint."""

    routes_file: Path = REPO_ROOT / "mappings/backoffice.toml"
    # Unused since each tenant has its own secret (tenants' backoffice_secret_file); kept so
    # older configuration files still load.
    secret_file: Path = REPO_ROOT / "var/dev-pki/backoffice.secret"
    timeout_s: float = 10.0
    # Signed decisions and actions: how old a signature may be when read (a message may wait
    # in its queue while the hub is down) and how far ahead of the hub's clock.
    signature_max_age_s: float = 900.0
    signature_max_skew_s: float = 300.0
    # Employees' tasks: "shared" (queue backoffice.approvals, routing key
    # approval.<tenant>.<type>) or "per-tenant" (queue backoffice.approvals.<tenant> each).
    # Going back from per-tenant to shared: delete the per-tenant queues once they are empty
    # (their bindings would go on taking their tenant's tasks).
    approval_queues: str = "shared"


@dataclass(frozen=True)
class AdminSettings:
    """The operator surface of each worker (health, metrics, JSON API)."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 8780
    # ``name:token`` per line. No file: nobody gets in (liveness excepted).
    token_file: str = ""


@dataclass(frozen=True)
class AuditSettings:
    # Consultations of personal data through MAGDA are kept ten years.
    retention_years: int = 10


@dataclass(frozen=True)
class Settings:
    broker: BrokerSettings = field(default_factory=BrokerSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    magda: MagdaSettings = field(default_factory=MagdaSettings)
    documents: DocumentSettings = field(default_factory=DocumentSettings)
    backends: dict[str, BackendSettings] = field(
        default_factory=lambda: {"population": BackendSettings()}
    )
    audit: AuditSettings = field(default_factory=AuditSettings)
    status: StatusSettings = field(default_factory=StatusSettings)
    admin: AdminSettings = field(default_factory=AdminSettings)
    backoffice: BackofficeSettings = field(default_factory=BackofficeSettings)
    tenants_dir: Path = REPO_ROOT / "mappings/tenants"
    log_format: str = "console"
    log_level: str = "info"
    worker_id: str = ""

    def backend(self, name: str) -> BackendSettings:
        return self.backends.get(name, BackendSettings())


def _convert(value: Any, target: Any, where: str) -> Any:
    origin = typing.get_origin(target)
    if dataclasses.is_dataclass(target) and isinstance(target, type):
        if not isinstance(value, Mapping):
            raise ConfigurationError(f"{where} must be a table")
        return _build(target, value, where)
    if origin is dict:
        _, value_type = typing.get_args(target)
        if not isinstance(value, Mapping):
            raise ConfigurationError(f"{where} must be a table")
        return {k: _convert(v, value_type, f"{where}.{k}") for k, v in value.items()}
    if origin is tuple:
        (item_type, _) = typing.get_args(target)
        items = value.split(",") if isinstance(value, str) else list(value)
        return tuple(_convert(i, item_type, where) for i in items)
    if origin in (types.UnionType, typing.Union):
        return value
    try:
        if target is bool and isinstance(value, str):
            return value.strip().lower() in {"1", "true", "yes", "on"}
        if target is Path:
            path = Path(value).expanduser()
            return path if path.is_absolute() else REPO_ROOT / path
        return target(value)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"{where}: cannot read {value!r} as {target.__name__}") from exc


def _build(cls: type[Any], values: Mapping[str, Any], where: str) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(values) - known
    if unknown:
        raise ConfigurationError(f"unknown setting(s) in {where or 'root'}: {sorted(unknown)}")
    kwargs = {
        key: _convert(value, hints[key], f"{where}.{key}".lstrip("."))
        for key, value in values.items()
    }
    return cls(**kwargs)


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith("LOKET_") or name.startswith(("LOKET_CONFIG", "LOKET_TEST_")):
            continue
        path = name[len("LOKET_") :].lower().split("__")
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return tree


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def load_settings(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read the settings; raises :class:`ConfigurationError` with the offending key."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    path = path or (Path(environ["LOKET_CONFIG"]) if environ.get("LOKET_CONFIG") else None)
    if path is not None:
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigurationError(f"cannot read configuration file {path}: {exc}") from exc
    values = _merge(values, _env_overrides(environ))
    values = _merge(values, overrides or {})
    if "backends" in values:
        values["backends"] = _merge({"population": {}}, values["backends"])
    settings: Settings = _build(Settings, values, "")
    if settings.log_format not in {"json", "console"}:
        raise ConfigurationError("log_format must be 'json' or 'console'")
    if settings.documents.pool_mode not in {"process", "thread"}:
        raise ConfigurationError("documents.pool_mode must be 'process' or 'thread'")
    policies = {"", "verify", "log-only", "off"}
    if settings.magda.reply_signature not in policies:
        raise ConfigurationError("magda.reply_signature must be verify, log-only or off")
    for name, backend in settings.backends.items():
        if backend.reply_signature not in policies:
            raise ConfigurationError(
                f"backends.{name}.reply_signature must be verify, log-only or off"
            )
    if settings.backoffice.approval_queues not in {"shared", "per-tenant"}:
        raise ConfigurationError("backoffice.approval_queues must be shared or per-tenant")
    if settings.status.identification_keys not in {"connector", "annotated"}:
        raise ConfigurationError("status.identification_keys must be connector or annotated")
    for name, count in (("broker.prefetch", settings.broker.prefetch),
                        ("broker.concurrency", settings.broker.concurrency),
                        ("status.concurrency", settings.status.concurrency)):
        if count < 1:
            raise ConfigurationError(f"{name} must be at least 1")
    return settings


def load_tenants(directory: Path) -> dict[str, TenantSettings]:
    """Every ``<slug>.toml`` in ``directory``; the file name is the tenant slug."""
    tenants: dict[str, TenantSettings] = {}
    for file in sorted(directory.glob("*.toml")):
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
            tenants[file.stem] = _build(TenantSettings, {"slug": file.stem, **data}, file.stem)
        except (TypeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigurationError(f"tenant file {file}: {exc}") from exc
        urn_prefix = "urn://"
        if not tenants[file.stem].connector_urn.startswith(urn_prefix):
            raise ConfigurationError(f"tenant file {file}: connector_urn must start with urn://")
        problems = right_problems(tenants[file.stem].rights)
        if problems:
            raise ConfigurationError(f"tenant file {file}: " + "; ".join(problems))
    return tenants


def right_problems(rights: tuple[TenantRight, ...]) -> list[str]:
    """What makes listed rights mean nothing or more than they say (empty: they are sound)."""
    # Imported here: the catalogue's reader imports this module.
    from hub.status.mapping import load_catalogue

    catalogue = load_catalogue()
    problems: list[str] = []
    for number, right in enumerate(rights, start=1):
        where = f"[[rights]] #{number} ({right.name or right.holder or 'unnamed'})"
        if bool(right.kbo) == bool(right.association):
            problems.append(f"{where}: needs exactly one of kbo and association")
        try:
            if right.kbo and normalize_kbo(right.kbo) != right.kbo:
                problems.append(f"{where}: kbo must be written as 10 digits")
            if right.association and \
                    normalize_association_number(right.association) != right.association:
                problems.append(f"{where}: association must be written as V and 7 digits")
        except IdentifierError as exc:
            problems.append(f"{where}: {exc.message}")
        if not right.job_types:
            problems.append(f"{where}: names no job_types")
        unknown_types = [t for t in right.job_types if not catalogue.products_of(t)]
        if unknown_types:
            problems.append(f"{where}: job types not in the product catalogue: {unknown_types}")
        if not right.bases:
            problems.append(f"{where}: names no bases ({' or '.join(RIGHT_BASES)})")
        unknown_bases = sorted(set(right.bases) - set(RIGHT_BASES))
        if unknown_bases:
            problems.append(f"{where}: unknown bases {unknown_bases}")
        if "product-right" in right.bases and not right.products:
            problems.append(f"{where}: a product-right basis needs its products")
        if right.products and "product-right" not in right.bases:
            problems.append(f"{where}: products are only read under the product-right basis")
        foreign = [p for p in right.products
                   if not any(catalogue.belongs(t, p) for t in right.job_types)]
        if foreign:
            problems.append(f"{where}: products {foreign} belong to none of its job types")
    return problems


def resolve_path(value: str) -> Path | None:
    """A configured file path (relative to the repository root), or None when empty."""
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path
