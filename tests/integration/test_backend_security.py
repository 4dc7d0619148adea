"""Mutual TLS and reply signatures between the hub and the MAGDA simulator."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.magda import profile_for
from adapters.magda.wssecurity import ReplySignatureInvalid
from adapters.population import PopulationAdapter
from hub.config import BackendSettings, MagdaSettings, TenantMagdaSettings, load_settings
from hub.devpki import KeyPair, generate_self_signed, generate_server_cert
from hub.errors import BackendError, ConfigurationError
from hub.store import OutcomeStore, open_store
from simulators.magda import MagdaSimulatorSettings, TlsSettings, start_magda_simulator
from simulators.population_data import WELL_KNOWN
from tests.integration.test_population_certificates import TENANTS, _context


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[OutcomeStore]:
    opened = await open_store(f"sqlite:///{tmp_path}/audit.db")
    yield opened
    await opened.close()


@pytest.fixture(scope="module")
def tls_pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, KeyPair]:
    directory = tmp_path_factory.mktemp("tls")
    return {
        "server": generate_server_cert(directory, "magda-server"),
        "client": generate_self_signed(directory, "gent-client", "Stad Gent MAGDA client"),
        "stranger": generate_self_signed(directory, "stranger", "not registered at MAGDA"),
        "reply": generate_self_signed(directory, "magda-reply", "MAGDA gateway signing"),
    }


async def _started(magda: MagdaSettings, **backend: Any) -> PopulationAdapter:
    adapter = PopulationAdapter(magda, BackendSettings(connect_retries=0, **backend), TENANTS)
    assert adapter.check_config() == []
    await adapter.start()
    return adapter


async def _calls(base_url: str, ca: Path, client: KeyPair) -> list[dict[str, Any]]:
    import ssl

    context = ssl.create_default_context(cafile=str(ca))
    context.load_cert_chain(str(client.cert), str(client.key))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as http:
        reply = await http.get(f"{base_url}/_control/calls")
        calls: list[dict[str, Any]] = await reply.json()
        return calls


@pytest.mark.parametrize("client", ["client", "stranger", None])
async def test_mutual_tls_is_required_and_honoured(
    tls_pki: dict[str, KeyPair], pki: dict[str, KeyPair], store: OutcomeStore, client: str | None
) -> None:
    server = tls_pki["server"]
    simulator = await start_magda_simulator(MagdaSimulatorSettings(
        port=0,
        trusted_certs=(pki["magda-client"].cert,),
        tls=TlsSettings(cert=server.cert, key=server.key, client_cas=(tls_pki["client"].cert,)),
    ))
    assert simulator.base_url.startswith("https://")
    pair = tls_pki[client] if client else None
    magda = dataclasses.replace(
        MagdaSettings(hoedanigheid="1300"),
        base_url=simulator.base_url,
        signing_key=pki["magda-client"].key,
        signing_cert=pki["magda-client"].cert,
        ca_file=str(server.cert),
        tls_cert=str(pair.cert) if pair else "",
        tls_key=str(pair.key) if pair else "",
    )
    adapter = await _started(magda)
    try:
        context = _context(WELL_KNOWN["single"], "household-composition", store)
        if client == "client":
            answer = await adapter.handle(context)
            assert answer.certificate.kind == "household-composition"
        else:
            with pytest.raises(BackendError) as info:
                await adapter.handle(context)
            assert info.value.retryable
        calls = await _calls(simulator.base_url, server.cert, tls_pki["client"])
        assert len(calls) == (1 if client == "client" else 0)
    finally:
        await adapter.close()
        await simulator.close()


async def test_a_tenant_presents_its_own_client_certificate(
    tls_pki: dict[str, KeyPair], pki: dict[str, KeyPair], store: OutcomeStore
) -> None:
    """Gent has its own organisation certificate; the others share the default (none here)."""
    server = tls_pki["server"]
    simulator = await start_magda_simulator(MagdaSimulatorSettings(
        port=0,
        trusted_certs=(pki["magda-client"].cert,),
        tls=TlsSettings(cert=server.cert, key=server.key, client_cas=(tls_pki["client"].cert,)),
    ))
    tenants = dict(TENANTS)
    tenants["gent"] = dataclasses.replace(tenants["gent"], magda=TenantMagdaSettings(
        tls_cert=str(tls_pki["client"].cert), tls_key=str(tls_pki["client"].key)))
    magda = dataclasses.replace(
        # A Hoedanigheid is required configuration (development value, as in the shipped tenants).
        MagdaSettings(hoedanigheid="1300"),
        base_url=simulator.base_url, signing_key=pki["magda-client"].key,
        signing_cert=pki["magda-client"].cert, ca_file=str(server.cert),
    )
    adapter = PopulationAdapter(magda, BackendSettings(connect_retries=0), tenants)
    await adapter.start()
    try:
        gent = _context(WELL_KNOWN["single"], "household-composition", store)
        gent = dataclasses.replace(gent, tenant=tenants["gent"])
        await adapter.handle(gent)
        with pytest.raises(BackendError):
            await adapter.handle(
                _context(WELL_KNOWN["single"], "household-composition", store, tenant="leuven")
            )
    finally:
        await adapter.close()
        await simulator.close()


@pytest.fixture
async def signing_simulator(
    tls_pki: dict[str, KeyPair], pki: dict[str, KeyPair]
) -> AsyncIterator[Any]:
    simulator = await start_magda_simulator(MagdaSimulatorSettings(
        port=0, trusted_certs=(pki["magda-client"].cert,), reply_signing=tls_pki["reply"],
    ))
    yield simulator
    await simulator.close()


async def _fault(simulator: Any, kind: str) -> None:
    async with aiohttp.ClientSession() as http:
        reply = await http.post(f"{simulator.base_url}/_control/faults",
                                json={"service": "GeefPersoon", "kind": kind})
        assert reply.status < 300, await reply.text()


@pytest.mark.parametrize(
    ("policy", "fault", "accepted"),
    [
        ("verify", None, True),
        ("verify", "tampered-reply-signature", False),
        ("verify", "unsigned-reply", False),
        ("log-only", "tampered-reply-signature", True),
        ("off", "unsigned-reply", True),
    ],
)
async def test_reply_signature_policy(
    signing_simulator: Any, tls_pki: dict[str, KeyPair], pki: dict[str, KeyPair],
    store: OutcomeStore, policy: str, fault: str | None, accepted: bool,
) -> None:
    magda = dataclasses.replace(
        # A Hoedanigheid is required configuration (development value, as in the shipped tenants).
        MagdaSettings(hoedanigheid="1300"),
        base_url=signing_simulator.base_url,
        signing_key=pki["magda-client"].key, signing_cert=pki["magda-client"].cert,
        reply_signature=policy, reply_signing_cert=str(tls_pki["reply"].cert),
    )
    adapter = await _started(magda)
    try:
        if fault:
            await _fault(signing_simulator, fault)
        context = _context(WELL_KNOWN["single"], "proof-of-life", store)
        if accepted:
            await adapter.handle(context)
        else:
            with pytest.raises(ReplySignatureInvalid) as info:
                await adapter.handle(context)
            assert info.value.code == "BACKEND_REPLY_SIGNATURE_INVALID"
            assert not info.value.retryable
    finally:
        await adapter.close()


def test_the_reply_policy_resolves_per_back_end_then_globally_then_verify() -> None:
    plain = load_settings(environ={})
    assert plain.backend("criminal-record").reply_policy(plain.magda)[0] == "verify"
    # A configuration of before the per-back-end setting keeps its meaning.
    old = load_settings(environ={}, overrides={"magda": {"reply_signature": "off"}})
    assert {old.backend(n).reply_policy(old.magda)[0]
            for n in ("population", "civil-status", "criminal-record")} == {"off"}
    mixed = load_settings(environ={"LOKET_BACKENDS__POPULATION__REPLY_SIGNATURE": "log-only"},
                          overrides={"magda": {"reply_signature": "off"}})
    assert mixed.backend("population").reply_policy(mixed.magda)[0] == "log-only"
    assert mixed.backend("civil-status").reply_policy(mixed.magda)[0] == "off"
    assert dataclasses.replace(
        mixed.backend("population"), reply_signing_cert="own.pem"
    ).reply_policy(mixed.magda)[1] == "own.pem"


def test_verify_needs_a_trust_store(pki: dict[str, KeyPair]) -> None:
    from adapters.magda.wssecurity import BodySignature

    with pytest.raises(ConfigurationError, match="reply_signing_cert"):
        BodySignature(pki["magda-client"].key, pki["magda-client"].cert,
                      response_policy="verify", response_cert_file=None)
    with pytest.raises(ConfigurationError, match="reply_signature"):
        load_settings(environ={}, overrides={"backends": {"population": {
            "reply_signature": "strict"}}})
    # Off needs none: the certificate is then not even looked at.
    off = load_settings(environ={}, overrides={"magda": {"reply_signature": "off",
                                                         "reply_signing_cert": "missing.pem"}})
    profile = profile_for(off.magda, None, off.backend("population"))
    assert profile.reply_signature == "off" and profile.reply_signing_cert is None


@pytest.mark.broker
async def test_a_refused_extract_request_is_rejected_once_not_retried(
    simulator: Any, pki: dict[str, KeyPair], tmp_path: Path
) -> None:
    """Through the whole hub: the request reached the source, its reply's Body was changed on
    the way. The job is rejected at once (no retry, so no second extract requested)."""
    from hub.contract import Outcome
    from hub.testing import job_body, running_test_hub
    from tests.integration.test_end_to_end import hub_settings

    settings = hub_settings(simulator, pki, tmp_path)
    assert settings.backend("criminal-record").reply_policy(settings.magda)[0] == "verify"
    async with aiohttp.ClientSession() as http:
        reply = await http.post(f"{simulator.base_url}/_control/faults", json={
            "kind": "tampered-reply-signature", "service": "GeefUittrekselStrafregister"})
        assert reply.status == 201
    async with running_test_hub(settings) as harness:
        job = job_body("criminal-record.extract", WELL_KNOWN["single"], {"model": "595"})
        result = await harness.client.request(job, timeout=30)
        assert result.outcome is Outcome.REJECTED
        assert result.error is not None and not result.error.retryable
        assert result.error.code == "BACKEND_REPLY_SIGNATURE_INVALID"
        assert result.error.details["requested_with_reference"] == job["job_id"]  # as sent
        records = await harness.hub.store.audit_records(job_id=job["job_id"])
        assert [r.service for r in records] == ["GeefUittrekselStrafregister"]
        assert result.backend_reference == records[0].reference
    async with aiohttp.ClientSession() as http:
        state = await (await http.get(f"{simulator.base_url}/_control/strafregister")).json()
    assert len(state["extracts"]) == 1
