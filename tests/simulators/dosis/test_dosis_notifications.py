"""Mijn Burgerprofiel notifications (NotificatieBundel)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from hub.devpki import KeyPair
from simulators.dosis import DosisSimulator
from tests.simulators.dosis.factories import BRON, INSZ, bearer, get_token, notification_body

NOTIFICATIONS = "/api/v2/notificaties"


async def _post(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str, body: Any
) -> tuple[int, Any]:
    async with http.post(sim.base_url + NOTIFICATIONS, json=body,
                         headers=bearer(token)) as response:
        return response.status, await response.json()


async def _control(http: aiohttp.ClientSession, sim: DosisSimulator) -> list[dict[str, Any]]:
    async with http.get(sim.base_url + "/_control/notifications") as response:
        body: list[dict[str, Any]] = await response.json()
        return body


async def test_notification_is_accepted_and_recorded(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str
) -> None:
    body = notification_body()
    assert await _post(http, sim, token, body) == (200, {"Id": body["Id"]})
    [record] = await _control(http, sim)
    assert record["id"] == body["Id"]
    assert record["categorie"] == "DossierWijziging"
    assert record["bestemmelingen"] == [INSZ]
    assert record["kanalen"] == ["MijnBurgerprofiel"]
    assert record["transactie_id"] == f"{BRON}/2025-000123"
    assert record["sleutel_waarde_paren"] == {
        "DossierNummer": "2025-000123",
        "StatusVlaamseCode": "InBehandeling",
        "StatusVlaamseFase": "Behandeling",
    }
    assert record["payload"] == body


async def test_other_categories_need_no_dossier_keys(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str
) -> None:
    body = notification_body(Categorie="Herinnering", SleutelWaardeParen=[],
                             TransactieId="eigen-referentie-1", Kanalen=["Email"])
    assert (await _post(http, sim, token, body))[0] == 200


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"SleutelWaardeParen": [{"Sleutel": "DossierNummer", "Waarde": "2025-000123"},
                                 {"Sleutel": "StatusVlaamseFase", "Waarde": "Behandeling"}]},
         "SleutelWaardeParen"),
        ({"TransactieId": "2025-000123"}, "TransactieId"),
        ({"TransactieId": f"{BRON}/2025-000999"}, "TransactieId"),
        ({"SleutelWaardeParen": [{"Sleutel": "DossierNummer", "Waarde": "2025-000123"},
                                 {"Sleutel": "StatusVlaamseCode", "Waarde": "Bestaatniet"},
                                 {"Sleutel": "StatusVlaamseFase", "Waarde": "Behandeling"}]},
         "SleutelWaardeParen.StatusVlaamseCode"),
        ({"Bestemmelingen": [{"Identificatie": "46061400106"}]},
         "Bestemmelingen[0].Identificatie"),
        ({"Bestemmelingen": []}, "Bestemmelingen"),
        ({"Kanalen": []}, "Kanalen"),
        ({"AanbiederUri": "https://gent.be"}, "AanbiederUri"),
        ({"Id": "1"}, "Id"),
        ({"ProductId": 0}, "ProductId"),
        ({"DatumNotificatie": "gisteren"}, "DatumNotificatie"),
        ({"Onderwerp": "x"}, "Onderwerp"),
    ],
    ids=["missing-code-key", "transactie-without-aanbieder", "transactie-other-dossier",
         "unknown-code", "bad-bestemmeling", "no-bestemmelingen", "no-kanalen",
         "aanbieder-not-urn", "id-not-uuid", "product-zero", "bad-date", "unknown-field"],
)
async def test_invalid_bundles_are_400(
    http: aiohttp.ClientSession,
    sim: DosisSimulator,
    token: str,
    overrides: dict[str, Any],
    field: str,
) -> None:
    status, body = await _post(http, sim, token, notification_body(**overrides))
    assert status == 400
    assert [error["field"] for error in body["errors"]] == [field]
    assert await _control(http, sim) == []


async def test_same_id_is_recorded_once(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str
) -> None:
    body = notification_body()
    for _ in range(2):
        assert await _post(http, sim, token, body) == (200, {"Id": body["Id"]})
    assert len(await _control(http, sim)) == 1


async def test_notifications_need_their_scope(
    http: aiohttp.ClientSession, sim: DosisSimulator, client_pair: KeyPair
) -> None:
    token = await get_token(http, sim, client_pair.key, scope="DosisImport")
    status, body = await _post(http, sim, token, notification_body())
    assert (status, body["code"]) == (403, "NIET_GEAUTORISEERD")
    status, _ = await _post(http, sim, "unknown", notification_body())
    assert status == 401
