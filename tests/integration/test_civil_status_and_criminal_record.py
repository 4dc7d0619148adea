"""Civil-status acts and criminal-record extracts, from a RabbitMQ job to a sealed PDF."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from hub.contract import Outcome, Result
from hub.devpki import KeyPair
from hub.documents import external
from hub.testing import HubHarness, job_body, running_test_hub
from loket_hub.client import LoketClient
from simulators.population_data import WELL_KNOWN, WELL_KNOWN_ACTS
from tests.conftest import AMQP_URL
from tests.integration.test_end_to_end import control, hub_settings

pytestmark = pytest.mark.broker


def act_job(subject: str, act: str, *, requester: str | None = None, **parameters: Any) -> dict[
    str, Any
]:
    return job_body("civil-status.act", subject, {"act": act, **parameters}, requester=requester)


def extract_job(subject: str, model: str, *, requester: str | None = None,
                **parameters: Any) -> dict[str, Any]:
    return job_body("criminal-record.extract", subject, {"model": model, **parameters},
                    requester=requester)


@pytest.fixture
async def harness(
    simulator: Any, pki: dict[str, KeyPair], tmp_path: Path
) -> Any:
    async with running_test_hub(hub_settings(simulator, pki, tmp_path)) as harness:
        yield harness


def _sealed_pdf(result: Result, tmp_path: Path) -> bytes:
    assert result.outcome is Outcome.DELIVERED, result.error
    (document,) = result.documents
    assert document.media_type == "application/pdf"
    path = tmp_path / document.file_name
    path.write_bytes(document.content)
    ok, said = external.pdfsig_verify(path)
    assert ok, said
    # Sealed by the back end and again by the municipality: two signatures, both valid.
    assert said.count("Signature is Valid.") == 2, said
    return document.content


async def test_extract_of_ones_own_birth_act(harness: HubHarness, tmp_path: Path) -> None:
    result = await harness.client.request(act_job(WELL_KNOWN["single"], "birth"), timeout=30)
    content = _sealed_pdf(result, tmp_path)
    assert result.documents[0].kind == "civil-status-extract"
    assert content.startswith(b"%PDF")
    records = await harness.hub.store.audit_records(job_id=result.job_id)
    assert sorted(r.service for r in records) == [
        "GeefAkteBurgerlijkeStand", "ZoekAktenBurgerlijkeStand",
    ]


async def test_the_act_pdf_is_sealed_not_re_rendered(
    harness: HubHarness, simulator: Any, tmp_path: Path
) -> None:
    """The back end's own PDF is a prefix of what the citizen receives."""
    first = await harness.client.request(act_job(WELL_KNOWN["single"], "birth"), timeout=30)
    delivered = first.documents[0].content
    eof = delivered.find(b"%%EOF")
    # The simulator's act is itself sealed; its first revision ends at the first %%EOF.
    assert eof > 0
    assert delivered.count(b"%%EOF") >= 3  # original, back-end seal, municipality seal


async def test_a_parent_in_the_act_gets_a_copy(harness: HubHarness, tmp_path: Path) -> None:
    job = act_job(WELL_KNOWN["child"], "birth", requester=WELL_KNOWN["household_head"],
                  form="copy")
    result = await harness.client.request(job, timeout=30)
    _sealed_pdf(result, tmp_path)
    assert result.documents[0].kind == "civil-status-copy"


async def test_a_declared_relation_goes_to_an_employee(harness: HubHarness) -> None:
    job = act_job(WELL_KNOWN["deceased"], "death", requester=WELL_KNOWN["single"],
                  form="copy", relationship="descendant")
    result = await harness.client.request(job, timeout=30, final=False)
    assert result.outcome is Outcome.AWAITING_APPROVAL
    assert result.error is not None
    assert result.error.code == "APPROVAL_REQUIRED"
    assert result.error.details["rule"] == "forms.copy.approval"


