"""The control API: faults, down/up, reset, health; and the command line."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hub.devpki import KeyPair
from simulators.dosis import DEFAULT_PHASES, DosisSimulator
from simulators.dosis.__main__ import _settings
from tests.simulators.dosis.factories import (
    BRON,
    bearer,
    dossier_body,
    make_assertion,
    notification_body,
    token_form,
)

DOSSIERS = "/api/v2/dosis/dossiers"


async def _control(
    http: aiohttp.ClientSession, sim: DosisSimulator, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    async with http.request(method, sim.base_url + "/_control/" + path, json=body) as response:
        return response.status, await response.json()


async def _upload(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str, body: dict[str, Any]
) -> aiohttp.ClientResponse:
    async with http.post(sim.base_url + DOSSIERS, json=body, headers=bearer(token)) as response:
        await response.read()
        return response


async def test_http_faults_are_consumed_in_order_and_record_nothing(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str
) -> None:
    rules = [{"endpoint": "dossiers", "kind": "http-503", "times": 2},
             {"endpoint": "dossiers", "kind": "http-500"}]
    status, body = await _control(http, sim, "POST", "faults", rules)
    assert status == 201
    assert [rule["kind"] for rule in body["pending"]] == ["http-503", "http-500"]
    upload = dossier_body()
    statuses = [(await _upload(http, sim, token, upload)).status for _ in range(4)]
    assert statuses == [503, 503, 500, 200]
    [record] = (await _control(http, sim, "GET", "dossiers"))[1]
    assert record["upload_id"] == upload["UploadId"]
    assert (await _control(http, sim, "GET", "faults"))[1] == {"pending": []}


async def test_faults_only_hit_their_endpoint(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str
) -> None:
    await _control(http, sim, "POST", "faults", {"endpoint": "notificaties", "kind": "http-503"})
    assert (await _upload(http, sim, token, dossier_body())).status == 200
    async with http.post(sim.base_url + "/api/v2/notificaties", json=notification_body(),
                         headers=bearer(token)) as response:
        assert response.status == 503
        assert (await response.json())["code"] == "NIET_BESCHIKBAAR"


async def test_token_fault_uses_the_oauth_error_body(
    http: aiohttp.ClientSession, sim: DosisSimulator, client_pair: KeyPair
) -> None:
    await _control(http, sim, "POST", "faults", {"endpoint": "token", "kind": "http-500"})
    form = token_form(make_assertion(client_pair.key, sim.token_url))
    async with http.post(sim.token_url, data=form) as response:
        assert response.status == 500
        assert (await response.json())["error"] == "server_error"
    # The refused call never looked at the assertion, so its jti is still fresh.
    async with http.post(sim.token_url, data=form) as response:
        assert response.status == 200


async def test_timeout_records_the_upload_and_a_retry_is_not_recorded_again(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str
) -> None:
    await _control(http, sim, "POST", "faults",
                   {"endpoint": "dossiers", "kind": "timeout", "delay_ms": 10_000})
    upload = dossier_body()
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        async with http.post(sim.base_url + DOSSIERS, json=upload, headers=bearer(token),
                             timeout=aiohttp.ClientTimeout(total=0.2)):
            pass
    assert time.monotonic() - started < 1
    assert (await _upload(http, sim, token, upload)).status == 200
    [record] = (await _control(http, sim, "GET", "dossiers"))[1]
    assert record["upload_id"] == upload["UploadId"]


async def test_timeout_with_a_short_delay_still_answers(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str
) -> None:
    await _control(http, sim, "POST", "faults",
                   {"endpoint": "resultaten", "kind": "timeout", "delay_ms": 0})
    async with http.get(sim.base_url + "/api/v1/dosis/resultaten/perUploadId",
                        headers=bearer(token), params={"uploadId": BRON}) as response:
        assert response.status == 404  # answered, late by 0 ms: nothing known


@pytest.mark.parametrize(
    "rule",
    [
        {"endpoint": "token", "kind": "refuse-result"},
        {"endpoint": "dossiers", "kind": "http-418"},
        {"endpoint": "elders", "kind": "http-503"},
        {"endpoint": "dossiers", "kind": "http-503", "times": 0},
        {"endpoint": "dossiers", "kind": "timeout", "delay_ms": -1},
        {"endpoint": "dossiers", "kind": "http-503", "extra": 1},
        {"kind": "http-503"},
        "http-503",
    ],
)
async def test_bad_fault_rules_are_refused(
    http: aiohttp.ClientSession, sim: DosisSimulator, rule: Any
) -> None:
    status, body = await _control(http, sim, "POST", "faults", rule)
    assert status == 400
    assert body["error"]
    assert (await _control(http, sim, "GET", "faults"))[1] == {"pending": []}


async def test_down_answers_503_everywhere_until_up(
    http: aiohttp.ClientSession, sim: DosisSimulator, client_pair: KeyPair, token: str
) -> None:
    assert await _control(http, sim, "POST", "down", {"seconds": 30}) == (
        200, {"down": True, "seconds": 30})
    response = await _upload(http, sim, token, dossier_body())
    assert response.status == 503
    assert 0 < int(response.headers["Retry-After"]) <= 30
    form = token_form(make_assertion(client_pair.key, sim.token_url))
    async with http.post(sim.token_url, data=form) as answer:
        assert answer.status == 503
        assert (await answer.json())["error"] == "temporarily_unavailable"
    health = (await _control(http, sim, "GET", "health"))[1]
    assert health == {"status": "ok", "down": True, "clients": ["loket-hub"]}
    assert (await _control(http, sim, "GET", "dossiers"))[1] == []

    assert await _control(http, sim, "POST", "up") == (200, {"down": False})
    assert (await _upload(http, sim, token, dossier_body())).status == 200


async def test_down_window_ends_by_itself(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str
) -> None:
    await _control(http, sim, "POST", "down", {"seconds": 30})
    # Move the window's end into the past rather than sleeping through it.
    sim.state.down_until = time.monotonic() - 0.001
    assert (await _upload(http, sim, token, dossier_body())).status == 200


@pytest.mark.parametrize("body", [{}, {"seconds": 0}, {"seconds": "5"}, {"seconds": True}])
async def test_bad_down_requests(
    http: aiohttp.ClientSession, sim: DosisSimulator, body: Any
) -> None:
    assert (await _control(http, sim, "POST", "down", body))[0] == 400


async def test_reset_forgets_everything(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str
) -> None:
    assert (await _upload(http, sim, token, dossier_body())).status == 200
    await _control(http, sim, "POST", "faults", {"endpoint": "token", "kind": "http-503"})
    await _control(http, sim, "POST", "down", {"seconds": 30})
    status, body = await _control(http, sim, "DELETE", "state")
    assert (status, body) == (200, {"cleared": {"uploads": 1, "notifications": 0, "tokens": 1,
                                                "faults": 1, "token_requests": 1}})
    assert (await _control(http, sim, "GET", "dossiers"))[1] == []
    assert (await _control(http, sim, "GET", "token-requests"))[1] == []
    assert (await _upload(http, sim, token, dossier_body())).status == 401


async def test_forgetting_tokens_makes_the_next_call_401(
    http: aiohttp.ClientSession, sim: DosisSimulator, token: str
) -> None:
    assert await _control(http, sim, "DELETE", "tokens") == (200, {"cleared": 1})
    assert (await _upload(http, sim, token, dossier_body())).status == 401


def test_command_line(tmp_path: Path) -> None:
    phases = tmp_path / "phases.json"
    phases.write_text('{"Behandeling": ["InBehandeling"], "Afgerond": ["Goedgekeurd"]}')
    settings = _settings(["--port", "0", "--client", "loket-hub=var/dev-pki/dosis-client.crt",
                          "--process-delay-ms", "50", "--phases", str(phases)])
    assert settings.clients == {"loket-hub": Path("var/dev-pki/dosis-client.crt")}
    assert settings.phases == {"Behandeling": ("InBehandeling",), "Afgerond": ("Goedgekeurd",)}
    assert (settings.port, settings.process_delay_ms, settings.token_ttl_s) == (0, 50, 300)
    assert _settings([]).phases == DEFAULT_PHASES
    with pytest.raises(SystemExit):
        _settings(["--client", "no-equals-sign"])
