"""Reply signatures as MAGDA makes them, checked by the hub on every back end.

Real SOAP over HTTP between the hub's adapters and the MAGDA simulator, which signs its replies
as the gateway does: over the Body, and for an MTOM reply over the XOP-decoded Body (the
document inline as base64, then moved to its MIME part). The settings go through the hub's own
configuration (``backends.<name>.reply_signature``), with ``verify`` on every back end unless a
test says otherwise.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from structlog.testing import capture_logs

from adapters.civil_status import CivilStatusAdapter
from adapters.criminal_record import CriminalRecordAdapter
from adapters.criminal_record.adapter import SIGNATURE_REFUSALS
from adapters.magda.wssecurity import ReplySignatureInvalid
from adapters.population import PopulationAdapter
from hub.config import Settings, load_settings, load_tenants
from hub.contract_decoding import decode_job
from hub.devpki import KeyPair, generate_self_signed
from hub.ports import AdapterAnswer, CallContext, Continuation
from hub.store import OutcomeStore, open_store
from hub.testing import job_body
from simulators.magda import MagdaSimulator, MagdaSimulatorSettings, start_magda_simulator
from simulators.population_data import WELL_KNOWN

TENANTS = load_tenants(Path(__file__).resolve().parents[2] / "mappings/tenants")
EXTRACT = "GeefUittrekselStrafregister"
REFUSED = "magda.reply.signature_refused"
LOGGED = "magda.reply.signature_invalid"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    """MAGDA's reply-signing pair for these tests (not the development default)."""
    return generate_self_signed(tmp_path_factory.mktemp("gateway"), "gateway",
                                "MAGDA gateway reply signing (conformance)")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[OutcomeStore]:
    opened = await open_store(f"sqlite:///{tmp_path}/audit.db")
    yield opened
    await opened.close()


async def _simulator(pki: dict[str, KeyPair], signing: KeyPair | None) -> MagdaSimulator:
    return await start_magda_simulator(MagdaSimulatorSettings(
        port=0, trusted_certs=(pki["magda-client"].cert,), reply_signing=signing,
        # An extract is ready on its first status query: one poll, then the fetch.
        strafregister_ready_after_polls=0,
    ))


@pytest.fixture
async def signing_sim(pki: dict[str, KeyPair], gateway: KeyPair
                      ) -> AsyncIterator[MagdaSimulator]:
    simulator = await _simulator(pki, gateway)
    yield simulator
    await simulator.close()


def _settings(sim: MagdaSimulator, pki: dict[str, KeyPair], gateway: KeyPair,
              magda: dict[str, Any] | None = None, **backends: dict[str, Any]) -> Settings:
    """The hub's settings as a TOML file would give them: ``[magda]`` and ``[backends.*]``."""
    return load_settings(environ={}, overrides={
        "magda": {
            "base_url": sim.base_url,
            "signing_key": str(pki["magda-client"].key),
            "signing_cert": str(pki["magda-client"].cert),
            "reply_signing_cert": str(gateway.cert),
            **(magda or {}),
        },
        "backends": {name.replace("_", "-"): values for name, values in backends.items()},
    })


class Hub:
    """The three MAGDA back ends, built from the settings as the hub builds them."""

    def __init__(self, settings: Settings) -> None:
        self.population = PopulationAdapter(
            settings.magda, settings.backend("population"), TENANTS)
        self.civil_status = CivilStatusAdapter(
            settings.magda, settings.backend("civil-status"), TENANTS)
        self.criminal_record = CriminalRecordAdapter(
            settings.magda, settings.backend("criminal-record"), TENANTS)
        self.adapters = (self.population, self.civil_status, self.criminal_record)

    async def __aenter__(self) -> Hub:
        for adapter in self.adapters:
            assert adapter.check_config() == []
            await adapter.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        for adapter in self.adapters:
            await adapter.close()


def _context(job_type: str, parameters: dict[str, Any], store: OutcomeStore,
             journal: dict[str, Any] | None = None, job_id: str = "") -> CallContext:
    insz = WELL_KNOWN["single"]
    body = job_body(job_type, insz, parameters, job_id=job_id or None)
    job = decode_job(json.dumps(body).encode(), body["job_id"])
    return CallContext(job=job, tenant=TENANTS["gent"], attempt=1, audit=store,
                       journal=journal or {})


async def _population(hub: Hub, store: OutcomeStore) -> AdapterAnswer:
    # Proof of life: RegistreerInschrijving (the repertorium) and GeefPersoon, two signed replies.
    answer = await hub.population.handle(
        _context("population.attest", {"attest": "proof-of-life"}, store))
    assert answer.certificate is not None
    return answer


async def _civil_status(hub: Hub, store: OutcomeStore) -> AdapterAnswer:
    return await hub.civil_status.handle(_context("civil-status.act", {"act": "birth"}, store))


