"""Dossier-status uploads (``DosisDossierTO``): synchronous validation, then the asynchronous
processing result, both in the shapes of ``../shared/domain/dosis.md`` (fact ids in brackets).

Synchronous (400 with ``{code, message, description, errors}`` [F47]): every field's name, type
and format as the public client writes it — ``WijzigingsDatum`` without offset [F24],
``Producten`` one ``{Id}`` whose ``Id`` is a string of digits [F28, F29], ``Doorverwijzing`` a
URL string or null [F26], ``DossierBeheerder`` with its ``Adres`` [F32], agents with their rights
[F33-F37]; required fields present; no field the client never sends.

Asynchronous: an accepted upload reads 404 until it is processed [F58], then
``{Identificatie, UploadId, Bestand, TijdstipVerwerking, Succes, Fout, Fouten,
VerwerktVoorOpvraging}`` [F50-F57]. Processing refuses an agent whose identifier is not a valid
national number or company number [F38] and, on request (``refuse-result``), anything. Judged at
arrival, shown after the delay: the outcome does not depend on how fast a client reads back.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.identifiers import is_valid_insz
from simulators.dosis.validation import Checker, FieldError

__all__ = [
    "REFUSED_ON_REQUEST",
    "DossierRegister",
    "Submission",
    "Upload",
    "validate_dossier",
]

REFUSED_ON_REQUEST = "Geweigerd op verzoek van de test"

_URN = re.compile(r"urn:\S+")
_URL = re.compile(r"https?://[^\s/]+\S*")
_DIGITS = re.compile(r"[0-9]+")

_TOP = {
    "Identificatie": True, "UploadId": True, "Naam": True, "WijzigingsDatum": True,
    "Status": True, "Doorverwijzing": False, "TypeDossierCode": True, "Producten": True,
    "DossierBeheerder": False, "Agenten": True,
}
_STATUS = {"VlaamsCode": True, "VlaamsFase": True, "Detail1": False, "Actie": False}
_CONTACT = {"Naam": False, "Dienst": False, "Telefoon": False, "Email": False, "Website": False,
            "Adres": True}
_ADDRESS = {"Straat": True, "Nummer": True, "Postcode": True, "Gemeente": True}
_IDENTIFICATION_KEYS = {
    "connector": ("bron", "dossierNummer"),
    "annotated": ("Bron", "DossierNummer"),
}


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
    producten: tuple[str, ...]
    agenten: tuple[str, ...]
    payload: dict[str, Any]


def validate_dossier(
    body: Any,
    phases: Mapping[str, tuple[str, ...]],
    *,
    identification_keys: str = "either",
    enforce_pairing: bool = False,
) -> tuple[Submission | None, list[FieldError]]:
    """The submission in a request body, or None and every problem found."""
    check = Checker()
    top = check.object(body, "", _TOP)
    if top is None:
        return None, check.errors
    bron, dossier = _identification(check, top, identification_keys)
    upload_id = check.canonical_uuid(top, "UploadId", "")
    naam = check.text(top, "Naam", "")
    wijziging = check.local_date_time(top, "WijzigingsDatum", "")
    fase, code = _status(check, top, phases, enforce_pairing)
    _redirect(check, top)
    if top.get("TypeDossierCode") is not None and top["TypeDossierCode"] != "DossierStatus":
        check.fail("TypeDossierCode", "moet DossierStatus zijn")
    producten = _producten(check, top)
    _beheerder(check, top)
    agenten = _agenten(check, top)
    if check.errors:
        return None, check.errors
    assert bron and dossier and upload_id and naam and wijziging and fase and code
    return Submission(upload_id, bron, dossier, naam, fase, code, wijziging, producten,
                      agenten, top), []


def _identification(
    check: Checker, top: dict[str, Any], spelling: str
) -> tuple[str | None, str | None]:
    """``Identificatie`` [F17, F18]: the connector writes ``bron``/``dossierNummer`` (its
    ObjectMapper has no ParameterNamesModule); the annotations say ``Bron``/``DossierNummer``."""
    value = top.get("Identificatie")
    if value is None:
        return None, None
    if not isinstance(value, dict):
        check.fail("Identificatie", "moet een object zijn", "ONGELDIG_TYPE")
        return None, None
    allowed = ([_IDENTIFICATION_KEYS[spelling]] if spelling in _IDENTIFICATION_KEYS
               else list(_IDENTIFICATION_KEYS.values()))
    keys = next((pair for pair in allowed if set(pair) & set(value)), allowed[0])
    ident = check.object(value, "Identificatie", dict.fromkeys(keys, True)) or {}
    bron = check.text(ident, keys[0], "Identificatie")
    if bron is not None and not _URN.fullmatch(bron):
        check.fail(f"Identificatie.{keys[0]}", "moet een URN zijn (urn:…)", "ONGELDIG_FORMAAT")
        bron = None
    dossier = check.text(ident, keys[1], "Identificatie")
    return bron, dossier


def _status(
    check: Checker, top: dict[str, Any], phases: Mapping[str, tuple[str, ...]],
    enforce_pairing: bool,
) -> tuple[str | None, str | None]:
    """``Status`` [F40-F46]."""
    status = check.child(top, "Status", "", _STATUS) or {}
    code = check.text(status, "VlaamsCode", "Status")
    fase = check.text(status, "VlaamsFase", "Status")
    codes = {c for row in phases.values() for c in row}
    if fase is not None and fase not in phases:
        check.fail("Status.VlaamsFase", f"onbekende VlaamsFase {fase!r}")
        fase = None
    if code is not None and code not in codes:
        check.fail("Status.VlaamsCode", f"onbekende VlaamsCode {code!r}")
        code = None
    if enforce_pairing and fase and code and code not in phases[fase]:
        check.fail("Status.VlaamsCode", f"VlaamsCode {code!r} hoort niet bij {fase!r}")
    check.string_or_null(status, "Detail1", "Status")
    if status.get("Actie") is not None:
        actie = check.child(status, "Actie", "Status", {"ActieNodig": True, "Actie": True}) or {}
        needed = check.boolean(actie, "ActieNodig", "Status.Actie")
        if needed is False:
            check.fail("Status.Actie.ActieNodig", "is altijd true; geen actie: Actie = null")
        check.text(actie, "Actie", "Status.Actie")
    return fase, code


def _redirect(check: Checker, top: dict[str, Any]) -> None:
    """``Doorverwijzing``: a URL string, or null [F26]."""
    link = top.get("Doorverwijzing")
    if link is None:
        return
    if not isinstance(link, str):
        check.fail("Doorverwijzing", "moet een URL (tekst) zijn", "ONGELDIG_TYPE")
    elif not _URL.fullmatch(link):
        check.fail("Doorverwijzing", "moet een absolute http(s)-URL zijn", "ONGELDIG_FORMAAT")


def _producten(check: Checker, top: dict[str, Any]) -> tuple[str, ...]:
    """``Producten``: exactly one ``{Id}``, the Id a string of digits [F28, F29]."""
    ids: list[str] = []
    items = check.items(top, "Producten", "", minimum=1)
    if len(items) > 1:
        check.fail("Producten", "moet precies één element bevatten")
    for index, item in enumerate(items):
        path = f"Producten[{index}]"
        product = check.object(item, path, {"Id": True})
        value = None if product is None else product.get("Id")
        if value is None:
            continue
        if not isinstance(value, str):
            check.fail(f"{path}.Id", "moet een tekst zijn (het productnummer)", "ONGELDIG_TYPE")
        elif not _DIGITS.fullmatch(value):
            check.fail(f"{path}.Id", "moet het productnummer in cijfers zijn", "ONGELDIG_FORMAAT")
        else:
            ids.append(value)
    return tuple(ids)


def _beheerder(check: Checker, top: dict[str, Any]) -> None:
    """``DossierBeheerder``: contact strings (null allowed) and its ``Adres`` [F30-F32]."""
    beheerder = check.child(top, "DossierBeheerder", "", _CONTACT)
    if beheerder is None:
        return
    for key in _CONTACT:
        if key != "Adres":
            check.string_or_null(beheerder, key, "DossierBeheerder")
    adres = check.child(beheerder, "Adres", "DossierBeheerder", _ADDRESS) or {}
    for key in _ADDRESS:
        if adres.get(key) is not None and not isinstance(adres[key], str):
            check.fail(f"DossierBeheerder.Adres.{key}", "moet een tekst zijn", "ONGELDIG_TYPE")


def _agenten(check: Checker, top: dict[str, Any]) -> tuple[str, ...]:
    """``Agenten`` [F33-F37]: the identifier is only judged when the upload is processed."""
    identifiers: list[str] = []
    for index, item in enumerate(check.items(top, "Agenten", "", minimum=1)):
        path = f"Agenten[{index}]"
        agent = check.object(item, path, {"Identificatie": True, "Toegangsrechten": True})
        if agent is None:
            continue
        identifier = check.text(agent, "Identificatie", path)
        if identifier is not None:
            identifiers.append(identifier)
        rights = check.items(agent, "Toegangsrechten", path, minimum=0)
        codes = []
        for number, right in enumerate(rights):
            right_path = f"{path}.Toegangsrechten[{number}]"
            granted = check.object(right, right_path, {"Code": True})
            code = None if granted is None else check.text(granted, "Code", right_path)
            if code is not None:
                codes.append(code)
        if identifier is not None and _is_person(identifier) and codes != ["Raadpleger"]:
            check.fail(f"{path}.Toegangsrechten",
                       'een burger krijgt precies [{"Code": "Raadpleger"}]')
    return tuple(identifiers)


def _is_person(identifier: str) -> bool:
    return len(identifier) == 11 and identifier.isdigit()


def identifier_fault(identifier: str) -> str | None:
    """Why processing regards an agent as faulty [F38, F39]; None when it is acceptable.

    Digits only: 11 make a national number (mod-97 check, both centuries), 10 a KBO number
    (mod-97 check); any other count is no identifier. ``BE`` + 9 digits (the connector's own
    test data) and association numbers pass: the evidence judges neither.
    """
    if not identifier.isdigit():
        return None
    if len(identifier) == 11:
        return None if is_valid_insz(identifier) else "ongeldig rijksregisternummer"
    if len(identifier) == 10:
        body, check = int(identifier[:8]), int(identifier[8:])
        return None if 97 - body % 97 == check else "ongeldig ondernemingsnummer"
    return "ongeldig rijksregisternummer"


@dataclass
class Upload:
    """An accepted upload with its (eventual) processing result."""

    submission: Submission
    client_id: str
    faults: tuple[str, ...]
    received_at: datetime
    processed_at: datetime
    ready_at: float
    """Monotonic time from which the result shows; until then the read-back is 404."""

    @property
    def succes(self) -> bool:
        return not self.faults

    def ready(self, now: float) -> bool:
        return now >= self.ready_at

    def result_json(self) -> dict[str, Any]:
        """The read-back body (``DosisDossierUploadValidatieTO``) [F50-F57]."""
        sub = self.submission
        return {
            "Identificatie": {"Bron": sub.bron, "DossierNummer": sub.dossier},
            "UploadId": sub.upload_id,
            "Bestand": None,
            "TijdstipVerwerking": self.processed_at.isoformat(timespec="milliseconds"),
            "Succes": self.succes,
            "Fout": None if self.succes else "; ".join(self.faults),
            "Fouten": [{"Omschrijving": fault, "LijnNummer": 1} for fault in self.faults],
            "VerwerktVoorOpvraging": True,
        }

    def control_json(self, now: float) -> dict[str, Any]:
        """The upload as ``GET /_control/dossiers`` shows it."""
        sub = self.submission
        result = None if not self.ready(now) else ("Succes" if self.succes else "Fout")
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
            "result": result,
            "faults": list(self.faults),
            "reason": "; ".join(self.faults) if result == "Fout" else None,
            "client_id": self.client_id,
            "payload": sub.payload,
        }


@dataclass
class DossierRegister:
    """Every accepted upload in arrival order, by UploadId."""

    delay_ms: int
    monotonic: Callable[[], float] = time.monotonic
    _uploads: list[Upload] = field(default_factory=list)
    _by_id: dict[str, Upload] = field(default_factory=dict)

    def get(self, upload_id: str) -> Upload | None:
        """The upload with this id, or None."""
        return self._by_id.get(upload_id.lower())

    def accept(self, submission: Submission, client_id: str, refuse_reason: str | None) -> Upload:
        """Record a new upload and judge it; ``refuse_reason`` makes it fail on processing."""
        faults = [f"Agent {index + 1}: {fault}" for index, agent in enumerate(submission.agenten)
                  if (fault := identifier_fault(agent)) is not None]
        if refuse_reason:
            faults.append(refuse_reason)
        # LocalDateTime, no offset, as the service writes it [F53].
        now = datetime.now().replace(tzinfo=None)
        upload = Upload(
            submission=submission,
            client_id=client_id,
            faults=tuple(faults),
            received_at=now,
            processed_at=now,
            ready_at=self.monotonic() + self.delay_ms / 1000,
        )
        self._uploads.append(upload)
        self._by_id[submission.upload_id.lower()] = upload
        return upload

    def uploads(self) -> list[Upload]:
        """Every accepted upload in arrival order."""
        return list(self._uploads)

    def clear(self) -> int:
        """Forget everything; return how many uploads there were."""
        count = len(self._uploads)
        self._uploads.clear()
        self._by_id.clear()
        return count
