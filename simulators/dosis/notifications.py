"""Mijn Burgerprofiel notifications (NotificatieBundel): validation and the inbox."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from simulators.dosis.validation import Checker, FieldError

__all__ = ["DOSSIER_CHANGE", "Notification", "NotificationInbox", "validate_bundle"]

DOSSIER_CHANGE = "DossierWijziging"
"""The category of a dossier change; it needs :data:`DOSSIER_CHANGE_KEYS`."""
DOSSIER_CHANGE_KEYS = ("DossierNummer", "StatusVlaamseCode", "StatusVlaamseFase")

_FIELDS = {
    "Id": True, "AanbiederUri": True, "Bestemmelingen": True, "Categorie": True,
    "DatumNotificatie": True, "Kanalen": True, "ProductId": True, "MerkCode": False,
    "SleutelWaardeParen": True, "TransactieId": True,
}


@dataclass(frozen=True)
class Notification:
    """A bundle that passed validation."""

    id: str
    aanbieder_uri: str
    categorie: str
    bestemmelingen: tuple[str, ...]
    kanalen: tuple[str, ...]
    product_id: int
    transactie_id: str
    sleutels: dict[str, str]
    payload: dict[str, Any]


def validate_bundle(
    body: Any, phases: Mapping[str, tuple[str, ...]]
) -> tuple[Notification | None, list[FieldError]]:
    """The notification in a request body, or None and every problem found."""
    check = Checker()
    top = check.object(body, "", _FIELDS)
    if top is None:
        return None, check.errors
    ident = check.uuid(top, "Id", "")
    aanbieder = check.text(top, "AanbiederUri", "")
    if aanbieder is not None and not aanbieder.startswith("urn:"):
        check.fail("AanbiederUri", "moet een URN zijn (urn:…)")
        aanbieder = None  # so TransactieId is not also blamed for it
    bestemmelingen = _bestemmelingen(check, top)
    categorie = check.text(top, "Categorie", "")
    check.timestamp(top, "DatumNotificatie", "")
    kanalen = _kanalen(check, top)
    product = check.positive_int(top, "ProductId", "")
    check.text(top, "MerkCode", "")
    sleutels = _pairs(check, top)
    transactie = check.text(top, "TransactieId", "")
    if categorie == DOSSIER_CHANGE:
        _dossier_change(check, sleutels, phases, aanbieder, transactie)
    if check.errors:
        return None, check.errors
    assert ident and aanbieder and categorie and product and transactie
    return Notification(ident, aanbieder, categorie, bestemmelingen, kanalen, product,
                        transactie, sleutels, top), []


def _bestemmelingen(check: Checker, top: dict[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    for index, item in enumerate(check.items(top, "Bestemmelingen", "", minimum=1)):
        path = f"Bestemmelingen[{index}]"
        entry = check.object(item, path, {"Identificatie": True})
        identifier = None if entry is None else check.identifier(entry, "Identificatie", path)
        if identifier is not None:
            found.append(identifier)
    return tuple(found)


def _kanalen(check: Checker, top: dict[str, Any]) -> tuple[str, ...]:
    # The channel list is open ("MijnBurgerprofiel", "Email", …): only the form is checked.
    found: list[str] = []
    for index, item in enumerate(check.items(top, "Kanalen", "", minimum=1)):
        if isinstance(item, str) and item.strip():
            found.append(item)
        else:
            check.fail(f"Kanalen[{index}]", "moet een niet-lege tekst zijn")
    return tuple(found)


def _pairs(check: Checker, top: dict[str, Any]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for index, item in enumerate(check.items(top, "SleutelWaardeParen", "", minimum=0)):
        path = f"SleutelWaardeParen[{index}]"
        pair = check.object(item, path, {"Sleutel": True, "Waarde": True})
        if pair is None:
            continue
        key = check.text(pair, "Sleutel", path)
        value = check.text(pair, "Waarde", path)
        if key is not None and key in pairs:
            check.fail(f"{path}.Sleutel", f"sleutel {key!r} komt meer dan eens voor")
        elif key is not None and value is not None:
            pairs[key] = value
    return pairs


def _dossier_change(
    check: Checker,
    sleutels: dict[str, str],
    phases: Mapping[str, tuple[str, ...]],
    aanbieder: str | None,
    transactie: str | None,
) -> None:
    for key in DOSSIER_CHANGE_KEYS:
        if key not in sleutels:
            check.fail("SleutelWaardeParen", f"sleutel {key} is verplicht voor {DOSSIER_CHANGE}")
    check.phase(sleutels.get("StatusVlaamseFase"), sleutels.get("StatusVlaamseCode"), phases,
                "SleutelWaardeParen.StatusVlaamseFase", "SleutelWaardeParen.StatusVlaamseCode")
    dossier = sleutels.get("DossierNummer")
    if aanbieder and dossier and transactie and transactie != f"{aanbieder}/{dossier}":
        check.fail("TransactieId", "moet AanbiederUri + '/' + DossierNummer zijn: "
                                   f"{aanbieder}/{dossier}")


@dataclass
class NotificationInbox:
    """Every accepted notification in arrival order, idempotent by ``Id``."""

    _received: list[tuple[Notification, str, datetime]] = field(default_factory=list)
    _ids: set[str] = field(default_factory=set)

    def known(self, ident: str) -> bool:
        """Whether a bundle with this Id (case-insensitive) was accepted before."""
        return ident.lower() in self._ids

    def add(self, notification: Notification, client_id: str) -> None:
        """Record a bundle not seen before."""
        self._ids.add(notification.id.lower())
        self._received.append((notification, client_id, datetime.now(UTC)))

    def to_json(self) -> list[dict[str, Any]]:
        """Every notification as ``GET /_control/notifications`` shows it."""
        return [
            {
                "id": item.id,
                "aanbieder_uri": item.aanbieder_uri,
                "categorie": item.categorie,
                "bestemmelingen": list(item.bestemmelingen),
                "kanalen": list(item.kanalen),
                "product_id": item.product_id,
                "transactie_id": item.transactie_id,
                "sleutel_waarde_paren": item.sleutels,
                "received_at": at.isoformat(timespec="milliseconds"),
                "client_id": client_id,
                "payload": item.payload,
            }
            for item, client_id, at in self._received
        ]

    def clear(self) -> int:
        """Forget everything; return how many notifications there were."""
        count = len(self._received)
        self._received.clear()
        self._ids.clear()
        return count
