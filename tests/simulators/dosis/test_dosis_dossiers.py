"""Dossier-status uploads against the facts of ``dosis.md``: the public client's own body is
accepted; what it would never send is refused; the read-back is 404 until processed, then
``Succes``/``Fout``/``Fouten``."""

from __future__ import annotations

import asyncio
import copy
import uuid
from typing import Any

import aiohttp
import pytest

from hub.devpki import KeyPair
from simulators.dosis import DosisSimulator
from tests.simulators.dosis.conftest import StartSimulator
from tests.simulators.dosis.factories import (
    ASSOCIATION,
    BRON,
    INSZ,
    KBO,
    bearer,
    dossier_body,
    get_token,
    reference_sample,
)

CONNECTOR_PATH = "/api/v2/dossiers"
WIKI_PATH = "/api/v2/dosis/dossiers"
PER_UPLOAD = "/api/v1/dosis/resultaten/perUploadId"


async def _post(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str, body: Any,
    path: str = CONNECTOR_PATH,
) -> tuple[int, Any]:
    async with http.post(sim.base_url + path, json=body, headers=bearer(token)) as response:
        return response.status, await response.json()


async def _read_back(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str, upload_id: str
) -> tuple[int, Any]:
    async with http.get(sim.base_url + PER_UPLOAD, params={"uploadId": upload_id},
                        headers=bearer(token)) as response:
        return response.status, await response.json()


async def _control(http: aiohttp.ClientSession, sim: DosisSimulator) -> list[dict[str, Any]]:
    async with http.get(sim.base_url + "/_control/dossiers") as response:
        body: list[dict[str, Any]] = await response.json()
        return body


@pytest.mark.parametrize("path", [CONNECTOR_PATH, WIKI_PATH], ids=["connector", "wiki"])
async def test_the_public_clients_own_body_is_accepted_and_processed(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str, path: str
) -> None:
    sample = reference_sample()
    status, answer = await _post(http, sim, token, sample, path)
    assert (status, answer) == (200, {"Status": "OK", "UploadId": sample["UploadId"]})
    status, result = await _read_back(http, sim, token, sample["UploadId"])
    assert status == 200
    assert set(result) == {"Identificatie", "UploadId", "Bestand", "TijdstipVerwerking",
                           "Succes", "Fout", "Fouten", "VerwerktVoorOpvraging"}
    assert result["Identificatie"] == {"Bron": "urn://some/test", "DossierNummer": "AT4Ya3dSVo"}
    assert result["Succes"] is True and result["Fouten"] == [] and result["Fout"] is None
    assert "+" not in result["TijdstipVerwerking"] and "T" in result["TijdstipVerwerking"]
    [record] = await _control(http, sim)
    assert record["producten"] == ["8"] and record["result"] == "Succes"


async def test_the_annotated_identification_spelling_is_accepted_too(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str
) -> None:
    body = dossier_body()
    body["Identificatie"] = {"Bron": BRON, "DossierNummer": "2025-000123"}
    assert (await _post(http, sim, token, body))[0] == 200


async def test_one_spelling_only_when_so_configured(
    http: aiohttp.ClientSession, start: StartSimulator, client_pair: KeyPair
) -> None:
    sim = await start(identification_keys="annotated", upload_paths=(WIKI_PATH,))
    token = await get_token(http, sim, client_pair.key)
    status, answer = await _post(http, sim, token, dossier_body(), WIKI_PATH)
    assert status == 400
    assert {e["field"] for e in answer["errors"]} >= {"Identificatie.bron",
                                                      "Identificatie.Bron"}
    async with http.post(sim.base_url + CONNECTOR_PATH, json=dossier_body(),
                         headers=bearer(token)) as response:
        assert response.status == 404


@pytest.mark.parametrize("agent", [KBO, ASSOCIATION, "BE0899772988"], ids=["kbo", "vzw", "be"])
async def test_company_agents_with_or_without_rights(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str, agent: str
) -> None:
    body = dossier_body(agent=agent)
    body["Agenten"][0]["Toegangsrechten"] = [{"Code": "LokaalLoket - eloketgebruiker"}]
    assert (await _post(http, sim, token, body))[0] == 200
    assert (await _post(http, sim, token, dossier_body(agent=agent)))[0] == 200


