"""The status pusher against the DOSIS simulator rebuilt from ``dosis.md``: what it sends is what
the public client sends, every refusal path ends honestly (never "pushed" unless DOSIS accepted
it), and the read-back settles every upload. Real HTTP, real OAuth2, a real store; no broker."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
from prometheus_client import generate_latest

from hub.breaker import BackendGate, BreakerState, CircuitBreaker
from hub.config import REPO_ROOT, StatusSettings, TenantSettings, load_tenants
from hub.devpki import KeyPair
from hub.metrics import HubMetrics
from hub.status import pusher as pusher_module
from hub.status.dosis import DosisClient
from hub.status.mapping import load_status_table, upload_id_for
from hub.status.pusher import StatusPusher
from hub.store import OutcomeStore, open_store
from simulators.dosis import DosisSimulator, DosisSimulatorSettings, start_dosis_simulator

TENANTS: dict[str, TenantSettings] = load_tenants(REPO_ROOT / "mappings/tenants")


def event(status: str = "delivered", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": str(uuid.uuid4()), "job_id": f"job-{uuid.uuid4()}",
        "type": "population.attest", "kind": "household-composition", "tenant": "gent",
        "dossier_id": "DOS-REF-1", "product_id": 1473,
        "applicant": {"capacity": "person", "identifier": "85073003328", "authenticated": True},
        "approved": False, "status": status, "error_code": None, "note": None,
        "at": "2026-07-24T10:00:00.123+00:00",
    }
    body.update(changes)
    return body


class Rig:
    """A simulator, a DOSIS client, a store and a pusher wired together."""

    def __init__(self, sim: DosisSimulator, pusher: StatusPusher, store: OutcomeStore,
                 metrics: HubMetrics) -> None:
        self.sim, self.pusher, self.store, self.metrics = sim, pusher, store, metrics

    async def uploads(self) -> list[dict[str, Any]]:
        async with aiohttp.ClientSession() as http, \
                http.get(self.sim.base_url + "/_control/dossiers") as reply:
            found: list[dict[str, Any]] = await reply.json()
            return found

    async def control(self, path: str, body: Any) -> None:
        async with aiohttp.ClientSession() as http, \
                http.post(f"{self.sim.base_url}/_control/{path}", json=body) as reply:
            assert reply.status < 300, await reply.text()

    def metric(self, name: str) -> str:
        text = generate_latest(self.metrics.registry).decode()
        return "\n".join(line for line in text.splitlines() if line.startswith(name))


@pytest.fixture
def rig_factory(pki: dict[str, KeyPair], tmp_path: Path) -> Callable[..., Any]:
    @asynccontextmanager
    async def make(sim_settings: dict[str, Any] | None = None, gate: BackendGate | None = None,
                   **status: Any) -> AsyncIterator[Rig]:
        sim = await start_dosis_simulator(DosisSimulatorSettings(
            port=0, clients={"loket-hub": pki["dosis-client"].cert}, **(sim_settings or {})))
        settings = StatusSettings(**{
            "enabled": True, "dosis_url": sim.base_url, "token_url": sim.token_url,
            "client_key": pki["dosis-client"].key, "backoff_initial_s": 0.01,
            "backoff_max_s": 0.05, "max_attempts": 3, **status})
        client = DosisClient(settings, gate=gate)
        await client.open()
        store = await open_store(f"sqlite:///{tmp_path}/{uuid.uuid4().hex}.db")
        metrics = HubMetrics()
        pusher = StatusPusher(settings, client=client, store=store, tenants=TENANTS,
                              table=load_status_table(), metrics=metrics)
        try:
            yield Rig(sim, pusher, store, metrics)
        finally:
            await client.close()
            await store.close()
            await sim.close()

    return make


async def test_an_accepted_upload_is_what_the_public_client_sends(
    rig_factory: Callable[..., Any]
) -> None:
    async with rig_factory() as rig:
        status = event()
        outcome = await rig.pusher.handle(json.dumps(status).encode())
        [upload] = await rig.uploads()
        [push] = await rig.store.pushes()
    assert outcome.pushed
    assert upload["upload_id"] == push.upload_id == upload_id_for(status["event_id"])
    body = upload["payload"]
    assert body["WijzigingsDatum"] == "2026-07-24T12:00:00.123"
    assert body["Producten"] == [{"Id": "1473"}]
    assert body["Doorverwijzing"] == "https://eloket.stad.gent/nl/mijnloket/aanvraag/DOS-REF-1"
    assert body["DossierBeheerder"]["Adres"]["Gemeente"] == "Gent"
    assert body["Naam"] == "Attest van gezinssamenstelling"


async def test_the_token_request_is_the_public_clients(
    rig_factory: Callable[..., Any]
) -> None:
    async with rig_factory() as rig:
        assert (await rig.pusher.handle(json.dumps(event()).encode())).pushed
        async with aiohttp.ClientSession() as http, \
                http.get(rig.sim.base_url + "/_control/token-requests") as reply:
            seen = await reply.json()
    [form] = seen
    assert set(form) == {"grant_type", "scope", "client_assertion_type", "client_assertion"}
    assert form["scope"] == "DosisImport"
    header = jwt.get_unverified_header(form["client_assertion"])
    assert set(header) == {"alg", "kid"} and header["alg"] == "RS256"
    claims = jwt.decode(form["client_assertion"], options={"verify_signature": False})
    assert claims["iss"] == claims["sub"] == "loket-hub"
    assert claims["exp"] - claims["iat"] == 120


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda p: p["Producten"][0].update(Id=1473), "Producten[0].Id"),
    (lambda p: p.update(WijzigingsDatum="2026-07-24T10:00:00+00:00"), "WijzigingsDatum"),
    (lambda p: p.pop("Naam"), "Naam"),
    (lambda p: p.update(Doorverwijzing={"Url": "https://stad.gent"}), "Doorverwijzing"),
], ids=["type", "offset", "missing-field", "doorverwijzing-object"])
async def test_a_refused_upload_is_dead_lettered_with_dosiss_reasons(
    rig_factory: Callable[..., Any], monkeypatch: pytest.MonkeyPatch,
    mutate: Callable[[dict[str, Any]], Any], field: str,
) -> None:
    real = pusher_module.dossier_payload

    def broken(*args: Any, **kwargs: Any) -> dict[str, Any]:
        payload = real(*args, **kwargs)
        mutate(payload)
        return payload

    monkeypatch.setattr(pusher_module, "dossier_payload", broken)
    async with rig_factory() as rig:
        outcome = await rig.pusher.handle(json.dumps(event()).encode())
        assert await rig.uploads() == [] and await rig.store.pushes() == []
        assert 'result="status-refused"' in rig.metric("loket_status_pushes_total")
    assert not outcome.pushed and outcome.reason == "status-refused"
    assert outcome.error is not None and outcome.error.code == "STATUS_PAYLOAD_REFUSED"
    fields = [e["field"] for e in outcome.error.details["body"]["errors"]]
    assert field in fields


async def test_404_on_the_upload_path_is_never_taken_as_pushed(
    rig_factory: Callable[..., Any]
) -> None:
    # DOSIS serving the API page's path only, the hub on the public client's path.
    async with rig_factory({"upload_paths": ("/api/v2/dosis/dossiers",)}) as rig:
        outcome = await rig.pusher.handle(json.dumps(event()).encode())
        assert await rig.store.pushes() == []
    assert not outcome.pushed and outcome.reason == "status-undeliverable"
    assert outcome.error is not None and outcome.error.code == "STATUS_ENDPOINT_NOT_FOUND"
    assert outcome.error.details["path"] == "/api/v2/dossiers"


async def test_the_path_is_a_setting(rig_factory: Callable[..., Any]) -> None:
    async with rig_factory({"upload_paths": ("/api/v2/dosis/dossiers",)},
                           upload_path="/api/v2/dosis/dossiers") as rig:
        assert (await rig.pusher.handle(json.dumps(event()).encode())).pushed


@pytest.mark.parametrize("kind", ["http-404", "empty-200", "http-503"])
async def test_a_passing_bad_answer_is_retried_not_taken_as_accepted(
    rig_factory: Callable[..., Any], kind: str
) -> None:
    async with rig_factory() as rig:
        await rig.control("faults", {"endpoint": "dossiers", "kind": kind, "times": 1})
        outcome = await rig.pusher.handle(json.dumps(event()).encode())
        assert len(await rig.uploads()) == 1
        assert len(await rig.store.pushes()) == 1
    assert outcome.pushed


async def test_an_answer_that_stays_bad_is_dead_lettered_with_its_reason(
    rig_factory: Callable[..., Any]
) -> None:
    async with rig_factory() as rig:
        await rig.control("faults", {"endpoint": "dossiers", "kind": "empty-200", "times": 5})
        outcome = await rig.pusher.handle(json.dumps(event()).encode())
        assert await rig.store.pushes() == []
    assert not outcome.pushed and outcome.reason == "status-undeliverable"
    assert outcome.error is not None and outcome.error.code == "STATUS_ANSWER_UNEXPECTED"


async def test_the_identification_spelling_the_service_wants(
    rig_factory: Callable[..., Any]
) -> None:
    async with rig_factory({"identification_keys": "annotated"}) as rig:
        refused = await rig.pusher.handle(json.dumps(event()).encode())
    async with rig_factory({"identification_keys": "annotated"},
                           identification_keys="annotated") as rig:
        accepted = await rig.pusher.handle(json.dumps(event()).encode())
    assert refused.reason == "status-refused" and accepted.pushed


async def test_the_read_back_settles_every_upload(
    rig_factory: Callable[..., Any]
) -> None:
    async with rig_factory({"process_delay_ms": 400}) as rig:
        await rig.control("faults", {"endpoint": "dossiers", "kind": "refuse-result"})
        refused, fine = event("received"), event("delivered")
        for status in (refused, fine):
            assert (await rig.pusher.handle(json.dumps(status).encode())).pushed
        assert await rig.pusher.reconcile_once() == 0  # 404: not processed yet
        assert len(await rig.store.pending_pushes()) == 2
        await asyncio.sleep(0.5)
        assert await rig.pusher.reconcile_once() == 2
        assert await rig.store.pending_pushes() == []
        [bad] = await rig.store.pushes(result="refused")
        [good] = await rig.store.pushes(result="accepted")
        readback = rig.metric("loket_status_readback_total")
    assert bad.upload_id == upload_id_for(refused["event_id"]) and bad.status == "received"
    assert bad.reason and "Geweigerd op verzoek van de test" in bad.reason
    assert good.upload_id == upload_id_for(fine["event_id"]) and good.reason is None
    assert 'result="refused"} 1.0' in readback and 'result="accepted"} 1.0' in readback


async def test_a_redelivered_status_is_pushed_once_a_repeated_one_again(
    rig_factory: Callable[..., Any]
) -> None:
    async with rig_factory() as rig:
        first = event("backoffice-information-needed", type="backoffice.forward",
                      kind="contact-details")
        again = {**first, "event_id": str(uuid.uuid4())}  # a second request for information
        for body in (first, first, again):
            assert (await rig.pusher.handle(json.dumps(body).encode())).pushed
        uploads = await rig.uploads()
    assert [u["upload_id"] for u in uploads] == [upload_id_for(first["event_id"]),
                                                 upload_id_for(again["event_id"])]


@pytest.mark.parametrize("changes", [
    {"type": "prefill.form", "kind": None},
    {"type": "usermgmt.self-registration-url", "kind": None},
    {"applicant": {"capacity": "person", "identifier": "85073003328", "authenticated": False}},
], ids=["prefill", "link", "not-logged-in"])
async def test_nothing_reaches_a_profile_that_should_not(
    rig_factory: Callable[..., Any], changes: dict[str, Any]
) -> None:
    async with rig_factory(notifications_enabled=True) as rig:
        for status in ("received", "delivered"):
            outcome = await rig.pusher.handle(json.dumps(event(status, **changes)).encode())
            assert outcome.pushed  # settled: acknowledged, not dead-lettered
        assert await rig.uploads() == []
        assert await rig.store.pushes() == []


async def test_notifications_only_when_configured(rig_factory: Callable[..., Any]) -> None:
    async with rig_factory() as rig:
        await rig.pusher.handle(json.dumps(event("received")).encode())
        async with aiohttp.ClientSession() as http, \
                http.get(rig.sim.base_url + "/_control/notifications") as reply:
            assert await reply.json() == []
    async with rig_factory(notifications_enabled=True,
                           scope="DosisImport") as rig:
        await rig.pusher.handle(json.dumps(event("received")).encode())
        await rig.pusher.handle(json.dumps(event("in-treatment")).encode())
        async with aiohttp.ClientSession() as http, \
                http.get(rig.sim.base_url + "/_control/notifications") as reply:
            notes = await reply.json()
    assert [n["sleutel_waarde_paren"]["StatusVlaamseCode"] for n in notes] == ["Ingediend"]


async def test_an_upload_never_processed_is_settled_as_unconfirmed(
    rig_factory: Callable[..., Any]
) -> None:
    async with rig_factory({"process_delay_ms": 60_000}, readback_give_up_s=0.2) as rig:
        assert (await rig.pusher.handle(json.dumps(event()).encode())).pushed
        assert await rig.pusher.reconcile_once() == 0
        await asyncio.sleep(0.3)
        assert await rig.pusher.reconcile_once() == 1
        [push] = await rig.store.pushes(result="unconfirmed")
        assert await rig.store.pending_pushes() == []
    assert push.reason and "did not process" in push.reason


async def test_an_open_breaker_keeps_calls_from_dosis_and_costs_no_attempt(
    rig_factory: Callable[..., Any]
) -> None:
    """DOSIS down for a second: its breaker opens after two failures and refuses at once (no
    call leaves) until a trial call is let through; the refused tries wait like failures but
    use up none of the status's attempts, so the status arrives once DOSIS is back."""
    breaker = CircuitBreaker("dosis", failure_threshold=2, reset_timeout_s=0.3)
    gate = BackendGate(breaker, concurrency=4)
    # Real calls in the window: 2, then one trial per 0.3 s (about 6). Refused tries: one
    # per 0.02 s at most (about 50): counted, they would exhaust the 10 attempts.
    async with rig_factory(gate=gate, max_attempts=10, backoff_initial_s=0.01,
                           backoff_max_s=0.02) as rig:
        await rig.control("down", {"seconds": 1.0})
        outcome = await rig.pusher.handle(json.dumps(event()).encode())
        uploads = await rig.uploads()
    assert outcome.pushed, outcome
    assert len(uploads) == 1
    assert breaker.times_opened >= 1
    assert breaker.state is BreakerState.CLOSED
    assert gate.in_flight == 0


async def test_a_status_of_an_unknown_tenant_is_not_for_any_profile(
    rig_factory: Callable[..., Any]
) -> None:
    """A job for a municipality the hub does not serve was refused; its status is settled
    (not dead-lettered, as it was with a KeyError) and never reaches DOSIS."""
    async with rig_factory() as rig:
        outcome = await rig.pusher.handle(json.dumps(event("rejected", tenant="nowhere",
                                                           error_code="UNKNOWN_TENANT")).encode())
        uploads = await rig.uploads()
        counted = rig.metric("loket_status_pushes_total")
    assert outcome.pushed and outcome.reason == "unknown-tenant"
    assert uploads == []
    assert 'loket_status_pushes_total{result="unknown-tenant"} 1.0' in counted