@pytest.mark.parametrize(
    ("subject", "act", "requester", "parameters", "code"),
    [
        ("deceased", "death", "single", {"form": "copy"}, "NOT_ENTITLED"),
        ("deceased", "death", "single", {"form": "copy", "relationship": "spouse"},
         "NOT_ENTITLED"),
        ("cohabitant", "recognition", None, {}, "AMBIGUOUS_ACT"),
        ("parent", "birth", None, {}, "ACT_NOT_DIGITISED"),
        ("single", "adoption", None, {}, "ACT_NOT_FOUND"),
    ],
)
async def test_civil_status_refusals(
    harness: HubHarness, subject: str, act: str, requester: str | None,
    parameters: dict[str, Any], code: str,
) -> None:
    job = act_job(WELL_KNOWN[subject], act,
                  requester=WELL_KNOWN[requester] if requester else None, **parameters)
    result = await harness.client.request(job, timeout=30)
    assert result.outcome is Outcome.REJECTED
    assert result.error is not None
    assert result.error.code == code
    if code == "AMBIGUOUS_ACT":
        candidates = result.error.details["candidates"]
        assert {c["reference"] for c in candidates} == {
            WELL_KNOWN_ACTS["recognition_cohabitant_1"], WELL_KNOWN_ACTS["recognition_cohabitant_2"]
        }


async def test_an_ambiguous_act_chosen_by_reference(harness: HubHarness, tmp_path: Path) -> None:
    job = act_job(WELL_KNOWN["cohabitant"], "recognition",
                  act_reference=WELL_KNOWN_ACTS["recognition_cohabitant_2"])
    _sealed_pdf(await harness.client.request(job, timeout=30), tmp_path)


async def test_extract_595_is_in_treatment_then_delivered(
    harness: HubHarness, simulator: Any, tmp_path: Path
) -> None:
    job = extract_job(WELL_KNOWN["single"], "595")
    result = await harness.client.request(job, timeout=30)
    _sealed_pdf(result, tmp_path)
    assert result.documents[0].kind == "criminal-record-extract-595"
    outcomes = [r.outcome for r in harness.client.received if r.job_id == job["job_id"]]
    assert outcomes == [Outcome.IN_TREATMENT, Outcome.DELIVERED]
    interim = harness.client.received[0]
    assert interim.note and "preparing" in interim.note
    events = [e["status"] for e in await harness.status_events() if e["job_id"] == job["job_id"]]
    assert events == ["received", "in-treatment", "delivered"]
    records = await harness.hub.store.audit_records(job_id=job["job_id"])
    services = sorted(r.service for r in records)
    assert services.count("GeefUittrekselStrafregister") == 2  # request + fetch
    assert services.count("GeefStatusUittrekselStrafregister") >= 1
    state = await control(simulator, "GET", "strafregister")
    assert [e["gedownload"] for e in state["extracts"]] == [True]


async def test_extract_596_2_waits_for_the_police_check(
    harness: HubHarness, simulator: Any, tmp_path: Path
) -> None:
    await control(simulator, "POST", "strafregister", {"police_check_polls": 3})
    job = extract_job(WELL_KNOWN["single"], "596.2", activity="JEUGDWERK")
    result = await harness.client.request(job, timeout=60)
    _sealed_pdf(result, tmp_path)
    (interim,) = [r for r in harness.client.received if r.outcome is Outcome.IN_TREATMENT]
    assert interim.note and "police" in interim.note
    records = await harness.hub.store.audit_records(job_id=job["job_id"])
    assert sum(r.service == "GeefStatusUittrekselStrafregister" for r in records) >= 3


