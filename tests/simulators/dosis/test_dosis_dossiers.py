"""Dossier-status uploads: synchronous validation, asynchronous result, idempotency, read-back."""

from __future__ import annotations

import asyncio
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
)

DOSSIERS = "/api/v2/dosis/dossiers"
RESULTS = "/api/v1/dosis/resultaten"
PER_UPLOAD = "/api/v1/dosis/resultaten/perUploadId"


async def _post(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str, body: Any
) -> tuple[int, Any]:
    async with http.post(sim.base_url + DOSSIERS, json=body, headers=bearer(token)) as response:
        return response.status, await response.json()


async def _get(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str, path: str, **query: str
) -> tuple[int, Any]:
    async with http.get(sim.base_url + path, params=query, headers=bearer(token)) as response:
        return response.status, await response.json()


async def _results(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str, dossier: str = "2025-000123"
) -> list[dict[str, Any]]:
    status, body = await _get(http, sim, token, RESULTS, bron=BRON, dossierNummer=dossier)
    assert status == 200
    assert isinstance(body, list)
    return body


async def _control(http: aiohttp.ClientSession, sim: DosisSimulator) -> list[dict[str, Any]]:
    async with http.get(sim.base_url + "/_control/dossiers") as response:
        body: list[dict[str, Any]] = await response.json()
        return body


async def test_accepted_upload_reads_back_as_verwerkt(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str
) -> None:
    body = dossier_body()
    assert await _post(http, sim, token, body) == (200, {"UploadId": body["UploadId"]})

    [result] = await _results(http, sim, token)
    assert result["UploadId"] == body["UploadId"]
    assert result["DossierNummer"] == "2025-000123"
    assert result["Status"] == "Verwerkt"
    assert "Reden" not in result
    assert result["Ontvangen"].endswith("+00:00")
    status, single = await _get(http, sim, token, PER_UPLOAD, uploadId=body["UploadId"])
    assert (status, single) == (200, result)

    [record] = await _control(http, sim)
    assert record["upload_id"] == body["UploadId"]
    assert (record["bron"], record["dossier"]) == (BRON, "2025-000123")
    assert (record["vlaams_fase"], record["vlaams_code"]) == ("Behandeling", "InBehandeling")
    assert record["producten"] == [1234]
    assert record["agenten"] == [INSZ]
    assert record["wijzigingsdatum"] == "2025-03-04T09:15:00+01:00"
    assert record["result"] == "Verwerkt"
    assert record["client_id"] == "loket-hub"
    assert record["payload"] == body


@pytest.mark.parametrize("agent", [KBO, ASSOCIATION, "00012556777"], ids=["kbo", "vzw", "2000s"])
async def test_other_agent_identifiers_are_accepted(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str, agent: str
) -> None:
    assert (await _post(http, sim, token, dossier_body(agent=agent)))[0] == 200


def _without(body: dict[str, Any], *path: str) -> dict[str, Any]:
    target: Any = body
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return body


