"""The population adapter against the MAGDA simulator: real SOAP over HTTP, real signatures."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.population import PopulationAdapter
from hub.config import BackendSettings, MagdaSettings, TenantSettings
from hub.contract import Job, Requester, Subject
from hub.devpki import KeyPair
from hub.errors import (
    BackendError,
    BackendTimeout,
    ConfigurationError,
    FactsDoNotHold,
    InvalidInput,
    NotFound,
    OurFault,
)
from hub.ports import CallContext
from hub.store import OutcomeStore, open_store
from simulators.population_data import WELL_KNOWN

TENANT = TenantSettings("gent", "Stad Gent", "44021", "urn://gent.be/cs-connector/loket-hub")


def _context(insz: str, audit: OutcomeStore) -> CallContext:
    job = Job(
        job_id="job-adapter-test",
        type="population.attest",
        tenant="gent",
        requester=Requester("person", insz, True),
        subject=Subject("person", insz),
        product_id=1,
        dossier_id="D-1",
        parameters={"attest": "household-composition"},
    )
    return CallContext(job=job, tenant=TENANT, attempt=1, audit=audit)


async def _adapter(sim: Any, pair: KeyPair, **backend: Any) -> PopulationAdapter:
    magda = dataclasses.replace(
        # A Hoedanigheid is required configuration (development value, as in the shipped tenants).
        MagdaSettings(hoedanigheid="1300"),
        base_url=sim.base_url, signing_key=pair.key, signing_cert=pair.cert
    )
    adapter = PopulationAdapter(magda, BackendSettings(**backend))
    assert adapter.check_config() == []
    await adapter.start()
    return adapter


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[OutcomeStore]:
    opened = await open_store(f"sqlite:///{tmp_path}/audit.db")
    yield opened
    await opened.close()


@pytest.fixture
async def adapter(simulator: Any, pki: dict[str, KeyPair]) -> AsyncIterator[PopulationAdapter]:
    adapter = await _adapter(simulator, pki["magda-client"], total_timeout_s=2.0)
    yield adapter
    await adapter.close()


async def _fault(sim: Any, **rule: Any) -> None:
    async with aiohttp.ClientSession() as http:
        reply = await http.post(
            f"{sim.base_url}/_control/faults", json={"service": "GeefGezinssamenstelling", **rule}
        )
        assert reply.status < 300, await reply.text()


async def _calls(sim: Any) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as http:
        reply = await http.get(f"{sim.base_url}/_control/calls")
        calls: list[dict[str, Any]] = await reply.json()
        return calls


async def test_household_of_a_known_citizen(
    adapter: PopulationAdapter, store: OutcomeStore, simulator: Any
) -> None:
    head = WELL_KNOWN["household_head"]
    answer = await adapter.handle(_context(head, store))
    facts = answer.certificate.facts["Household"]
    assert facts["MemberCount"] >= 3
    assert facts["Member"][0]["Insz"] == head
    assert answer.certificate.kind == "household-composition"
    calls = await _calls(simulator)
    assert len(calls) == 1
    # The MAGDA reference we put in the request is the one audited and returned.
    assert calls[0]["referte"] == answer.backend_reference
    assert calls[0]["signed"] is True


async def test_unknown_citizen_is_not_found(
    adapter: PopulationAdapter, store: OutcomeStore
) -> None:
    with pytest.raises(NotFound) as info:
        await adapter.handle(_context(WELL_KNOWN["unknown"], store))
    assert info.value.code == "SUBJECT_UNKNOWN"
    assert info.value.details["magda_code"] == "30001"
    assert info.value.details["magda_reference"]


@pytest.mark.parametrize(
    ("rule", "error_type", "code"),
    [
        ({"kind": "http-500"}, BackendError, "BACKEND_UNAVAILABLE"),
        ({"kind": "malformed-xml"}, BackendError, "BACKEND_ANSWER_UNREADABLE"),
        ({"kind": "magda-error", "code": "90000"}, BackendError, "BACKEND_UNAVAILABLE"),
        ({"kind": "magda-error", "code": "90000", "level": "repliek"}, BackendError,
         "BACKEND_UNAVAILABLE"),
        ({"kind": "magda-error", "code": "30001"}, NotFound, "SUBJECT_UNKNOWN"),
        ({"kind": "soap-fault"}, BackendError, "BACKEND_UNAVAILABLE"),
        ({"kind": "magda-error", "code": "20002"}, InvalidInput, "BACKEND_REFUSED_IDENTIFIER"),
        ({"kind": "magda-error", "code": "40098"}, FactsDoNotHold, "FACTS_DO_NOT_HOLD"),
        ({"kind": "magda-error", "code": "20120"}, InvalidInput, "ACTIVITY_REQUIRED"),
    ],
)
async def test_back_end_failures_become_typed_errors(
    adapter: PopulationAdapter,
    store: OutcomeStore,
    simulator: Any,
    rule: dict[str, Any],
    error_type: type,
    code: str,
) -> None:
    await _fault(simulator, times=1, **rule)
    with pytest.raises(error_type) as info:
        await adapter.handle(_context(WELL_KNOWN["single"], store))
    assert info.value.code == code
    assert info.value.retryable is (code == "BACKEND_UNAVAILABLE"
                                    or code == "BACKEND_ANSWER_UNREADABLE")
    # The fault was consumed: the next call answers.
    await adapter.handle(_context(WELL_KNOWN["single"], store))


async def test_a_back_end_that_refuses_connections_is_unreachable(
    pki: dict[str, KeyPair], store: OutcomeStore
) -> None:
    """Nothing listens on the port: BACKEND_UNREACHABLE, retryable (the delayed retries)."""
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago and is closed now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = dataclasses.make_dataclass("Closed", [("base_url", str)])(f"http://127.0.0.1:{port}")
    adapter = await _adapter(closed, pki["magda-client"], total_timeout_s=2.0, connect_retries=0)
    try:
        with pytest.raises(BackendError) as info:
            await adapter.handle(_context(WELL_KNOWN["single"], store))
    finally:
        await adapter.close()
    assert info.value.code == "BACKEND_UNREACHABLE" and info.value.retryable


async def test_not_authorised_is_permanent(
    adapter: PopulationAdapter, store: OutcomeStore, simulator: Any
) -> None:
    await _fault(simulator, kind="magda-error", code="13001", times=1)
    with pytest.raises(Exception) as info:
        await adapter.handle(_context(WELL_KNOWN["single"], store))
    assert getattr(info.value, "code", None) == "BACKEND_NOT_AUTHORISED"
    assert getattr(info.value, "retryable", None) is False


async def test_a_hanging_back_end_times_out(
    simulator: Any, pki: dict[str, KeyPair], store: OutcomeStore
) -> None:
    adapter = await _adapter(simulator, pki["magda-client"], total_timeout_s=0.3)
    try:
        await _fault(simulator, kind="timeout", delay_ms=5000, times=1)
        with pytest.raises(BackendTimeout):
            await adapter.handle(_context(WELL_KNOWN["single"], store))
    finally:
        await adapter.close()


async def test_an_untrusted_signing_certificate_is_refused(
    simulator: Any, untrusted_pair: KeyPair, store: OutcomeStore
) -> None:
    adapter = await _adapter(simulator, untrusted_pair)
    try:
        with pytest.raises(ConfigurationError) as info:
            await adapter.handle(_context(WELL_KNOWN["single"], store))
        assert info.value.code == "BACKEND_SIGNATURE_REFUSED"
        assert isinstance(info.value, OurFault)
    finally:
        await adapter.close()


async def test_an_unsigned_request_is_refused_by_the_simulator(simulator: Any) -> None:
    envelope = (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        "<soapenv:Body><ns:GeefGezinssamenstelling "
        'xmlns:ns="http://magda.vlaanderen.be/persoon/soap/geefgezinssamenstelling/v02_02"/>'
        "</soapenv:Body></soapenv:Envelope>"
    )
    async with aiohttp.ClientSession() as http:
        reply = await http.post(
            f"{simulator.base_url}/GeefGezinssamenstellingDienst-02.02/soap/WebService",
            data=envelope,
            headers={"Content-Type": "text/xml"},
        )
        assert reply.status == 500
        assert "ERR_025" in await reply.text()


async def test_wsdl_is_never_fetched_from_the_network(pki: dict[str, KeyPair]) -> None:
    from adapters.magda.transport import AiohttpTransport

    async with aiohttp.ClientSession() as session:
        transport = AiohttpTransport(session, max_response_bytes=1000)
        with pytest.raises(ConfigurationError, match="local file"):
            transport.load("http://example.org/service.wsdl")


class _SlowRecord:
    """The real store, but writing the start of a record takes a while: meanwhile we look at
    what reached the simulator. (The audit write overlaps with building and signing the
    request; the request itself must still wait for it.)"""

    def __init__(self, store: OutcomeStore, sim: Any, *, fail: bool = False) -> None:
        self.store, self.sim, self.fail = store, sim, fail
        self.calls_while_recording: list[dict[str, Any]] | None = None

    async def consultation_started(self, consultation: Any) -> None:
        await asyncio.sleep(0.3)
        self.calls_while_recording = await _calls(self.sim)
        if self.fail:
            raise OSError("disk full")
        await self.store.consultation_started(consultation)

    async def consultation_finished(self, reference: str, **completion: Any) -> None:
        await self.store.consultation_finished(reference, **completion)


async def test_no_request_leaves_before_its_audit_record_is_written(
    adapter: PopulationAdapter, store: OutcomeStore, simulator: Any
) -> None:
    slow = _SlowRecord(store, simulator)
    context = dataclasses.replace(_context(WELL_KNOWN["household_head"], store), audit=slow)
    answer = await adapter.handle(context)
    assert slow.calls_while_recording == []
    assert len(await _calls(simulator)) == 1
    records = await store.audit_records()
    assert [(r.reference, r.outcome) for r in records] == [(answer.backend_reference, "ok")]


async def test_a_failed_audit_record_stops_the_request(
    adapter: PopulationAdapter, store: OutcomeStore, simulator: Any
) -> None:
    failing = _SlowRecord(store, simulator, fail=True)
    context = dataclasses.replace(_context(WELL_KNOWN["household_head"], store), audit=failing)
    with pytest.raises(OSError, match="disk full"):
        await adapter.handle(context)
    assert await _calls(simulator) == []
    assert await store.audit_records() == []