@pytest.mark.parametrize(
    ("subject", "model", "requester", "parameters", "code"),
    [
        ("police_check_refused", "596.2", None, {"activity": "KINDEROPVANG"},
         "EXTRACT_REFUSED"),
        ("single", "595", "household_head", {}, "NOT_ENTITLED"),
        ("single", "596.1", None, {"activity": "KINDEROPVANG"}, "UNKNOWN_ACTIVITY"),
        ("single", "596.1", None, {}, "SCHEMA_VIOLATION"),
    ],
)
async def test_criminal_record_refusals(
    harness: HubHarness, subject: str, model: str, requester: str | None,
    parameters: dict[str, Any], code: str,
) -> None:
    job = extract_job(WELL_KNOWN[subject], model,
                      requester=WELL_KNOWN[requester] if requester else None, **parameters)
    result = await harness.client.request(job, timeout=60)
    assert result.outcome is Outcome.REJECTED
    assert result.error is not None
    assert result.error.code == code


async def test_a_waiting_extract_survives_a_worker_restart_and_duplicates(
    simulator: Any, pki: dict[str, KeyPair], tmp_path: Path
) -> None:
    await control(simulator, "POST", "strafregister", {"police_check_polls": 2})
    settings = hub_settings(simulator, pki, tmp_path)
    job = extract_job(WELL_KNOWN["single"], "596.2", activity="ONDERWIJS")
    # One front office (one reply queue) throughout; the workers come and go.
    async with LoketClient.connect(AMQP_URL) as front_office:
        async with running_test_hub(settings):
            interim = await front_office.request(job, timeout=30, final=False)
            assert interim.outcome is Outcome.IN_TREATMENT
        # The worker is gone; its poll waits in the broker, its journal in the store.
        async with running_test_hub(settings, reset=False):
            # The same job published again meanwhile: told where it stands, no new request.
            final = await front_office.request(job, timeout=60)
            assert final.outcome is Outcome.DELIVERED
    outcomes = [r.outcome for r in front_office.received]
    assert outcomes.count(Outcome.DELIVERED) == 1
    assert outcomes[0] is Outcome.IN_TREATMENT
    state = await control(simulator, "GET", "strafregister")
    assert len(state["extracts"]) == 1


def test_settings_are_what_the_tests_assume(simulator: Any, pki: dict[str, KeyPair],
                                            tmp_path: Path) -> None:
    settings = hub_settings(simulator, pki, tmp_path)
    assert max(settings.broker.poll_delays_s) < 1
    assert dataclasses.is_dataclass(settings)


async def test_a_waiting_extract_whose_poll_the_broker_lost_is_recovered(
    simulator: Any, pki: dict[str, KeyPair], tmp_path: Path
) -> None:
    # The job waits for the police check; while no worker runs, the broker loses its poll
    # (purged here). Only the store still knows when that poll was due: the recovery search
    # publishes it again as a continuation, and the extract is delivered.
    import aio_pika

    from hub import topology
    from tests.integration.test_end_to_end import POLL_DELAYS

    await control(simulator, "POST", "strafregister", {"police_check_polls": 2})
    settings = hub_settings(simulator, pki, tmp_path)
    settings = dataclasses.replace(settings, store=dataclasses.replace(
        settings.store, recovery_grace_s=0.3, recovery_interval_s=0.2))
    job = extract_job(WELL_KNOWN["single"], "596.2", activity="ONDERWIJS")
    async with LoketClient.connect(AMQP_URL) as front_office:
        async with running_test_hub(settings):
            interim = await front_office.request(job, timeout=30, final=False)
            assert interim.outcome is Outcome.IN_TREATMENT
        connection = await aio_pika.connect(AMQP_URL)
        async with connection:
            channel = await connection.channel()
            for name in [topology.work_queue_name("criminal-record"),
                         *(f"poll.criminal-record.{round(d * 1000)}ms" for d in POLL_DELAYS)]:
                queue = await channel.declare_queue(name, passive=True)
                await queue.purge()
        async with running_test_hub(settings, reset=False) as harness:
            final = await front_office.request(job, timeout=60)
            recovered = harness.hub.metrics.registry.get_sample_value(
                "loket_jobs_recovered_total", {"type": "criminal-record.extract"})
    assert final.outcome is Outcome.DELIVERED
    assert recovered is not None and recovered >= 1
    state = await control(simulator, "GET", "strafregister")
    assert len(state["extracts"]) == 1