async def _request_extract(hub: Hub, store: OutcomeStore) -> tuple[str, Continuation]:
    context = _context("criminal-record.extract", {"model": "595"}, store)
    waiting = await hub.criminal_record.handle(context)
    assert isinstance(waiting, Continuation)
    return context.job.job_id, waiting


async def _step(hub: Hub, store: OutcomeStore, job_id: str, waiting: Continuation,
                before: Any = None) -> AdapterAnswer | Continuation:
    """One later step of the criminal record: the status (ready on the first query), then the
    fetch by Identificatienummer, which answers MTOM. ``before`` runs first."""
    context = _context("criminal-record.extract", {"model": "595"}, store,
                       dict(waiting.journal), job_id=job_id)
    if before is not None:
        await before()
    return await hub.criminal_record.handle(context)


async def _poll_and_fetch(hub: Hub, store: OutcomeStore, job_id: str, waiting: Continuation,
                          before_fetch: Any = None) -> AdapterAnswer:
    answer = await _step(hub, store, job_id, waiting, before_fetch)
    assert isinstance(answer, AdapterAnswer), answer
    return answer


async def _fault(sim: MagdaSimulator, **rule: Any) -> None:
    async with aiohttp.ClientSession() as http:
        reply = await http.post(f"{sim.base_url}/_control/faults", json=rule)
        assert reply.status == 201, await reply.text()


async def _calls(sim: MagdaSimulator, service: str) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as http:
        reply = await http.get(f"{sim.base_url}/_control/calls")
        return [c for c in await reply.json() if c["service"] == service]


async def test_verify_on_every_back_end_delivers_each_kind(
    signing_sim: MagdaSimulator, pki: dict[str, KeyPair], gateway: KeyPair, store: OutcomeStore
) -> None:
    """A population certificate, a DABS act (inline PDF) and a criminal-record extract (MTOM)."""
    settings = _settings(signing_sim, pki, gateway)
    for name in ("population", "civil-status", "criminal-record"):
        assert settings.backend(name).reply_policy(settings.magda)[0] == "verify"
    async with Hub(settings) as hub:
        with capture_logs() as logs:
            await _population(hub, store)
            act = await _civil_status(hub, store)
            job_id, waiting = await _request_extract(hub, store)
            extract = await _poll_and_fetch(hub, store, job_id, waiting)
    assert act.backend_document is not None
    assert act.backend_document.content.startswith(b"%PDF-")
    assert extract.backend_document is not None
    assert extract.backend_document.content.startswith(b"%PDF-")
    assert extract.backend_reference == waiting.journal["number"]
    assert not [e for e in logs if e["event"] in (REFUSED, LOGGED)]


FAULTS = ["tampered-reply-attachment", "tampered-reply-signature", "unsigned-reply"]


async def _extracts_at_source(sim: MagdaSimulator) -> int:
    async with aiohttp.ClientSession() as http:
        reply = await http.get(f"{sim.base_url}/_control/strafregister")
        return len((await reply.json())["extracts"])


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_spoilt_mtom_extract_is_refused_under_verify_and_fetched_again(
    signing_sim: MagdaSimulator, pki: dict[str, KeyPair], gateway: KeyPair, store: OutcomeStore,
    fault: str,
) -> None:
    """The refused fetch is not delivered; the job waits and fetches by number again (the
    retry of a later step), and gets the genuine extract. It never requests a second one."""
    async with Hub(_settings(signing_sim, pki, gateway)) as hub:
        job_id, waiting = await _request_extract(hub, store)

        async def spoil() -> None:
            await _fault(signing_sim, kind=fault, service=EXTRACT)

        with capture_logs() as logs:
            again = await _step(hub, store, job_id, waiting, spoil)
        assert isinstance(again, Continuation)
        assert again.journal["number"] == waiting.journal["number"]
        assert again.journal["signature_refusals"] == 1
        assert [e["event"] for e in logs if e["event"] in (REFUSED, LOGGED)] == [REFUSED]
        extract = await _poll_and_fetch(hub, store, job_id, again)
    assert extract.backend_document is not None
    assert extract.backend_document.content.startswith(b"%PDF-")
    outcomes = [c["outcome"] for c in await _calls(signing_sim, EXTRACT)]
    assert len(outcomes) == 3 and outcomes[1] == f"fault:{fault}"  # request, fetch, fetch
    assert await _extracts_at_source(signing_sim) == 1


