"""Pure: a status event → the DOSIS dossier payload and the notification bundle. No I/O.

The internal status → Flemish phase and code table is data (``mappings/statuses.toml``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from hub.config import REPO_ROOT, TenantSettings
from hub.errors import ConfigurationError

__all__ = [
    "FlemishStatus",
    "StatusTable",
    "dossier_payload",
    "load_status_table",
    "notification_bundle",
    "product_for",
]

STATUS_FILE = REPO_ROOT / "mappings/statuses.toml"
PRODUCTS_FILE = REPO_ROOT / "mappings/products.toml"
# Every status the hub itself produces; back-office statuses come from back offices.
HUB_STATUSES = ("received", "awaiting-approval", "in-treatment", "delivered", "rejected",
                "cancelled", "failed")


@dataclass(frozen=True)
class FlemishStatus:
    fase: str
    code: str
    detail: str | None = None
    action: str | None = None


@dataclass(frozen=True)
class StatusTable:
    statuses: dict[str, FlemishStatus]
    notify: frozenset[str]
    phases: dict[str, frozenset[str]]

    def problems(self, required: tuple[str, ...] = HUB_STATUSES) -> list[str]:
        """Unmapped statuses and phase/code pairs outside the accepted set."""
        found = [f"status {s!r} has no Flemish phase and code in statuses.toml"
                 for s in required if s not in self.statuses]
        for name, flemish in self.statuses.items():
            if flemish.code not in self.phases.get(flemish.fase, frozenset()):
                found.append(f"status {name!r}: {flemish.fase}/{flemish.code} is not an accepted "
                             "Flemish phase and code")
        return found


@cache
def load_status_table(path: Path = STATUS_FILE) -> StatusTable:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    try:
        statuses = {
            name: FlemishStatus(v["fase"], v["code"], v.get("detail"), v.get("action"))
            for name, v in data["statuses"].items()
        }
        phases = {fase: frozenset(codes) for fase, codes in data["phases"].items()}
    except KeyError as exc:
        raise ConfigurationError(f"{path.name}: missing {exc}") from exc
    return StatusTable(statuses, frozenset(data.get("notify", {}).get("statuses", [])), phases)


@cache
def _products(path: Path = PRODUCTS_FILE) -> dict[str, int]:
    return {k: int(v) for k, v in tomllib.loads(path.read_text())["products"].items()}


def product_for(job_type: str, kind: str | None = None) -> int | None:
    """The catalogue product of a job type (and kind), most specific first."""
    products = _products()
    if kind and f"{job_type}:{kind}" in products:
        return products[f"{job_type}:{kind}"]
    return products.get(job_type)


def dossier_payload(
    event: Mapping[str, Any], tenant: TenantSettings, flemish: FlemishStatus
) -> dict[str, Any]:
    """The DOSIS ``POST /api/v2/dosis/dossiers`` body for one status event."""
    status: dict[str, Any] = {"VlaamsCode": flemish.code, "VlaamsFase": flemish.fase}
    detail = event.get("note") or flemish.detail
    if detail:
        status["Detail1"] = str(detail)[:250]
    if flemish.action:
        status["Actie"] = {"ActieNodig": True, "Actie": flemish.action}
    payload: dict[str, Any] = {
        "Identificatie": {"Bron": tenant.connector_urn, "DossierNummer": event["dossier_id"]},
        # The event id is derived from job and status: a retry is the same upload to DOSIS.
        "UploadId": event["event_id"],
        "Naam": event.get("title") or f"Aanvraag {event['type']}",
        "WijzigingsDatum": event["at"],
        "Status": status,
        "TypeDossierCode": "DossierStatus",
        "Producten": [{"Id": int(event["product_id"])}],
        "Agenten": [{
            "Identificatie": event["applicant"]["identifier"],
            "Toegangsrechten": [{"Code": "Raadpleger"}],
        }],
    }
    manager = {k: v for k, v in {
        "Naam": tenant.name, "Dienst": tenant.service_name, "Email": tenant.service_email,
        "Telefoon": tenant.service_phone, "Website": tenant.website,
    }.items() if v}
    payload["DossierBeheerder"] = manager
    if tenant.website:
        payload["Doorverwijzing"] = {"Url": tenant.website}
    return payload


def notification_bundle(
    event: Mapping[str, Any], tenant: TenantSettings, flemish: FlemishStatus
) -> dict[str, Any]:
    """The Mijn Burgerprofiel notification for a status that needs the citizen's attention."""
    dossier = event["dossier_id"]
    return {
        "Id": event["event_id"],
        "AanbiederUri": tenant.connector_urn,
        "Bestemmelingen": [{"Identificatie": event["applicant"]["identifier"]}],
        "Categorie": "DossierWijziging",
        "DatumNotificatie": event["at"],
        "Kanalen": ["MijnBurgerprofiel"],
        "ProductId": int(event["product_id"]),
        "SleutelWaardeParen": [
            {"Sleutel": "DossierNummer", "Waarde": dossier},
            {"Sleutel": "StatusVlaamseCode", "Waarde": flemish.code},
            {"Sleutel": "StatusVlaamseFase", "Waarde": flemish.fase},
        ],
        "TransactieId": f"{tenant.connector_urn}/{dossier}",
    }
