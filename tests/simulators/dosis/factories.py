"""Requests as the hub makes them: client assertions, token forms, uploads, notifications."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import jwt

from simulators.dosis import DosisSimulator
from simulators.dosis.tokens import ASSERTION_TYPE

CLIENT_ID = "loket-hub"
KID = "loket-hub-test-key"
BRON = "urn://gent.be/cs-connector/eloket"
INSZ = "85073003328"
KBO = "0566988259"
ASSOCIATION = "V0001001"
DOSIS_MD = Path(__file__).resolve().parents[3].parent / "shared/domain/dosis.md"


def make_assertion(
    key_file: Path, audience: str, *, client_id: str = CLIENT_ID, kid: str | None = KID,
    **claims: Any,
) -> str:
    """A client assertion as the public client makes it [F06-F08]: ``{"alg", "kid"}`` header,
    no ``typ``; ``claims`` override or (value None) drop one."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "exp": now + 120,
        "jti": str(uuid.uuid4()),
    }
    payload.update(claims)
    payload = {name: value for name, value in payload.items() if value is not None}
    headers: dict[str, Any] = {"typ": None}
    if kid is not None:
        headers["kid"] = kid
    return jwt.encode(payload, key_file.read_bytes(), algorithm="RS256", headers=headers)


def token_form(assertion: str, scope: str = "DosisImport") -> dict[str, str]:
    """The form of a token request [F02-F05]."""
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
    """The Authorization header [F11]."""
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def reference_sample() -> dict[str, Any]:
    """The body the public client writes, exactly as ``dosis.md`` quotes it."""
    text = DOSIS_MD.read_text(encoding="utf-8")
    block = text.split("## A body the public client writes", 1)[1].split("```", 2)[1]
    sample: dict[str, Any] = json.loads(block)
    return sample


def dossier_body(
    *,
    dossier: str = "2025-000123",
    fase: str = "Behandeling",
    code: str = "InBehandeling",
    when: str = "2025-03-04T09:15:00.123",
    upload_id: str | None = None,
    agent: str = INSZ,
) -> dict[str, Any]:
    """A complete, valid upload in the public client's shape, for one citizen agent."""
    return {
        "Identificatie": {"bron": BRON, "dossierNummer": dossier},
        "UploadId": upload_id or str(uuid.uuid4()),
        "Naam": "Uittreksel uit het strafregister",
        "WijzigingsDatum": when,
        "Status": {"VlaamsCode": code, "VlaamsFase": fase, "Detail1": "Uw aanvraag loopt",
                   "Actie": None},
        "Doorverwijzing": "https://eloket.gent.be/dossiers/2025-000123",
        "TypeDossierCode": "DossierStatus",
        "Producten": [{"Id": "1234"}],
        "DossierBeheerder": {"Naam": "Stad Gent", "Dienst": "Burgerzaken", "Telefoon": None,
                             "Email": "burgerzaken@gent.be", "Website": None,
                             "Adres": {"Straat": "Botermarkt", "Nummer": "1",
                                       "Postcode": "9000", "Gemeente": "Gent"}},
        "Agenten": [{"Identificatie": agent,
                     "Toegangsrechten": [] if len(agent) != 11 else [{"Code": "Raadpleger"}]}],
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
