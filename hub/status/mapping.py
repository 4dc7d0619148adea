"""Pure: a status event → the DOSIS upload and the notification bundle. No I/O but reading the
data files once.

The upload is ``DosisDossierTO`` as the public DOSIS client writes it
(``../shared/domain/dosis.md``, fact ids in brackets): every field present, ``null`` where there
is nothing (Jackson writes nulls [F16]); ``WijzigingsDatum`` a local date-time without offset
[F24]; ``Producten`` one ``{Id}`` with the product number as a string [F28, F29];
``Doorverwijzing`` a URL string [F26]; ``DossierBeheerder`` with its ``Adres`` [F30-F32];
a citizen agent ``Raadpleger`` [F37], a company agent ``"<right> - <context>"`` or no right
[F35, F36].

Data: the status → Flemish phase and code table (``mappings/statuses.toml``), what a citizen
reads with each status (``mappings/status-texts.toml``), the product catalogue with dossier
names and which job types are dossiers at all (``mappings/products.toml``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
import uuid
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from hub.config import REPO_ROOT, TenantSettings
from hub.errors import ConfigurationError
from hub.messages import Applicant, StatusEvent

__all__ = [
    "Catalogue",
    "FlemishStatus",
    "ProductEntry",
    "StatusTable",
    "StatusTexts",
    "dossier_payload",
    "load_catalogue",
    "load_status_table",
    "load_status_texts",
    "local_date_time",
    "not_for_profile",
    "notification_bundle",
    "product_for",
    "upload_id_for",
]

STATUS_FILE = REPO_ROOT / "mappings/statuses.toml"
TEXTS_FILE = REPO_ROOT / "mappings/status-texts.toml"
PRODUCTS_FILE = REPO_ROOT / "mappings/products.toml"
# Every status the hub itself produces; back-office statuses come from back offices.
HUB_STATUSES = ("received", "awaiting-approval", "in-treatment", "delivered", "rejected",
                "cancelled", "failed")
LANGUAGES = ("nl", "fr", "de", "en")


@dataclass(frozen=True)
class FlemishStatus:
    fase: str
    code: str


@dataclass(frozen=True)
class StatusTable:
    statuses: dict[str, FlemishStatus]
    notify: frozenset[str]
    phases: dict[str, frozenset[str]]
    optional_notify: frozenset[str] = frozenset()

    def problems(self, required: tuple[str, ...] = HUB_STATUSES) -> list[str]:
        """Unmapped statuses, and phases or codes outside the accepted set."""
        found = [f"status {s!r} has no Flemish phase and code in statuses.toml"
                 for s in required if s not in self.statuses]
        codes = {code for row in self.phases.values() for code in row}
        for name, flemish in self.statuses.items():
            if flemish.fase not in self.phases or flemish.code not in codes:
                found.append(f"status {name!r}: {flemish.fase}/{flemish.code} is not an accepted "
                             "Flemish phase and code")
        return found

    def notifies(self, status: str, asked: bool | None) -> bool:
        """Whether a status becomes a notification; ``asked`` is the employee's choice."""
        return status in self.notify or (status in self.optional_notify and bool(asked))


@cache
def load_status_table(path: Path = STATUS_FILE) -> StatusTable:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    try:
        statuses = {name: FlemishStatus(v["fase"], v["code"])
                    for name, v in data["statuses"].items()}
        phases = {fase: frozenset(codes) for fase, codes in data["phases"].items()}
    except KeyError as exc:
        raise ConfigurationError(f"{path.name}: missing {exc}") from exc
    notify = data.get("notify", {})
    return StatusTable(statuses, frozenset(notify.get("statuses", [])), phases,
                       frozenset(notify.get("optional", [])))


@dataclass(frozen=True)
class StatusTexts:
    """What the citizen reads per status and language (``detail``, and ``action`` when the next
    step is theirs), with refusal reasons per error code."""

    texts: dict[str, dict[str, dict[str, str]]]
    reasons: dict[str, dict[str, dict[str, str]]]

    def for_status(
        self, status: str, language: str, error_code: str | None = None
    ) -> tuple[str | None, str | None]:
        """``(detail, action)`` for a status in a language (nl when that one is missing)."""
        by_language = self.texts.get(status, {})
        if status == "rejected" and error_code and error_code in self.reasons:
            by_language = self.reasons[error_code]
        text = by_language.get(language) or by_language.get("nl") or {}
        return text.get("detail"), text.get("action")

    def problems(self, statuses: Mapping[str, FlemishStatus]) -> list[str]:
        """Statuses without a Dutch text."""
        return [f"status {name!r} has no Dutch text in status-texts.toml"
                for name in statuses if "nl" not in self.texts.get(name, {})]


