"""Dossier-status uploads: synchronous validation, then the asynchronous result.

An accepted upload is judged at once, in arrival order, but its result only shows after the
processing delay; until then it reads ``InVerwerking``. Judging at arrival keeps the outcome
deterministic however fast a client reads back.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from simulators.dosis.validation import Checker, FieldError

__all__ = [
    "IN_VERWERKING",
    "REFUSED_ON_REQUEST",
    "DossierRegister",
    "Submission",
    "Upload",
    "validate_dossier",
]

IN_VERWERKING = "InVerwerking"
VERWERKT = "Verwerkt"
GEWEIGERD = "Geweigerd"
REFUSED_ON_REQUEST = "op verzoek van de test"

_BRON = re.compile(r"urn://\S+")
_URL = re.compile(r"https?://[^\s/]+\S*")

_TOP = {
    "Identificatie": True, "UploadId": True, "Naam": True, "WijzigingsDatum": True,
    "Status": True, "Doorverwijzing": False, "TypeDossierCode": True, "Producten": True,
    "DossierBeheerder": False, "Agenten": True,
}
_BEHEERDER = {"Naam": True, "Dienst": False, "Telefoon": False, "Email": False,
              "Website": False, "Adres": False}


@dataclass(frozen=True)
class Submission:
    """A dossier-status upload that passed synchronous validation."""

    upload_id: str
    bron: str
    dossier: str
    naam: str
    vlaams_fase: str
    vlaams_code: str
    wijzigingsdatum: datetime
    producten: tuple[int, ...]
    agenten: tuple[str, ...]
    payload: dict[str, Any]


def validate_dossier(
    body: Any, phases: Mapping[str, tuple[str, ...]]
) -> tuple[Submission | None, list[FieldError]]:
    """The submission in a request body, or None and every problem found."""
    check = Checker()
    top = check.object(body, "", _TOP)
    if top is None:
        return None, check.errors
    ident = check.child(top, "Identificatie", "", {"Bron": True, "DossierNummer": True}) or {}
    bron = check.text(ident, "Bron", "Identificatie")
    if bron is not None and not _BRON.fullmatch(bron):
        check.fail("Identificatie.Bron", "moet een URN van de vorm urn://… zijn")
        bron = None
    dossier = check.text(ident, "DossierNummer", "Identificatie")
    upload_id = check.uuid(top, "UploadId", "")
    naam = check.text(top, "Naam", "")
    wijziging = check.timestamp(top, "WijzigingsDatum", "")
    fase, code = _status(check, top, phases)
    _optional_parts(check, top)
    if top.get("TypeDossierCode") is not None and top["TypeDossierCode"] != "DossierStatus":
        check.fail("TypeDossierCode", "moet DossierStatus zijn")
    producten = _producten(check, top)
    agenten = _agenten(check, top)
    if check.errors:
        return None, check.errors
    assert bron and dossier and upload_id and naam and wijziging and fase and code
    return Submission(upload_id, bron, dossier, naam, fase, code, wijziging, producten,
                      agenten, top), []


def _status(
    check: Checker, top: dict[str, Any], phases: Mapping[str, tuple[str, ...]]
) -> tuple[str | None, str | None]:
    fields = {"VlaamsCode": True, "VlaamsFase": True, "Detail1": False, "Actie": False}
    status = check.child(top, "Status", "", fields) or {}
    code = check.text(status, "VlaamsCode", "Status")
    fase = check.text(status, "VlaamsFase", "Status")
    check.phase(fase, code, phases, "Status.VlaamsFase", "Status.VlaamsCode")
    check.text(status, "Detail1", "Status")
    actie = check.child(status, "Actie", "Status", {"ActieNodig": True, "Actie": False}) or {}
    check.boolean(actie, "ActieNodig", "Status.Actie")
    check.text(actie, "Actie", "Status.Actie")
    return fase, code


def _optional_parts(check: Checker, top: dict[str, Any]) -> None:
    link = check.child(top, "Doorverwijzing", "", {"Url": True}) or {}
    url = check.text(link, "Url", "Doorverwijzing")
    if url is not None and not _URL.fullmatch(url):
        check.fail("Doorverwijzing.Url", "moet een absolute http(s)-URL zijn")
    beheerder = check.child(top, "DossierBeheerder", "", _BEHEERDER) or {}
    for key in _BEHEERDER:
        check.text(beheerder, key, "DossierBeheerder")


def _producten(check: Checker, top: dict[str, Any]) -> tuple[int, ...]:
    ids: list[int] = []
    for index, item in enumerate(check.items(top, "Producten", "", minimum=1)):
        path = f"Producten[{index}]"
        product = check.object(item, path, {"Id": True})
        number = None if product is None else check.positive_int(product, "Id", path)
        if number is not None:
            ids.append(number)
    return tuple(ids)


def _agenten(check: Checker, top: dict[str, Any]) -> tuple[str, ...]:
    identifiers: list[str] = []
    for index, item in enumerate(check.items(top, "Agenten", "", minimum=1)):
        path = f"Agenten[{index}]"
        agent = check.object(item, path, {"Identificatie": True, "Toegangsrechten": True})
        if agent is None:
            continue
        identifier = check.identifier(agent, "Identificatie", path)
        if identifier is not None:
            identifiers.append(identifier)
        for number, right in enumerate(check.items(agent, "Toegangsrechten", path, minimum=1)):
            right_path = f"{path}.Toegangsrechten[{number}]"
            granted = check.object(right, right_path, {"Code": True})
            if granted is not None and granted.get("Code") not in (None, "Raadpleger"):
                check.fail(f"{right_path}.Code", "moet Raadpleger zijn")
    return tuple(identifiers)


@dataclass
class Upload:
    """An accepted upload with its (eventual) result."""

    submission: Submission
    client_id: str
    outcome: str
    reason: str | None
    received_at: datetime
    ready_at: float
    """Monotonic time from which the outcome shows instead of ``InVerwerking``."""

    def status(self, now: float) -> str:
        """``InVerwerking`` until ``ready_at``, then ``Verwerkt`` or ``Geweigerd``."""
        return self.outcome if now >= self.ready_at else IN_VERWERKING

    def result_json(self, now: float) -> dict[str, Any]:
        """The upload as the resultaten endpoints show it."""
        status = self.status(now)
        body: dict[str, Any] = {
            "UploadId": self.submission.upload_id,
            "DossierNummer": self.submission.dossier,
            "Status": status,
        }
        if status == GEWEIGERD and self.reason is not None:
            body["Reden"] = self.reason
        body["Ontvangen"] = self.received_at.isoformat(timespec="milliseconds")
        return body

    def control_json(self, now: float) -> dict[str, Any]:
        """The upload as ``GET /_control/dossiers`` shows it."""
        sub = self.submission
        status = self.status(now)
        return {
            "upload_id": sub.upload_id,
            "bron": sub.bron,
            "dossier": sub.dossier,
            "naam": sub.naam,
            "vlaams_fase": sub.vlaams_fase,
            "vlaams_code": sub.vlaams_code,
            "producten": list(sub.producten),
            "agenten": list(sub.agenten),
            "wijzigingsdatum": sub.payload["WijzigingsDatum"],
            "received_at": self.received_at.isoformat(timespec="milliseconds"),
            "result": status,
            "reason": self.reason if status == GEWEIGERD else None,
            "client_id": self.client_id,
            "payload": sub.payload,
        }


@dataclass
class DossierRegister:
    """Every accepted upload, and each dossier's state after its last ``Verwerkt`` upload."""

    phases: Mapping[str, tuple[str, ...]]
    delay_ms: int
    monotonic: Callable[[], float] = time.monotonic
    _uploads: list[Upload] = field(default_factory=list)
    _by_id: dict[str, Upload] = field(default_factory=dict)
    _current: dict[tuple[str, str], Submission] = field(default_factory=dict)

    def get(self, upload_id: str) -> Upload | None:
        """The upload with this id (case-insensitive, as UUIDs are), or None."""
        return self._by_id.get(upload_id.lower())

    def accept(self, submission: Submission, client_id: str, refuse_reason: str | None) -> Upload:
        """Record a new upload and judge it; ``refuse_reason`` forces ``Geweigerd``."""
        key = (submission.bron, submission.dossier)
        reason = refuse_reason or self._business_refusal(self._current.get(key), submission)
        if reason is None:
            self._current[key] = submission
        upload = Upload(
            submission=submission,
            client_id=client_id,
            outcome=VERWERKT if reason is None else GEWEIGERD,
            reason=reason,
            received_at=datetime.now(UTC),
            ready_at=self.monotonic() + self.delay_ms / 1000,
        )
        self._uploads.append(upload)
        self._by_id[submission.upload_id.lower()] = upload
        return upload

    def _business_refusal(self, current: Submission | None, new: Submission) -> str | None:
        # What DOSIS refuses after accepting: checks that need the dossier's history.
        if current is None:
            return None
        order = list(self.phases)
        if order.index(new.vlaams_fase) < order.index(current.vlaams_fase):
            return (f"VlaamsFase gaat achteruit: {current.vlaams_fase} → {new.vlaams_fase}")
        if new.wijzigingsdatum < current.wijzigingsdatum:
            return (f"WijzigingsDatum {new.payload['WijzigingsDatum']} is ouder dan de laatst "
                    f"verwerkte ({current.payload['WijzigingsDatum']})")
        return None

    def uploads(self) -> list[Upload]:
        """Every accepted upload in arrival order."""
        return list(self._uploads)

    def for_dossier(self, bron: str, dossier: str) -> list[Upload]:
        """The uploads of one dossier in arrival order."""
        return [u for u in self._uploads
                if u.submission.bron == bron and u.submission.dossier == dossier]

    def clear(self) -> int:
        """Forget everything; return how many uploads there were."""
        count = len(self._uploads)
        self._uploads.clear()
        self._by_id.clear()
        self._current.clear()
        return count
