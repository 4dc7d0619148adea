"""Who may ask for what, and the approval path through the back office."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from hub import topology
from hub.contract import Outcome, Result
from hub.devpki import KeyPair
from hub.testing import (
    HubHarness,
    job_body,
    make_job,
    publish_backoffice,
    read_queue,
    running_test_hub,
)
from simulators.population_data import WELL_KNOWN
from tests.conftest import AMQP_URL
from tests.integration.test_end_to_end import control, hub_settings

pytestmark = pytest.mark.broker

NOTARY_KBO = "0566988259"  # listed in mappings/tenants/gent.toml


@pytest.fixture
async def harness(simulator: Any, pki: dict[str, KeyPair], tmp_path: Path) -> Any:
    async with running_test_hub(hub_settings(simulator, pki, tmp_path)) as harness:
        yield harness


async def _decide(job_id: str, decision: str, **extra: Any) -> None:
    await publish_backoffice(AMQP_URL, "decision",
                             {"job_id": job_id, "decision": decision, **extra})


async def _final(harness: HubHarness, job_id: str) -> Result:
    for _ in range(600):
        for result in harness.client.received:
            if result.job_id == job_id and result.outcome.final:
                return result
        await asyncio.sleep(0.05)
    raise AssertionError("no final result")


def _company(subject: str, kbo: str) -> dict[str, Any]:
    job = make_job(subject)
    job["requester"] = {"capacity": "company", "identifier": kbo, "authenticated": True,
                        "basis": "legal-representative", "acting_person": WELL_KNOWN["single"]}
    return job


async def test_a_person_asking_about_someone_else_needs_approval_then_gets_it(
    harness: HubHarness, simulator: Any
) -> None:
    job = make_job(WELL_KNOWN["household_head"], requester=WELL_KNOWN["single"])
    interim = await harness.client.request(job, timeout=30, final=False)
    assert interim.outcome is Outcome.AWAITING_APPROVAL
    assert interim.error is not None and interim.error.details["rule"] == "third-party"
    assert await control(simulator, "GET", "calls") == []  # nothing consulted before approval
    (task,) = [json.loads(m.body) for m in
               await read_queue(AMQP_URL, topology.APPROVAL_QUEUE)]
    assert task["job_id"] == job["job_id"] and task["rule"] == "third-party"
    await _decide(job["job_id"], "approve", employee="an.employee@stad.gent")
    final = await _final(harness, job["job_id"])
    assert final.outcome is Outcome.DELIVERED
    assert len(final.documents) == 2
    assert final.decided_by == "approved-by:an.employee@stad.gent"
    (record,) = await harness.hub.store.audit_records(job_id=job["job_id"])
    assert record.decided_by == "approved-by:an.employee@stad.gent"
    statuses = [e["status"] for e in await harness.status_events()
                if e["job_id"] == job["job_id"]]
    assert statuses == ["received", "awaiting-approval", "delivered"]


async def test_a_refusal_by_an_employee_rejects_with_the_reason(harness: HubHarness) -> None:
    job = make_job(WELL_KNOWN["household_head"], requester=WELL_KNOWN["single"])
    await harness.client.request(job, timeout=30, final=False)
    await _decide(job["job_id"], "refuse", reason="geen wettig belang", employee="jan")
    final = await _final(harness, job["job_id"])
    assert final.outcome is Outcome.REJECTED
    assert final.error is not None
    assert (final.error.code, final.error.message) == ("REFUSED_BY_EMPLOYEE", "geen wettig belang")


async def test_unauthenticated_requester_needs_approval(harness: HubHarness) -> None:
    job = make_job(WELL_KNOWN["single"])
    job["requester"]["authenticated"] = False
    result = await harness.client.request(job, timeout=30, final=False)
    assert result.outcome is Outcome.AWAITING_APPROVAL
    assert result.error is not None and result.error.details["rule"] == "unauthenticated"


async def test_a_company_with_a_listed_right_is_served_at_once(harness: HubHarness) -> None:
    job = _company(WELL_KNOWN["household_head"], NOTARY_KBO)
    result = await harness.client.request(job, timeout=30)
    assert result.outcome is Outcome.DELIVERED
    assert result.decided_by == f"listed-right:{NOTARY_KBO}"
    (record,) = await harness.hub.store.audit_records(job_id=job["job_id"])
    assert record.decided_by == f"listed-right:{NOTARY_KBO}"
    assert record.requester_capacity == "company"
    assert record.acting_person == WELL_KNOWN["single"]


@pytest.mark.parametrize(
    ("capacity", "identifier"),
    [("company", "0403170701"), ("association", "V0001001")],
)
async def test_others_without_a_right_need_approval(
    harness: HubHarness, capacity: str, identifier: str
) -> None:
    job = make_job(WELL_KNOWN["household_head"])
    job["requester"] = {"capacity": capacity, "identifier": identifier, "authenticated": True}
    result = await harness.client.request(job, timeout=30, final=False)
    assert result.outcome is Outcome.AWAITING_APPROVAL


async def test_criminal_record_for_someone_else_is_refused_not_parked(
    harness: HubHarness,
) -> None:
    job = job_body("criminal-record.extract", WELL_KNOWN["single"], {"model": "595"},
                   requester=WELL_KNOWN["household_head"])
    result = await harness.client.request(job, timeout=30)
    assert result.outcome is Outcome.REJECTED
    assert result.error is not None and result.error.code == "NOT_ENTITLED"


async def test_an_approved_copy_of_an_act_is_delivered(harness: HubHarness) -> None:
    job = job_body("civil-status.act", WELL_KNOWN["deceased"],
                   {"act": "death", "form": "copy", "relationship": "descendant"},
                   requester=WELL_KNOWN["single"])
    interim = await harness.client.request(job, timeout=30, final=False)
    assert interim.outcome is Outcome.AWAITING_APPROVAL
    await _decide(job["job_id"], "approve", employee="marie")
    final = await _final(harness, job["job_id"])
    assert final.outcome is Outcome.DELIVERED
    assert final.documents[0].kind == "civil-status-copy"


async def test_bad_or_stray_decisions_never_crash_the_worker(harness: HubHarness) -> None:
    await publish_backoffice(AMQP_URL, "decision", b"not json")
    await _decide("no-such-job-0001", "approve")
    dead = await harness.dead_letters(expect=1)
    assert [d.reason for d in dead] == ["unreadable-decision"]
    result = await harness.client.request(make_job(WELL_KNOWN["single"]), timeout=30)
    assert result.outcome is Outcome.DELIVERED


@pytest.mark.parametrize(
    ("requester", "unmet"),
    [({"basis": "legal-representative"}, "acting-person"),
     ({"acting_person": WELL_KNOWN["single"]}, "basis"),
     ({}, "basis")],
)
async def test_a_listed_right_the_job_does_not_meet_is_not_automatic(
    harness: HubHarness, simulator: Any, requester: dict[str, str], unmet: str,
) -> None:
    job = make_job(WELL_KNOWN["household_head"])
    job["requester"] = {"capacity": "company", "identifier": NOTARY_KBO, "authenticated": True,
                        **requester}
    result = await harness.client.request(job, timeout=30, final=False)
    assert result.outcome is Outcome.AWAITING_APPROVAL
    assert result.error is not None
    assert result.error.details == {"rule": "listed-right-unmet", "right": NOTARY_KBO,
                                    "unmet": unmet}
    assert await control(simulator, "GET", "calls") == []


async def test_a_product_right_for_another_product_is_not_automatic(
    harness: HubHarness, simulator: Any,
) -> None:
    job = _company(WELL_KNOWN["household_head"], NOTARY_KBO)
    job["requester"]["basis"] = "product-right"
    job["parameters"] = {"attest": "belgian-nationality"}
    job["product_id"] = 1474  # the notary's product right lists 1473 and 1490 only
    result = await harness.client.request(job, timeout=30, final=False)
    assert result.outcome is Outcome.AWAITING_APPROVAL
    assert result.error is not None and result.error.details["unmet"] == "product-not-granted"
    assert await control(simulator, "GET", "calls") == []


async def test_a_product_of_another_type_is_rejected_before_any_back_end(
    harness: HubHarness, simulator: Any,
) -> None:
    job = make_job(WELL_KNOWN["single"], product_id=1500)  # the criminal record's product
    result = await harness.client.request(job, timeout=30)
    assert result.outcome is Outcome.REJECTED
    assert result.error is not None and result.error.code == "PRODUCT_MISMATCH"
    assert result.error.details["rule"] == "product"
    assert await control(simulator, "GET", "calls") == []
    assert await harness.hub.store.audit_records(job_id=job["job_id"]) == []


async def test_a_notary_gets_an_extract_of_an_act_but_a_copy_waits(
    harness: HubHarness, simulator: Any,
) -> None:
    extract = job_body("civil-status.act", WELL_KNOWN["deceased"], {"act": "death"})
    extract["requester"] = _company("", NOTARY_KBO)["requester"]
    result = await harness.client.request(extract, timeout=30)
    assert result.outcome is Outcome.DELIVERED, result.error
    assert result.decided_by == f"listed-right:{NOTARY_KBO}"
    copy = job_body("civil-status.act", WELL_KNOWN["deceased"], {"act": "death", "form": "copy"})
    copy["requester"] = extract["requester"]
    before = len(await control(simulator, "GET", "calls"))
    interim = await harness.client.request(copy, timeout=30, final=False)
    assert interim.outcome is Outcome.AWAITING_APPROVAL
    assert interim.error is not None and interim.error.details["relation"] == "listed-right"
    assert len(await control(simulator, "GET", "calls")) == before