@cache
def load_status_texts(path: Path = TEXTS_FILE) -> StatusTexts:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    texts: dict[str, dict[str, dict[str, str]]] = {}
    reasons: dict[str, dict[str, dict[str, str]]] = {}
    for status, entry in data.items():
        texts[status] = {lang: dict(v) for lang, v in entry.items() if lang in LANGUAGES}
        for code, by_language in entry.get("reasons", {}).items():
            reasons[code] = {lang: dict(v) for lang, v in by_language.items()}
    return StatusTexts(texts, reasons)


@dataclass(frozen=True)
class ProductEntry:
    """One catalogue entry: product number, whether it is a dossier, its names per language."""

    id: int
    dossier: bool
    names: dict[str, str]

    def name(self, language: str) -> str | None:
        return self.names.get(language) or self.names.get("nl")


@dataclass(frozen=True)
class Catalogue:
    """The product catalogue keyed by ``<job type>`` or ``<job type>:<kind>``."""

    entries: dict[str, ProductEntry]

    def entry(self, job_type: str, kind: str | None = None) -> ProductEntry | None:
        """The most specific entry; a kind entry takes what it lacks from its type's."""
        if kind and f"{job_type}:{kind}" in self.entries:
            return self.entries[f"{job_type}:{kind}"]
        return self.entries.get(job_type)

    def is_dossier(self, job_type: str) -> bool:
        entry = self.entries.get(job_type)
        return entry is not None and entry.dossier

    def products_of(self, job_type: str) -> frozenset[int]:
        """Every product number of a job type: its own entry's and its kinds' (``<type>:…``)."""
        return frozenset(
            entry.id for key, entry in self.entries.items()
            if entry.id and (key == job_type or key.startswith(f"{job_type}:"))
        )

    def belongs(self, job_type: str, product_id: int) -> bool:
        """Whether ``product_id`` is one of the job type's products in the catalogue."""
        return product_id in self.products_of(job_type)


@cache
def load_catalogue(path: Path = PRODUCTS_FILE) -> Catalogue:
    data = tomllib.loads(path.read_text(encoding="utf-8"))["products"]
    entries: dict[str, ProductEntry] = {}
    for key in sorted(data, key=lambda k: ":" in k):  # types before their kinds
        raw = data[key]
        base = entries.get(key.split(":", 1)[0]) if ":" in key else None
        try:
            entries[key] = ProductEntry(
                id=int(raw.get("id", base.id if base else 0)),
                dossier=bool(raw.get("dossier", base.dossier if base else False)),
                names={**(base.names if base else {}), **raw.get("name", {})},
            )
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"{path.name}: [{key}] {exc}") from exc
    return Catalogue(entries)


def product_for(job_type: str, kind: str | None = None) -> int | None:
    """The catalogue product of a job type (and kind), most specific first."""
    entry = load_catalogue().entry(job_type, kind)
    return entry.id if entry is not None and entry.id else None


def not_for_profile(event: StatusEvent, catalogue: Catalogue) -> str | None:
    """Why a status event must not reach the applicant's profile; None when it may.

    Only dossiers (mapping data) go to the profile, and nothing of an applicant who did not log
    in securely until an employee accepted the request: the identifier was only typed in, so
    the dossier would land in the profile of whoever that number belongs to.
    """
    if not catalogue.is_dossier(event.type):
        return "not-a-dossier"
    if not event.applicant.authenticated and not event.approved:
        return "not-authenticated"
    return None


def _product(event: StatusEvent) -> int:
    if event.product_id is None:
        raise ValueError("a status event for the profile names its product_id")
    return event.product_id


