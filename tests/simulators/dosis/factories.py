"""Requests as the hub makes them: client assertions, token forms, uploads, notifications."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import jwt

from simulators.dosis import DosisSimulator
from simulators.dosis.tokens import ASSERTION_TYPE

CLIENT_ID = "loket-hub"
BRON = "urn://gent.be/cs-connector/eloket"
INSZ = "85073003328"
KBO = "0566988259"
ASSOCIATION = "V0001001"



def make_assertion(
    key_file: Path, audience: str, *, client_id: str = CLIENT_ID, **claims: Any
) -> str:
    """A client assertion as the hub makes it; ``claims`` override or (value None) drop one."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "exp": now + 60,
        "jti": str(uuid.uuid4()),
    }
    payload.update(claims)
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode(payload, key_file.read_bytes(), algorithm="RS256")


def token_form(assertion: str, scope: str = "DosisImport Notificaties") -> dict[str, str]:
    """The form of a token request."""
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
        "scope": scope,
    }


async def get_token(
    http: aiohttp.ClientSession,
    sim: DosisSimulator,
    key_file: Path,
    scope: str = "DosisImport Notificaties",
) -> str:
    """A fresh access token."""
    form = token_form(make_assertion(key_file, sim.token_url), scope)
    async with http.post(sim.token_url, data=form) as response:
        assert response.status == 200, await response.text()
        body = await response.json()
    return str(body["access_token"])


def bearer(token: str) -> dict[str, str]:
    """The Authorization header."""
    return {"Authorization": f"Bearer {token}"}


def dossier_body(
    *,
    dossier: str = "2025-000123",
    fase: str = "Behandeling",
    code: str = "InBehandeling",
    when: str = "2025-03-04T09:15:00+01:00",
    upload_id: str | None = None,
    agent: str = INSZ,
) -> dict[str, Any]:
    """A complete, valid dossier-status upload."""
    return {
        "Identificatie": {"Bron": BRON, "DossierNummer": dossier},
        "UploadId": upload_id or str(uuid.uuid4()),
        "Naam": "Aanvraag uittreksel uit het strafregister",
        "WijzigingsDatum": when,
        "Status": {"VlaamsCode": code, "VlaamsFase": fase, "Detail1": "Uw aanvraag loopt",
                   "Actie": {"ActieNodig": False}},
        "Doorverwijzing": {"Url": "https://eloket.gent.be/dossiers/2025-000123"},
        "TypeDossierCode": "DossierStatus",
        "Producten": [{"Id": 1234}],
        "DossierBeheerder": {"Naam": "Stad Gent", "Dienst": "Burgerzaken",
                             "Email": "burgerzaken@gent.be"},
        "Agenten": [{"Identificatie": agent, "Toegangsrechten": [{"Code": "Raadpleger"}]}],
    }


def notification_body(
    *, dossier: str = "2025-000123", ident: str | None = None, **overrides: Any
) -> dict[str, Any]:
    """A valid DossierWijziging NotificatieBundel."""
    body: dict[str, Any] = {
        "Id": ident or str(uuid.uuid4()),
        "AanbiederUri": BRON,
        "Bestemmelingen": [{"Identificatie": INSZ}],
        "Categorie": "DossierWijziging",
        "DatumNotificatie": "2025-03-04T09:15:00+01:00",
        "Kanalen": ["MijnBurgerprofiel"],
        "ProductId": 1234,
        "MerkCode": "gent",
        "SleutelWaardeParen": [
            {"Sleutel": "DossierNummer", "Waarde": dossier},
            {"Sleutel": "StatusVlaamseCode", "Waarde": "InBehandeling"},
            {"Sleutel": "StatusVlaamseFase", "Waarde": "Behandeling"},
        ],
        "TransactieId": f"{BRON}/{dossier}",
    }
    body.update(overrides)
    return body
