"""The token endpoint: client credentials with a JWT client assertion."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import jwt
import pytest

from hub.devpki import KeyPair
from simulators.dosis import DosisSimulator
from tests.simulators.dosis.factories import (
    CLIENT_ID,
    bearer,
    dossier_body,
    make_assertion,
    token_form,
)


async def _request(
    http: aiohttp.ClientSession, sim: DosisSimulator, form: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    async with http.post(sim.token_url, data=form) as response:
        return response.status, await response.json()


async def test_token_is_issued_for_a_valid_assertion(
    http: aiohttp.ClientSession, sim: DosisSimulator, client_pair: KeyPair
) -> None:
    form = token_form(make_assertion(client_pair.key, sim.token_url), "DosisImport")
    async with http.post(sim.token_url, data=form) as response:
        assert response.status == 200
        assert response.headers["Cache-Control"] == "no-store"
        body = await response.json()
    assert body["token_type"] == "bearer"  # as the public client's tests show [F09]
    assert body["expires_in"] == 300
    assert len(body["access_token"]) >= 32
    async with http.post(sim.base_url + "/api/v2/dosis/dossiers", json=dossier_body(),
                         headers=bearer(body["access_token"])) as response:
        assert response.status == 200


@pytest.mark.parametrize(
    ("claims", "description"),
    [
        ({"client_id": "someone-else"}, "onbekende client"),
        ({"sub": "someone-else"}, "sub moet gelijk zijn aan iss"),
        ({"aud": "https://dosis.example/op/v1/token"}, "aud moet"),
        ({"exp": int(time.time()) - 60}, "verlopen"),
        ({"exp": int(time.time()) + 3600}, "in de toekomst"),
        ({"jti": None}, "jti"),
        ({"kid": None}, "kid"),
    ],
    ids=["unknown-client", "sub-not-iss", "wrong-aud", "expired", "exp-too-far", "no-jti",
         "no-kid"],
)
async def test_bad_assertions_are_invalid_client(
    http: aiohttp.ClientSession,
    sim: DosisSimulator,
    client_pair: KeyPair,
    claims: dict[str, Any],
    description: str,
) -> None:
    form = token_form(make_assertion(client_pair.key, sim.token_url, **claims))
    status, body = await _request(http, sim, form)
    assert status == 400
    assert body["error"] == "invalid_client"
    assert description in body["error_description"]


async def test_assertion_signed_with_another_key_is_refused(
    http: aiohttp.ClientSession, sim: DosisSimulator, stranger_pair: KeyPair
) -> None:
    form = token_form(make_assertion(stranger_pair.key, sim.token_url))
    status, body = await _request(http, sim, form)
    assert (status, body["error"]) == (400, "invalid_client")
    assert "handtekening" in body["error_description"]


async def test_unsigned_assertion_is_refused(
    http: aiohttp.ClientSession, sim: DosisSimulator
) -> None:
    now = int(time.time())
    claims = {"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": sim.token_url, "exp": now + 60,
              "jti": "x"}
    form = token_form(jwt.encode(claims, "", algorithm="none"))
    status, body = await _request(http, sim, form)
    assert (status, body["error"]) == (400, "invalid_client")


async def test_replayed_jti_is_refused(
    http: aiohttp.ClientSession, sim: DosisSimulator, client_pair: KeyPair
) -> None:
    assertion = make_assertion(client_pair.key, sim.token_url)
    assert (await _request(http, sim, token_form(assertion)))[0] == 200
    status, body = await _request(http, sim, token_form(assertion))
    assert (status, body["error"]) == (400, "invalid_client")
    assert "replay" in body["error_description"]


@pytest.mark.parametrize("scope", ["", "DosisImport Beheer"], ids=["missing", "unknown"])
async def test_bad_scope_is_invalid_scope(
    http: aiohttp.ClientSession, sim: DosisSimulator, client_pair: KeyPair, scope: str
) -> None:
    form = token_form(make_assertion(client_pair.key, sim.token_url), scope)
    status, body = await _request(http, sim, form)
    assert (status, body["error"]) == (400, "invalid_scope")


async def test_refused_scope_does_not_burn_the_jti(
    http: aiohttp.ClientSession, sim: DosisSimulator, client_pair: KeyPair
) -> None:
    assertion = make_assertion(client_pair.key, sim.token_url)
    assert (await _request(http, sim, token_form(assertion, "")))[0] == 400
    assert (await _request(http, sim, token_form(assertion)))[0] == 200


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": None}, "invalid_request"),
        ({"client_assertion_type": "urn:other"}, "invalid_client"),
        ({"client_assertion": None}, "invalid_client"),
        ({"client_assertion": "not-a-jwt"}, "invalid_client"),
        ({"client_id": "other"}, "invalid_client"),
    ],
    ids=["grant-type", "no-grant-type", "assertion-type", "no-assertion", "garbage",
         "client-id-mismatch"],
)
async def test_malformed_requests(
    http: aiohttp.ClientSession,
    sim: DosisSimulator,
    client_pair: KeyPair,
    change: dict[str, str | None],
    error: str,
) -> None:
    form: dict[str, str | None] = {**token_form(make_assertion(client_pair.key, sim.token_url)),
                                   **change}
    status, body = await _request(http, sim, {k: v for k, v in form.items() if v is not None})
    assert (status, body["error"]) == (400, error)


async def test_json_token_request_is_invalid_request(
    http: aiohttp.ClientSession, sim: DosisSimulator, client_pair: KeyPair
) -> None:
    form = token_form(make_assertion(client_pair.key, sim.token_url))
    async with http.post(sim.token_url, json=form) as response:
        assert response.status == 400
        assert (await response.json())["error"] == "invalid_request"
