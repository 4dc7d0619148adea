"""Every population certificate, every refusal, the repertorium, audit, TLS and reply checks:
the population adapter against the MAGDA simulator over real SOAP, with a real store."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.population import PopulationAdapter
from hub.config import BackendSettings, MagdaSettings, load_tenants
from hub.contract import Job, Requester, Subject
from hub.devpki import KeyPair
from hub.errors import BackendError, FactsDoNotHold, HubError, NotFound
from hub.ports import AdapterAnswer, CallContext
from hub.store import OutcomeStore, open_store
from simulators.population_data import WELL_KNOWN

TENANTS = load_tenants(Path(__file__).resolve().parents[2] / "mappings/tenants")


def _context(
    insz: str, attest: str, audit: OutcomeStore, *, tenant: str = "gent", job_id: str = "",
    attempt: int = 1,
) -> CallContext:
    job = Job(
        job_id=job_id or f"job-{attest}-{insz}",
        type="population.attest",
        tenant=tenant,
        requester=Requester("person", insz, True),
        subject=Subject("person", insz),
        product_id=1473,
        dossier_id="D-1",
        parameters={"attest": attest},
        purpose="test",
    )
    return CallContext(job=job, tenant=TENANTS[tenant], attempt=attempt, audit=audit)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[OutcomeStore]:
    opened = await open_store(f"sqlite:///{tmp_path}/audit.db")
    yield opened
    await opened.close()


def magda_settings(sim: Any, pair: KeyPair, **extra: Any) -> MagdaSettings:
    return dataclasses.replace(
        # A Hoedanigheid is required configuration (development value, as in the shipped tenants).
        MagdaSettings(hoedanigheid="1300"),
        base_url=sim.base_url, signing_key=pair.key, signing_cert=pair.cert,
        **extra,
    )


@pytest.fixture
async def adapter(simulator: Any, pki: dict[str, KeyPair]) -> AsyncIterator[PopulationAdapter]:
    adapter = PopulationAdapter(
        magda_settings(simulator, pki["magda-client"]), BackendSettings(total_timeout_s=3),
        TENANTS,
    )
    assert adapter.check_config() == []
    await adapter.start()
    yield adapter
    await adapter.close()


async def control(sim: Any, method: str, path: str, body: Any = None) -> Any:
    async with aiohttp.ClientSession() as http:
        reply = await http.request(method, f"{sim.base_url}/_control/{path}", json=body)
        assert reply.status < 300, await reply.text()
        return await reply.json() if reply.content_type == "application/json" else None


DELIVERED = [
    ("belgian-nationality", "single", "gent", "Nationality"),
    ("household-composition", "household_head", "gent", "Household"),
    ("main-residence", "single", "gent", "MainResidence"),
    ("main-residence-history-municipality", "mover", "gent", "ResidencePeriod"),
    ("main-residence-history", "mover", "gent", "ResidencePeriod"),
    ("proof-of-life", "single", "gent", "Alive"),
    ("residence-and-nationality", "single", "gent", "Nationality"),
    ("residence-for-marriage", "single", "gent", "CivilStatus"),
    ("legal-cohabitation", "cohabitant_head", "leuven", "LegalCohabitation"),
    ("burial-manner", "burial_declared", "gent", "BurialDeclaration"),
]


@pytest.mark.parametrize(("attest", "who", "tenant", "fact"), DELIVERED,
                         ids=[d[0] for d in DELIVERED])
async def test_each_certificate_is_delivered(
    adapter: PopulationAdapter, store: OutcomeStore, attest: str, who: str, tenant: str, fact: str
) -> None:
    answer: AdapterAnswer = await adapter.handle(
        _context(WELL_KNOWN[who], attest, store, tenant=tenant)
    )
    assert answer.certificate.kind == attest
    assert fact in answer.certificate.facts
    assert answer.certificate.title


async def test_history_in_municipality_keeps_only_its_periods(
    adapter: PopulationAdapter, store: OutcomeStore
) -> None:
    gent = await adapter.handle(
        _context(WELL_KNOWN["mover"], "main-residence-history-municipality", store)
    )
    full = await adapter.handle(_context(WELL_KNOWN["mover"], "main-residence-history", store))
    gent_periods = gent.certificate.facts["ResidencePeriod"]
    assert {p["Address"]["NisCode"] for p in gent_periods} == {"44021"}
    assert len(gent_periods) == 2
    assert len(full.certificate.facts["ResidencePeriod"]) == 4


REFUSED = [
    ("proof-of-life", "deceased", "gent", "SUBJECT_DECEASED"),
    ("main-residence-history", "deceased", "gent", "SUBJECT_DECEASED"),
    ("belgian-nationality", "foreigner", "gent", "NOT_BELGIAN"),
    ("residence-and-nationality", "foreigner", "gent", "NOT_BELGIAN"),
    ("main-residence", "struck_off", "gent", "NO_MAIN_RESIDENCE"),
    ("main-residence-history-municipality", "mover", "antwerpen",
     "NEVER_RESIDED_IN_MUNICIPALITY"),
    ("legal-cohabitation", "single", "gent", "NO_LEGAL_COHABITATION"),
    ("burial-manner", "single", "gent", "NO_BURIAL_DECLARATION"),
    ("residence-for-marriage", "household_head", "gent", "ALREADY_MARRIED"),
]


@pytest.mark.parametrize(("attest", "who", "tenant", "code"), REFUSED,
                         ids=[f"{r[0]}-{r[1]}" for r in REFUSED])
async def test_each_refusal_has_its_code(
    adapter: PopulationAdapter, store: OutcomeStore, attest: str, who: str, tenant: str, code: str
) -> None:
    with pytest.raises(FactsDoNotHold) as info:
        await adapter.handle(_context(WELL_KNOWN[who], attest, store, tenant=tenant))
    assert info.value.code == code
    assert info.value.retryable is False


async def test_unknown_person_is_not_found_for_person_services(
    adapter: PopulationAdapter, store: OutcomeStore
) -> None:
    with pytest.raises(NotFound) as info:
        await adapter.handle(_context(WELL_KNOWN["unknown"], "proof-of-life", store))
    assert info.value.code == "SUBJECT_UNKNOWN"


async def test_repertorium_registration_on_demand_and_remembered(
    adapter: PopulationAdapter, store: OutcomeStore, simulator: Any
) -> None:
    insz = WELL_KNOWN["single"]
    context = _context(insz, "proof-of-life", store, job_id="job-repertorium-1")
    await adapter.handle(context)
    calls = await control(simulator, "GET", "calls")
    assert [(c["service"], c["outcome"]) for c in calls] == [
        ("GeefPersoon", "not-registered"),
        ("RegistreerInschrijving", "ok"),
        ("GeefPersoon", "ok"),
    ]
    await adapter.handle(_context(insz, "main-residence", store, job_id="job-repertorium-2"))
    calls = await control(simulator, "GET", "calls")
    assert [c["service"] for c in calls[3:]] == ["GeefPersoon"]
    # Every consultation is on record, with who, for whom, why and both references.
    records = await store.audit_records(job_id="job-repertorium-1")
    assert sorted((r.service, r.outcome) for r in records) == [
        ("GeefPersoon", "error:40003"), ("GeefPersoon", "ok"), ("RegistreerInschrijving", "ok"),
    ]
    for record in records:
        assert record.subject_identifier == insz
        assert record.requester_identifier == insz
        assert record.tenant == "gent"
        assert record.purpose.startswith("proof-of-life (product 1473)")
        assert record.reply_reference
        assert record.finished_at is not None
    assert {r.reference for r in records} == {c["referte"] for c in calls[:3]}


async def test_each_run_of_an_attempt_has_its_own_record(
    adapter: PopulationAdapter, store: OutcomeStore
) -> None:
    context = _context(WELL_KNOWN["household_head"], "household-composition", store,
                       job_id="job-redelivered")
    # Within one run a call keeps its reference; another run of the same attempt (the job
    # redelivered after its worker died) has its own.
    assert context.reference("GeefGezinssamenstelling") == \
        context.reference("GeefGezinssamenstelling")
    rerun = dataclasses.replace(context, run="another-run")
    assert rerun.reference("GeefGezinssamenstelling") != \
        context.reference("GeefGezinssamenstelling")
    answers = [await adapter.handle(c) for c in (context, rerun,
                                                  dataclasses.replace(context, attempt=2))]
    records = {r.reference: r for r in await store.audit_records(job_id="job-redelivered")}
    assert set(records) == {a.backend_reference for a in answers}
    assert len(records) == 3
    assert {(r.attempt, r.outcome) for r in records.values()} == {(1, "ok"), (2, "ok")}


class _WorkerDied(Exception):
    """The worker process dies here: nothing of its run happens after this."""


class _DyingRun:
    """The real store for the first run of an attempt, until its worker dies: the completion
    of RegistreerInschrijving (a write in the background) is lost with the process, and the
    process dies while it records the GeefPersoon after the registration."""

    def __init__(self, store: OutcomeStore) -> None:
        self.store = store
        self.services: dict[str, str] = {}

    async def consultation_started(self, consultation: Any) -> None:
        await self.store.consultation_started(consultation)
        self.services[consultation.reference] = consultation.service
        if list(self.services.values()).count("GeefPersoon") == 2:
            raise _WorkerDied

    async def consultation_finished(self, reference: str, **completion: Any) -> None:
        if self.services[reference] != "RegistreerInschrijving":
            await self.store.consultation_finished(reference, **completion)


async def test_the_audit_tells_the_truth_after_a_crash(
    simulator: Any, pki: dict[str, KeyPair], store: OutcomeStore
) -> None:
    # The first run: GeefPersoon answers 40003 (not in our repertorium), the registration goes
    # out and MAGDA takes it, then the worker dies. The job comes back as the same attempt.
    job_id = "job-crashed-run"
    first = dataclasses.replace(_context(WELL_KNOWN["single"], "proof-of-life", store,
                                         job_id=job_id), audit=_DyingRun(store))
    dying = PopulationAdapter(magda_settings(simulator, pki["magda-client"]),
                              BackendSettings(total_timeout_s=3), TENANTS)
    await dying.start()
    try:
        with pytest.raises(_WorkerDied):
            await dying.handle(first)
        await first.background.settle()
    finally:
        await dying.close()

    # The run that claims the job next closes what the dead run left open, then runs anew
    # (another process: a new adapter, a new run of attempt 1).
    assert await store.abandon_open_consultations(job_id) == 2
    second = _context(WELL_KNOWN["single"], "proof-of-life", store, job_id=job_id)
    assert second.attempt == first.attempt and second.run != first.run
    adapter = PopulationAdapter(magda_settings(simulator, pki["magda-client"]),
                                BackendSettings(total_timeout_s=3), TENANTS)
    await adapter.start()
    try:
        answer = await adapter.handle(second)
        await second.background.settle()
    finally:
        await adapter.close()

    calls = await control(simulator, "GET", "calls")
    assert [(c["service"], c["outcome"]) for c in calls] == [
        ("GeefPersoon", "not-registered"), ("RegistreerInschrijving", "ok"), ("GeefPersoon", "ok"),
    ]
    records = {r.reference: r for r in await store.audit_records(job_id=job_id)}
    assert sorted((r.service, r.outcome) for r in records.values()) == [
        ("GeefPersoon", "abandoned"), ("GeefPersoon", "error:40003"), ("GeefPersoon", "ok"),
        ("RegistreerInschrijving", "abandoned"),
    ]
    assert all(r.finished_at is not None for r in records.values())
    assert {c["referte"] for c in calls} <= set(records)
    # The delivered answer's reference is the successful call's own record, with its own
    # reply reference; the first run's error keeps the first reply's.
    delivered = records[str(answer.backend_reference)]
    assert (delivered.service, delivered.outcome) == ("GeefPersoon", "ok")
    (refused,) = [r for r in records.values() if r.outcome == "error:40003"]
    assert delivered.reply_reference and refused.reply_reference
    assert delivered.reply_reference != refused.reply_reference


async def test_an_unanswered_consultation_is_on_record(
    simulator: Any, pki: dict[str, KeyPair], store: OutcomeStore
) -> None:
    adapter = PopulationAdapter(magda_settings(simulator, pki["magda-client"]),
                                BackendSettings(total_timeout_s=0.3), TENANTS)
    await adapter.start()
    try:
        await control(simulator, "POST", "faults",
                      {"service": "GeefGezinssamenstelling", "kind": "timeout", "delay_ms": 3000})
        with pytest.raises(BackendError):
            await adapter.handle(_context(WELL_KNOWN["single"], "household-composition", store,
                                          job_id="job-unanswered"))
    finally:
        await adapter.close()
    (record,) = await store.audit_records(job_id="job-unanswered")
    assert record.outcome == "error:BACKEND_TIMEOUT"
    assert record.reply_reference is None


async def test_an_answer_with_an_entity_declaration_is_refused(
    adapter: PopulationAdapter, store: OutcomeStore, simulator: Any
) -> None:
    await control(simulator, "POST", "faults",
                  {"service": "GeefGezinssamenstelling", "kind": "entity-declaration"})
    with pytest.raises(BackendError) as info:
        await adapter.handle(_context(WELL_KNOWN["single"], "household-composition", store))
    assert info.value.code == "BACKEND_ANSWER_UNSAFE"


async def test_an_answer_over_the_size_limit_is_refused(
    simulator: Any, pki: dict[str, KeyPair], store: OutcomeStore
) -> None:
    adapter = PopulationAdapter(magda_settings(simulator, pki["magda-client"]),
                                BackendSettings(max_answer_bytes=1_000_000), TENANTS)
    await adapter.start()
    try:
        await control(simulator, "POST", "faults",
                      {"service": "GeefGezinssamenstelling", "kind": "huge-answer"})
        with pytest.raises(HubError) as info:
            await adapter.handle(_context(WELL_KNOWN["single"], "household-composition", store))
        assert info.value.code == "BACKEND_ANSWER_TOO_LARGE"
    finally:
        await adapter.close()