def _with(body: dict[str, Any], value: Any, *path: str | int) -> dict[str, Any]:
    target: Any = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (dossier_body(fase="Afgehandeld", code="Goedgekeurd"), "Status.VlaamsFase"),
        (dossier_body(fase="Samenstelling", code="Goedgekeurd"), "Status.VlaamsCode"),
        (_with(dossier_body(), "gent/eloket", "Identificatie", "Bron"), "Identificatie.Bron"),
        (_with(dossier_body(), "urn:gent", "Identificatie", "Bron"), "Identificatie.Bron"),
        (dossier_body(agent="46061400106"), "Agenten[0].Identificatie"),
        (dossier_body(agent="0566988258"), "Agenten[0].Identificatie"),
        (dossier_body(agent="85.07.30-033.28"), "Agenten[0].Identificatie"),
        (dossier_body(agent="V0000999"), "Agenten[0].Identificatie"),
        (_without(dossier_body(), "Naam"), "Naam"),
        (_without(dossier_body(), "Identificatie", "DossierNummer"), "Identificatie.DossierNummer"),
        (_with(dossier_body(), "upload-1", "UploadId"), "UploadId"),
        (dossier_body(when="2025-03-04T09:15:00"), "WijzigingsDatum"),
        (dossier_body(when="2025-03-04"), "WijzigingsDatum"),
        (_with(dossier_body(), "Dossier", "TypeDossierCode"), "TypeDossierCode"),
        (_with(dossier_body(), [], "Producten"), "Producten"),
        (_with(dossier_body(), [{"Id": 0}], "Producten"), "Producten[0].Id"),
        (_with(dossier_body(), [{"Id": "12"}], "Producten"), "Producten[0].Id"),
        (_with(dossier_body(), [], "Agenten"), "Agenten"),
        (_with(dossier_body(), [{"Code": "Beheerder"}], "Agenten", 0, "Toegangsrechten"),
         "Agenten[0].Toegangsrechten[0].Code"),
        (_with(dossier_body(), "ja", "Status", "Actie", "ActieNodig"), "Status.Actie.ActieNodig"),
        (_with(dossier_body(), {"Url": "eloket/123"}, "Doorverwijzing"), "Doorverwijzing.Url"),
        (_with(dossier_body(), {"Dienst": "x"}, "DossierBeheerder"), "DossierBeheerder.Naam"),
        (_with(dossier_body(), "x", "Opmerking"), "Opmerking"),
        ([dossier_body()], "(body)"),
    ],
    ids=[
        "unknown-fase", "code-not-in-fase", "bron-no-urn", "bron-not-urn-slashes", "bad-insz",
        "bad-kbo", "insz-with-separators", "association-below-1001", "missing-naam",
        "missing-dossiernummer", "upload-id-not-uuid", "date-without-offset", "date-only",
        "type-dossier-code", "no-products", "product-id-zero", "product-id-string",
        "no-agents", "unknown-right", "actie-nodig-not-bool", "relative-url",
        "beheerder-without-naam", "unknown-field", "not-an-object",
    ],
)
async def test_synchronous_validation_errors(
    http: aiohttp.ClientSession,
    sim: DosisSimulator,
    token: str,
    body: Any,
    field: str,
) -> None:
    status, answer = await _post(http, sim, token, body)
    assert status == 400
    assert set(answer) == {"code", "message", "description", "errors"}
    assert [error["field"] for error in answer["errors"]] == [field]
    assert all(error["message"] for error in answer["errors"])
    assert await _control(http, sim) == []


async def test_every_problem_is_listed_at_once(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str
) -> None:
    body = _without(dossier_body(fase="Nergens", agent="123"), "Producten")
    status, answer = await _post(http, sim, token, body)
    assert status == 400
    fields = {error["field"] for error in answer["errors"]}
    assert fields == {"Status.VlaamsFase", "Producten", "Agenten[0].Identificatie"}


async def test_body_must_be_json(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str
) -> None:
    headers = {**bearer(token), "Content-Type": "application/json"}
    async with http.post(sim.base_url + DOSSIERS, data=b"{not json", headers=headers) as response:
        assert response.status == 400
        assert (await response.json())["code"] == "VALIDATIE_FOUT"
    async with http.post(sim.base_url + DOSSIERS, data=b"x=1", headers=bearer(token)) as response:
        assert response.status == 415


async def test_same_upload_id_is_accepted_once(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str
) -> None:
    body = dossier_body()
    assert await _post(http, sim, token, body) == (200, {"UploadId": body["UploadId"]})
    assert await _post(http, sim, token, body) == (200, {"UploadId": body["UploadId"]})
    upper = {**body, "UploadId": body["UploadId"].upper()}
    assert await _post(http, sim, token, upper) == (200, {"UploadId": upper["UploadId"]})
    assert len(await _control(http, sim)) == 1
    assert len(await _results(http, sim, token)) == 1


async def test_backwards_phase_is_geweigerd_and_leaves_the_dossier_as_it_was(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str
) -> None:
    done = dossier_body(fase="Afgerond", code="Goedgekeurd", when="2025-03-05T10:00:00+01:00")
    back = dossier_body(fase="Behandeling", code="InBehandeling",
                        when="2025-03-06T10:00:00+01:00")
    again = dossier_body(fase="Afgerond", code="DeelsGoedgekeurd",
                         when="2025-03-07T10:00:00+01:00")
    for body in (done, back, again):
        assert (await _post(http, sim, token, body))[0] == 200

    results = await _results(http, sim, token)
    assert [r["UploadId"] for r in results] == [done["UploadId"], back["UploadId"],
                                                again["UploadId"]]
    assert [r["Status"] for r in results] == ["Verwerkt", "Geweigerd", "Verwerkt"]
    assert results[1]["Reden"] == "VlaamsFase gaat achteruit: Afgerond → Behandeling"


async def test_older_wijzigingsdatum_is_geweigerd(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str
) -> None:
    newer = dossier_body(when="2025-03-05T10:00:00+01:00")
    # Same instant as 08:59 UTC: older than 09:00 UTC, whatever the offsets say.
    older = dossier_body(when="2025-03-05T08:59:00+00:00")
    for body in (newer, older):
        assert (await _post(http, sim, token, body))[0] == 200
    statuses = [(r["Status"], r.get("Reden", "")) for r in await _results(http, sim, token)]
    assert statuses[0] == ("Verwerkt", "")
    assert statuses[1][0] == "Geweigerd"
    assert "ouder dan de laatst verwerkte" in statuses[1][1]