def _with(body: dict[str, Any], value: Any, *path: str | int) -> dict[str, Any]:
    body = copy.deepcopy(body)
    target: Any = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


def _without(body: dict[str, Any], *path: str) -> dict[str, Any]:
    body = copy.deepcopy(body)
    target: Any = body
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return body


SAMPLE = reference_sample()
REFUSED = [
    # What loket-hub used to send (the findings).
    (_with(SAMPLE, "2021-04-28T11:16:00+00:00", "WijzigingsDatum"), "WijzigingsDatum", "offset"),
    (_with(SAMPLE, "2021-04-28T11:16:00Z", "WijzigingsDatum"), "WijzigingsDatum", "zulu"),
    (_with(SAMPLE, [{"Id": 8}], "Producten"), "Producten[0].Id", "product-id-number"),
    (_without(SAMPLE, "DossierBeheerder", "Adres"), "DossierBeheerder.Adres", "no-adres"),
    (_with(SAMPLE, {"Url": "https://x.be/1"}, "Doorverwijzing"), "Doorverwijzing",
     "doorverwijzing-object"),
    # Other types and formats.
    (_with(SAMPLE, "2021-04-28", "WijzigingsDatum"), "WijzigingsDatum", "date-only"),
    (_with(SAMPLE, "2021-04-28T11:16", "WijzigingsDatum"), "WijzigingsDatum", "no-seconds"),
    (_with(SAMPLE, "upload-1", "UploadId"), "UploadId", "upload-id-not-uuid"),
    (_with(SAMPLE, SAMPLE["UploadId"].upper(), "UploadId"), "UploadId", "upload-id-upper"),
    (_with(SAMPLE, [{"Id": "8"}, {"Id": "9"}], "Producten"), "Producten", "two-products"),
    (_with(SAMPLE, [{"Id": "acht"}], "Producten"), "Producten[0].Id", "product-id-letters"),
    (_with(SAMPLE, "Dossier", "TypeDossierCode"), "TypeDossierCode", "type-dossier-code"),
    (_with(SAMPLE, "Afgehandeld", "Status", "VlaamsFase"), "Status.VlaamsFase", "fase"),
    (_with(SAMPLE, "Klaar", "Status", "VlaamsCode"), "Status.VlaamsCode", "code"),
    (_with(SAMPLE, "ja", "Status", "Actie", "ActieNodig"), "Status.Actie.ActieNodig",
     "actie-nodig-text"),
    (_with(SAMPLE, 7, "Status", "Detail1"), "Status.Detail1", "detail-number"),
    (_with(SAMPLE, "eloket/123", "Doorverwijzing"), "Doorverwijzing", "relative-url"),
    (_with(SAMPLE, "gent/eloket", "Identificatie", "bron"), "Identificatie.bron", "bron-no-urn"),
    (_with(SAMPLE, 9245, "DossierBeheerder", "Adres", "Postcode"),
     "DossierBeheerder.Adres.Postcode", "postcode-number"),
    (_with(SAMPLE, [{"Identificatie": INSZ, "Toegangsrechten": [{"Code": "Beheerder"}]}],
           "Agenten"), "Agenten[0].Toegangsrechten", "citizen-not-raadpleger"),
    (_with(SAMPLE, "x", "Opmerking"), "Opmerking", "unknown-field"),
    # Required fields.
    (_without(SAMPLE, "Naam"), "Naam", "missing-naam"),
    (_without(SAMPLE, "Status"), "Status", "missing-status"),
    (_without(SAMPLE, "Agenten"), "Agenten", "missing-agenten"),
    (_with(SAMPLE, [], "Agenten"), "Agenten", "no-agents"),
    (_without(SAMPLE, "Producten"), "Producten", "missing-producten"),
    (_without(SAMPLE, "WijzigingsDatum"), "WijzigingsDatum", "missing-date"),
    (_without(SAMPLE, "Identificatie", "dossierNummer"), "Identificatie.dossierNummer",
     "missing-dossiernummer"),
    (_without(SAMPLE, "TypeDossierCode"), "TypeDossierCode", "missing-type"),
]


@pytest.mark.parametrize(("body", "field"), [(b, f) for b, f, _ in REFUSED],
                         ids=[name for *_, name in REFUSED])