def upload_id_for(event_id: str) -> str:
    """A random-looking version-4 UUID of its own for every status event (DOSIS keeps one upload
    per UploadId), the same again for the same event, so a redelivered event is known."""
    digest = hashlib.sha256(f"loket-hub:upload:{event_id}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def local_date_time(at: str, zone: str) -> str:
    """An ISO date-time with offset → the local date-time in ``zone`` without offset, seconds
    always and milliseconds, as ``java.time.LocalDateTime`` is written [F24]."""
    moment = dt.datetime.fromisoformat(at)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(zoneinfo.ZoneInfo(zone)).replace(tzinfo=None)
    return local.isoformat(timespec="milliseconds")


def _agent(applicant: Applicant, tenant: TenantSettings) -> dict[str, Any]:
    if applicant.capacity == "person":
        rights = [{"Code": "Raadpleger"}]
    elif tenant.company_right:
        context = tenant.company_right_context
        rights = [{"Code": f"{tenant.company_right} - {context}" if context
                   else tenant.company_right}]
    else:
        rights = []
    return {"Identificatie": applicant.identifier, "Toegangsrechten": rights}


def _manager(tenant: TenantSettings) -> dict[str, Any] | None:
    address = tenant.address
    if not address.complete:
        return None
    return {
        "Naam": tenant.name or None,
        "Dienst": tenant.service_name or None,
        "Telefoon": tenant.service_phone or None,
        "Email": tenant.service_email or None,
        "Website": tenant.website or None,
        "Adres": {"Straat": address.street, "Nummer": address.number,
                  "Postcode": address.postcode, "Gemeente": address.municipality},
    }


def _fill(text: str | None, values: Mapping[str, str]) -> str | None:
    if text is None:
        return None
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def dossier_payload(
    event: StatusEvent,
    tenant: TenantSettings,
    flemish: FlemishStatus,
    *,
    texts: StatusTexts,
    catalogue: Catalogue,
    identification_keys: str = "connector",
    zone: str = "Europe/Brussels",
) -> dict[str, Any]:
    """The DOSIS upload body for one status event."""
    language = tenant.language
    entry = catalogue.entry(event.type, event.kind)
    name = (entry.name(language) if entry else None) or event.type
    values = {"municipality": tenant.name, "dossier": name}
    detail, action = texts.for_status(event.status, language, event.error_code)
    detail = _fill(detail, values)
    if event.applicant_message:
        detail = f"{detail} {event.applicant_message}" if detail else event.applicant_message
    bron_key, dossier_key = (("bron", "dossierNummer") if identification_keys == "connector"
                             else ("Bron", "DossierNummer"))
    link = _fill(tenant.dossier_url, {"dossier_id": event.dossier_id,
                                      "job_id": event.job_id}) or None
    return {
        "Identificatie": {bron_key: tenant.connector_urn, dossier_key: event.dossier_id},
        "UploadId": upload_id_for(event.event_id),
        "Naam": name,
        "WijzigingsDatum": local_date_time(event.at, zone),
        "Status": {
            "VlaamsCode": flemish.code,
            "VlaamsFase": flemish.fase,
            "Detail1": detail[:250] if detail else None,
            "Actie": {"ActieNodig": True, "Actie": _fill(action, values)} if action else None,
        },
        "Doorverwijzing": link,
        "TypeDossierCode": "DossierStatus",
        "Producten": [{"Id": str(_product(event))}],
        "DossierBeheerder": _manager(tenant),
        "Agenten": [_agent(event.applicant, tenant)],
    }


def notification_bundle(
    event: StatusEvent, tenant: TenantSettings, flemish: FlemishStatus
) -> dict[str, Any]:
    """The Mijn Burgerprofiel notification for a status that needs the citizen's attention.

    Not part of the public DOSIS evidence: sent only where notifications are configured.
    """
    dossier = event.dossier_id
    return {
        "Id": upload_id_for(f"notification:{event.event_id}"),
        "AanbiederUri": tenant.connector_urn,
        "Bestemmelingen": [{"Identificatie": event.applicant.identifier}],
        "Categorie": "DossierWijziging",
        "DatumNotificatie": event.at,
        "Kanalen": ["MijnBurgerprofiel"],
        "ProductId": _product(event),
        "SleutelWaardeParen": [
            {"Sleutel": "DossierNummer", "Waarde": dossier},
            {"Sleutel": "StatusVlaamseCode", "Waarde": flemish.code},
            {"Sleutel": "StatusVlaamseFase", "Waarde": flemish.fase},
        ],
        "TransactieId": f"{tenant.connector_urn}/{dossier}",
    }