async def test_other_dossiers_are_judged_apart(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str
) -> None:
    closed = dossier_body(fase="Afgerond", code="Stopgezet")
    assert (await _post(http, sim, token, closed))[0] == 200
    assert (await _post(http, sim, token, dossier_body(dossier="2025-000999")))[0] == 200
    [other] = await _results(http, sim, token, dossier="2025-000999")
    assert other["Status"] == "Verwerkt"


async def test_refuse_result_on_demand(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str
) -> None:
    async with http.post(sim.base_url + "/_control/faults",
                         json={"endpoint": "dossiers", "kind": "refuse-result"}) as response:
        assert response.status == 201
    refused, accepted = dossier_body(), dossier_body(when="2025-03-05T09:15:00+01:00")
    assert (await _post(http, sim, token, refused))[0] == 200
    # A repeat is not a new upload: it does not consume anything, nor change the result.
    assert (await _post(http, sim, token, refused))[0] == 200
    assert (await _post(http, sim, token, accepted))[0] == 200

    first, second = await _results(http, sim, token)
    assert (first["Status"], first["Reden"]) == ("Geweigerd", "op verzoek van de test")
    assert second["Status"] == "Verwerkt"
    control = await _control(http, sim)
    assert [(c["result"], c["reason"]) for c in control] == [
        ("Geweigerd", "op verzoek van de test"), ("Verwerkt", None)]


async def test_result_shows_after_the_processing_delay(
    http: aiohttp.ClientSession, start: StartSimulator, client_pair: KeyPair
) -> None:
    sim: DosisSimulator = await start(process_delay_ms=150)
    token = await get_token(http, sim, client_pair.key)
    body = dossier_body()
    assert (await _post(http, sim, token, body))[0] == 200
    _, pending = await _get(http, sim, token, PER_UPLOAD, uploadId=body["UploadId"])
    assert pending["Status"] == "InVerwerking"
    await asyncio.sleep(0.2)
    _, done = await _get(http, sim, token, PER_UPLOAD, uploadId=body["UploadId"])
    assert done["Status"] == "Verwerkt"


async def test_read_back_errors(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str
) -> None:
    status, body = await _get(http, sim, token, PER_UPLOAD, uploadId=str(uuid.uuid4()))
    assert (status, body["code"]) == (404, "NIET_GEVONDEN")
    status, body = await _get(http, sim, token, PER_UPLOAD)
    assert [e["field"] for e in body["errors"]] == ["uploadId"]
    status, body = await _get(http, sim, token, RESULTS, bron=BRON)
    assert (status, [e["field"] for e in body["errors"]]) == (400, ["dossierNummer"])
    assert await _results(http, sim, token, dossier="unknown") == []


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic bG9rZXQ6aHVi"],
                         ids=["missing", "unknown", "not-bearer"])
async def test_no_valid_token_is_401(
    http: aiohttp.ClientSession, sim: DosisSimulator, header: str | None
) -> None:
    headers = {} if header is None else {"Authorization": header}
    for method, path in (("POST", DOSSIERS), ("GET", RESULTS), ("GET", PER_UPLOAD)):
        async with http.request(method, sim.base_url + path, json=dossier_body(),
                                headers=headers) as response:
            assert response.status == 401
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            body = await response.json()
            assert body["code"] == "NIET_GEAUTHENTICEERD"
            assert body["errors"] == []


async def test_expired_token_is_401(
    http: aiohttp.ClientSession, start: StartSimulator, client_pair: KeyPair
) -> None:
    sim: DosisSimulator = await start(token_ttl_s=0)
    token = await get_token(http, sim, client_pair.key)
    status, body = await _post(http, sim, token, dossier_body())
    assert (status, body["description"]) == (401, "token verlopen")


async def test_token_without_the_scope_is_403(
    http: aiohttp.ClientSession, sim: DosisSimulator, client_pair: KeyPair
) -> None:
    token = await get_token(http, sim, client_pair.key, scope="Notificaties")
    async with http.post(sim.base_url + DOSSIERS, json=dossier_body(),
                         headers=bearer(token)) as response:
        assert response.status == 403
        assert 'scope="DosisImport"' in response.headers["WWW-Authenticate"]
        assert (await response.json())["code"] == "NIET_GEAUTORISEERD"
    status, _ = await _get(http, sim, token, RESULTS, bron=BRON, dossierNummer="1")
    assert status == 403