async def test_what_the_public_client_would_not_send_is_refused(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str, body: Any, field: str
) -> None:
    status, answer = await _post(http, sim, token, body)
    assert status == 400
    assert set(answer) == {"code", "message", "description", "errors"}
    assert field in [error["field"] for error in answer["errors"]]
    assert all(set(e) == {"code", "message", "description", "field"} for e in answer["errors"])
    assert await _control(http, sim) == []


async def test_every_problem_is_listed_at_once(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str
) -> None:
    body = _with(_with(SAMPLE, [{"Id": 8}], "Producten"), "2021-04-28T11:16:00+00:00",
                 "WijzigingsDatum")
    status, answer = await _post(http, sim, token, _without(body, "DossierBeheerder", "Adres"))
    assert status == 400
    assert {e["field"] for e in answer["errors"]} == {
        "Producten[0].Id", "WijzigingsDatum", "DossierBeheerder.Adres"}


async def test_nulls_are_accepted_where_jackson_writes_them(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str
) -> None:
    body = _with(_with(dossier_body(), None, "Doorverwijzing"), None, "DossierBeheerder")
    body["Status"]["Detail1"] = None
    assert (await _post(http, sim, token, body))[0] == 200


async def test_bad_identifiers_are_refused_when_processed(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str
) -> None:
    bodies = [dossier_body(agent="123456"), dossier_body(agent="85073003329"),
              dossier_body(agent="0566988258")]
    for body in bodies:
        assert (await _post(http, sim, token, body))[0] == 200  # accepted: judged later
    for body in bodies:
        status, result = await _read_back(http, sim, token, body["UploadId"])
        assert status == 200
        assert result["Succes"] is False
        assert result["Fout"]
        [fault] = result["Fouten"]
        assert set(fault) == {"Omschrijving", "LijnNummer"}
        assert isinstance(fault["LijnNummer"], int)


async def test_the_read_back_is_404_until_processed(
    http: aiohttp.ClientSession, start: StartSimulator, client_pair: KeyPair
) -> None:
    sim = await start(process_delay_ms=300)
    token = await get_token(http, sim, client_pair.key)
    body = dossier_body()
    assert (await _post(http, sim, token, body))[0] == 200
    status, answer = await _read_back(http, sim, token, body["UploadId"])
    assert status == 404 and answer["code"] == "NIET_GEVONDEN"
    assert (await _read_back(http, sim, token, str(uuid.uuid4())))[0] == 404
    await asyncio.sleep(0.4)
    status, result = await _read_back(http, sim, token, body["UploadId"])
    assert status == 200 and result["Succes"] is True


async def test_refuse_result_on_demand(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str
) -> None:
    async with http.post(sim.base_url + "/_control/faults",
                         json={"endpoint": "dossiers", "kind": "refuse-result"}) as reply:
        assert reply.status == 201
    refused, fine = dossier_body(), dossier_body()
    for body in (refused, fine):
        assert (await _post(http, sim, token, body))[0] == 200
    assert (await _read_back(http, sim, token, refused["UploadId"]))[1]["Succes"] is False
    assert (await _read_back(http, sim, token, fine["UploadId"]))[1]["Succes"] is True


async def test_same_upload_id_is_recorded_once(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str
) -> None:
    body = dossier_body()
    for _ in range(2):
        assert await _post(http, sim, token, body) == (
            200, {"Status": "OK", "UploadId": body["UploadId"]})
    assert len(await _control(http, sim)) == 1


async def test_the_read_back_needs_an_upload_id(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str
) -> None:
    async with http.get(sim.base_url + PER_UPLOAD, headers=bearer(token)) as response:
        assert response.status == 400


async def test_no_valid_token_is_401_and_a_token_without_the_scope_403(
    http: aiohttp.ClientSession, sim: DosisSimulator, client_pair: KeyPair
) -> None:
    async with http.post(sim.base_url + CONNECTOR_PATH, json=dossier_body()) as response:
        assert response.status == 401
    only_notifications = await get_token(http, sim, client_pair.key, scope="Notificaties")
    status, _ = await _post(http, sim, only_notifications, dossier_body())
    assert status == 403
