"""The settings of the hub's other sides: the citizen profile (DOSIS), the back offices, the
operator surface, the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hub.config.types import REPO_ROOT, SECTION, HttpUrl, Port, Positive, RepoPath, TimeZone

__all__ = ["AdminSettings", "AuditSettings", "BackofficeSettings", "StatusSettings"]


@dataclass(frozen=True)
class StatusSettings:
    """The status pusher: job statuses to the citizen profile (DOSIS), in order, never lost."""

    __pydantic_config__ = SECTION

    enabled: bool = False
    """Push dossier statuses to the citizen profile (DOSIS)."""
    dosis_url: HttpUrl = "http://127.0.0.1:8702"
    """The dossier-status API."""
    token_url: HttpUrl = "http://127.0.0.1:8702/authorization/ws/oauth/v2/token"
    """Its OAuth2 token endpoint (beta:
    https://beta.oauth.vlaanderen.be/authorization/ws/oauth/v2/token)."""
    client_id: str = "loket-hub"
    """Our client id at the token endpoint."""
    client_key: RepoPath = REPO_ROOT / "var/dev-pki/dosis-client.key"
    """RSA private key (PEM) whose public JWK is registered in DOSIS's admin site."""
    client_key_id: str = ""
    """The kid of that JWK; empty: the key's RFC 7638 thumbprint."""
    scope: str = "DosisImport"
    """The public client asks exactly this scope for uploads and read-backs."""
    upload_path: str = "/api/v2/dossiers"
    """The public client posts to /api/v2/dossiers, the public API page says
    /api/v2/dosis/dossiers: set the one your DOSIS environment serves."""
    result_path: str = "/api/v1/dosis/resultaten/perUploadId"
    """Where uploads are read back."""
    identification_keys: Literal["connector", "annotated"] = "connector"
    """How the Identificatie keys are spelt: "connector" (bron, dossierNummer: what the public
    client writes) or "annotated" (Bron, DossierNummer)."""
    local_timezone: TimeZone = "Europe/Brussels"
    """WijzigingsDatum is a local date-time without offset, in this zone."""
    notifications_enabled: bool = False
    """Mijn Burgerprofiel notifications (tenants opt in too)."""
    notifications_scope: str = "Notificaties"
    """The notifications' scope."""
    notifications_path: str = "/api/v2/notificaties"
    """The notifications' path."""
    timeout_s: float = 10.0
    """Seconds for one call to DOSIS or its token endpoint."""
    concurrency: Positive = 32
    """Dossiers pushed at once; each dossier's statuses still go one after another, in order."""
    max_attempts: Positive = 8
    """Retries of one status while the service is down, before it goes to the dead letters."""
    backoff_initial_s: float = 1.0
    """The first wait between those retries; it doubles each time ..."""
    backoff_max_s: float = 60.0
    """... up to this."""
    reconcile_interval_s: float = 30.0
    """How often accepted uploads are read back (DOSIS processes them later)."""
    readback_give_up_s: float = 86400.0
    """How long an upload may stay unprocessed (read-back 404) before it is settled as
    "unconfirmed"."""
    received_after_s: float = 1.0
    """A job still running after this long has its "received" status published; one answered
    sooner sends "received" right before its next status (0: always at once)."""


@dataclass(frozen=True)
class BackofficeSettings:
    """Where forwarded requests go: per product, an AMQP queue or a signed HTTP endpoint."""

    __pydantic_config__ = SECTION

    routes_file: RepoPath = REPO_ROOT / "mappings/backoffice.toml"
    """Per product, the back office's AMQP queue or HTTP URL, and the tenants that have it."""
    secret_file: RepoPath = REPO_ROOT / "var/dev-pki/backoffice.secret"
    """Unused since each tenant has its own secret (the tenant file's backoffice_secret_file);
    kept so older configuration files still load."""
    timeout_s: float = 10.0
    """Seconds for one HTTP forward."""
    signature_max_age_s: float = 900.0
    """How old a signed decision or action may be when read (a message may wait in its queue
    while the hub is down)."""
    signature_max_skew_s: float = 300.0
    """How far ahead of the hub's clock a signed decision or action may be."""
    approval_queues: Literal["shared", "per-tenant"] = "shared"
    """Employees' tasks: "shared" (queue backoffice.approvals, routing key
    approval.<tenant>.<type>) or "per-tenant" (queue backoffice.approvals.<tenant> each). Going
    back from per-tenant to shared: delete the per-tenant queues once they are empty."""


@dataclass(frozen=True)
class AdminSettings:
    """The operator surface of each worker (health, metrics, JSON API)."""

    __pydantic_config__ = SECTION

    enabled: bool = True
    """Serve the admin API."""
    host: str = "127.0.0.1"
    """The address it listens on."""
    port: Port = 8780
    """Its port (0: any free port, as the tests use)."""
    token_file: str = ""
    """A file with one name:token per line. No file: nobody gets in (liveness excepted)."""


@dataclass(frozen=True)
class AuditSettings:
    """The record of every consultation of personal data."""

    __pydantic_config__ = SECTION

    retention_years: int = 10
    """Consultations of personal data through MAGDA are kept this long, then purged."""