async def test_a_persistently_spoilt_extract_is_rejected_with_its_number(
    signing_sim: MagdaSimulator, pki: dict[str, KeyPair], gateway: KeyPair, store: OutcomeStore,
) -> None:
    async with Hub(_settings(signing_sim, pki, gateway)) as hub:
        job_id, waiting = await _request_extract(hub, store)
        await _fault(signing_sim, kind="tampered-reply-attachment", service=EXTRACT,
                     times=SIGNATURE_REFUSALS)
        step: AdapterAnswer | Continuation = waiting
        with pytest.raises(ReplySignatureInvalid) as refused:
            for _ in range(SIGNATURE_REFUSALS):
                assert isinstance(step, Continuation)
                step = await _step(hub, store, job_id, step)
    assert not refused.value.retryable
    assert refused.value.code == "BACKEND_REPLY_SIGNATURE_INVALID"
    assert refused.value.details["service"] == EXTRACT
    assert refused.value.details["number"] == waiting.journal["number"]
    assert refused.value.details["magda_reference"]
    assert len(await _calls(signing_sim, EXTRACT)) == 1 + SIGNATURE_REFUSALS
    assert await _extracts_at_source(signing_sim) == 1


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_spoilt_mtom_extract_is_only_logged_under_log_only(
    signing_sim: MagdaSimulator, pki: dict[str, KeyPair], gateway: KeyPair, store: OutcomeStore,
    fault: str,
) -> None:
    settings = _settings(signing_sim, pki, gateway,
                         criminal_record={"reply_signature": "log-only"})
    async with Hub(settings) as hub:
        job_id, waiting = await _request_extract(hub, store)
        clean = await _poll_and_fetch(hub, store, job_id, waiting)

        async def spoil() -> None:
            await _fault(signing_sim, kind=fault, service=EXTRACT)

        with capture_logs() as logs:
            spoilt = await _poll_and_fetch(hub, store, job_id, waiting, before_fetch=spoil)
    assert [e["event"] for e in logs if e["event"] in (REFUSED, LOGGED)] == [LOGGED]
    assert clean.backend_document is not None and spoilt.backend_document is not None
    changed = clean.backend_document.content != spoilt.backend_document.content
    assert changed == (fault == "tampered-reply-attachment")


@pytest.mark.parametrize("fault", ["tampered-reply-signature", "unsigned-reply"])
async def test_a_spoilt_body_is_refused_on_each_back_end(
    signing_sim: MagdaSimulator, pki: dict[str, KeyPair], gateway: KeyPair, store: OutcomeStore,
    fault: str,
) -> None:
    async with Hub(_settings(signing_sim, pki, gateway)) as hub:
        for service, ask in (("GeefPersoon", _population),
                             ("GeefAkteBurgerlijkeStand", _civil_status),
                             (EXTRACT, _request_extract)):
            await _fault(signing_sim, kind=fault, service=service)
            with pytest.raises(ReplySignatureInvalid) as refused:
                await ask(hub, store)
            assert refused.value.details["service"] == service


async def test_each_back_end_has_its_own_policy(
    pki: dict[str, KeyPair], gateway: KeyPair, store: OutcomeStore
) -> None:
    """Unsigned replies everywhere: the population register is ``off``, the civil status
    inherits the global ``log-only``, the criminal record ``verify`` refuses, and its one
    request is not repeated."""
    unsigned = await _simulator(pki, None)
    try:
        settings = _settings(unsigned, pki, gateway, {"reply_signature": "log-only"},
                             population={"reply_signature": "off"},
                             criminal_record={"reply_signature": "verify"})
        async with Hub(settings) as hub:
            with capture_logs() as logs:
                await _population(hub, store)
                assert not [e for e in logs if e["event"] in (REFUSED, LOGGED)]
                await _civil_status(hub, store)
                logged = [e for e in logs if e["event"] == LOGGED]
                assert {e["service"] for e in logged} == {
                    "ZoekAktenBurgerlijkeStand", "GeefAkteBurgerlijkeStand"}
                with pytest.raises(ReplySignatureInvalid, match="no signature") as refused:
                    await _request_extract(hub, store)
        # Permanent at once: the source has the request; the reference sent finds it there.
        assert refused.value.details["requested_with_reference"]
        assert len(await _calls(unsigned, EXTRACT)) == 1
        assert await _extracts_at_source(unsigned) == 1
    finally:
        await unsigned.close()


async def test_a_trust_store_per_back_end(
    signing_sim: MagdaSimulator, pki: dict[str, KeyPair], gateway: KeyPair, store: OutcomeStore,
    tmp_path: Path,
) -> None:
    """The criminal record trusts another certificate than the gateway's: its replies are
    refused, the population register's (global trust store) accepted. A file with several
    certificates trusts each (a certificate rollover)."""
    other = generate_self_signed(tmp_path, "other", "another signer")
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(other.cert.read_bytes() + gateway.cert.read_bytes())
    settings = _settings(signing_sim, pki, gateway,
                         criminal_record={"reply_signing_cert": str(other.cert)},
                         civil_status={"reply_signing_cert": str(bundle)})
    async with Hub(settings) as hub:
        await _population(hub, store)
        await _civil_status(hub, store)
        with pytest.raises(ReplySignatureInvalid, match="does not match"):
            await _request_extract(hub, store)