async def _services_called(simulator: Any) -> list[str]:
    return [call["service"] for call in await control(simulator, "GET", "calls")]


@pytest.mark.parametrize(
    ("relationship", "outcome", "code"),
    [("spouse", Outcome.REJECTED, "NOT_ENTITLED"),
     ("descendant", Outcome.AWAITING_APPROVAL, "APPROVAL_REQUIRED")],
)
async def test_a_declared_relation_is_decided_before_dabs_is_asked(
    harness: HubHarness, simulator: Any, relationship: str, outcome: Outcome, code: str,
) -> None:
    # The single person appears in no act of the deceased; a copy for a spouse is never given,
    # one for a descendant waits for an employee: the job alone decides both.
    job = act_job(WELL_KNOWN["deceased"], "death", requester=WELL_KNOWN["single"],
                  form="copy", relationship=relationship)
    result = await harness.client.request(job, timeout=30, final=False)
    assert result.outcome is outcome
    assert result.error is not None and result.error.code == code
    assert "act" not in result.error.details
    assert await _services_called(simulator) == []
    assert await harness.hub.store.audit_records(job_id=job["job_id"]) == []


@pytest.mark.parametrize(
    ("subject", "act", "form"),
    [("deceased", "death", "copy"),  # one act, the requester not in it
     ("cohabitant", "recognition", "extract"),  # two acts: no candidates to a stranger
     ("single", "adoption", "extract")],  # no act at all: no "not found" either
)
async def test_a_requester_in_no_act_is_refused_and_learns_nothing(
    harness: HubHarness, simulator: Any, subject: str, act: str, form: str,
) -> None:
    job = act_job(WELL_KNOWN[subject], act, requester=WELL_KNOWN["household_head"], form=form)
    result = await harness.client.request(job, timeout=30)
    assert result.outcome is Outcome.REJECTED
    assert result.error is not None
    assert result.error.code == "NOT_ENTITLED"
    assert result.error.details == {"rule": f"forms.{form}", "relation": "none"}
    assert result.backend_reference is None
    # DABS was searched (only the act can tell who appears in it), never asked for the act,
    # and the search is audited as the entitlement check it was.
    assert await _services_called(simulator) == ["ZoekAktenBurgerlijkeStand"]
    (record,) = await harness.hub.store.audit_records(job_id=job["job_id"])
    assert record.service == "ZoekAktenBurgerlijkeStand"
    assert record.purpose.startswith("entitlement check: does the requester appear in the act?")
    assert record.requester_identifier == WELL_KNOWN["household_head"]


async def test_the_subject_is_searched_for_the_act_not_for_an_entitlement(
    harness: HubHarness,
) -> None:
    result = await harness.client.request(act_job(WELL_KNOWN["single"], "birth"), timeout=30)
    assert result.outcome is Outcome.DELIVERED
    records = await harness.hub.store.audit_records(job_id=result.job_id)
    assert [r.purpose.startswith("civil-status birth extract") for r in records] == [True, True]


@pytest.mark.parametrize("kbo", ["0566988259", "0403170701"])  # listed (unmet), not listed
async def test_a_company_without_an_acting_person_is_refused_before_dabs(
    harness: HubHarness, simulator: Any, kbo: str,
) -> None:
    job = act_job(WELL_KNOWN["single"], "birth")
    job["requester"] = {"capacity": "company", "identifier": kbo, "authenticated": True,
                        "basis": "legal-representative"}
    result = await harness.client.request(job, timeout=30)
    assert result.outcome is Outcome.REJECTED
    assert result.error is not None and result.error.code == "NOT_ENTITLED"
    assert result.error.details == {"rule": "forms.extract", "relation": "none"}
    assert await _services_called(simulator) == []
