"""Decisions and actions are authenticated per municipality: signed with the tenant's
back-office secret, for a job of that tenant, once. Anything else is refused, dead-lettered
with its reason, and changes nothing. Real broker, worker, MAGDA simulator and store."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import pytest

from hub import topology
from hub.config import BackofficeSettings
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


@pytest.fixture
async def harness(simulator: Any, pki: dict[str, KeyPair], tmp_path: Path) -> Any:
    async with running_test_hub(hub_settings(simulator, pki, tmp_path)) as harness:
        yield harness


async def _parked(harness: HubHarness, tenant: str = "gent") -> dict[str, Any]:
    """A job of ``tenant`` waiting for an employee's approval (someone asking about another)."""
    job = make_job(WELL_KNOWN["household_head"], requester=WELL_KNOWN["single"],
                   tenant=tenant)
    interim = await harness.client.request(job, timeout=30, final=False)
    assert interim.outcome is Outcome.AWAITING_APPROVAL
    return job


async def _final(harness: HubHarness, job_id: str, timeout_s: float = 15) -> Result | None:
    for _ in range(int(timeout_s / 0.05)):
        for result in harness.client.received:
            if result.job_id == job_id and result.outcome.final:
                return result
        await asyncio.sleep(0.05)
    return None


def _approve(job: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"job_id": job["job_id"], "decision": "approve", "employee": "mallory", **extra}


BAD = {
    "unsigned": ({"signed": False}, "decision-unsigned", "MESSAGE_UNSIGNED"),
    "bad-signature": ({"secret": b"a secret the citizen made up"}, "decision-bad-signature",
                      "MESSAGE_BAD_SIGNATURE"),
    "another-tenant": ({"tenant": "antwerpen"}, "decision-wrong-tenant",
                       "MESSAGE_WRONG_TENANT"),
    "stale": ({"timestamp": int(time.time()) - 3600}, "decision-stale-signature",
              "MESSAGE_STALE_SIGNATURE"),
    "from-the-future": ({"timestamp": int(time.time()) + 3600}, "decision-stale-signature",
                        "MESSAGE_STALE_SIGNATURE"),
    "unknown-tenant": ({"routing_key": "decision.nowhere"}, "decision-unknown-tenant",
                       "MESSAGE_UNKNOWN_TENANT"),
    "forged-header": ({"signed": False, "headers": {"x-loket-signature": "sha256=" + "0" * 64,
                                                    "x-loket-timestamp": str(int(time.time()))}},
                      "decision-bad-signature", "MESSAGE_BAD_SIGNATURE"),
}


@pytest.mark.parametrize("case", list(BAD))
async def test_a_decision_not_signed_for_the_jobs_tenant_is_refused(
    harness: HubHarness, simulator: Any, case: str
) -> None:
    job = await _parked(harness)
    how, reason, code = BAD[case]
    await publish_backoffice(AMQP_URL, "decision", _approve(job), **how)  # type: ignore[arg-type]
    dead = await harness.dead_letters(expect=1)
    assert [d.reason for d in dead] == [reason]
    headers = json.loads(dead[0].headers)
    assert json.loads(headers["x-loket-error"])["code"] == code
    assert await _final(harness, job["job_id"], timeout_s=1) is None  # nothing changed
    assert await control(simulator, "GET", "calls") == []  # nobody's data consulted
    # The job still waits; a decision signed by its own municipality goes through.
    await publish_backoffice(AMQP_URL, "decision", _approve(job, employee="an.employee"))
    final = await _final(harness, job["job_id"])
    assert final is not None and final.outcome is Outcome.DELIVERED
    assert final.decided_by == "approved-by:an.employee"


async def test_a_decision_naming_another_tenant_in_its_body_is_refused(
    harness: HubHarness,
) -> None:
    job = await _parked(harness)
    await publish_backoffice(AMQP_URL, "decision", _approve(job, tenant="antwerpen"))
    dead = await harness.dead_letters(expect=1)
    assert [d.reason for d in dead] == ["decision-wrong-tenant"]
    assert await _final(harness, job["job_id"], timeout_s=1) is None


async def test_antwerpen_cannot_approve_a_gent_job_even_when_signed(
    harness: HubHarness,
) -> None:
    job = await _parked(harness, tenant="gent")
    # Signed correctly, by Antwerpen, on Antwerpen's routing key: not Gent's job to decide.
    await publish_backoffice(AMQP_URL, "decision", _approve(job), tenant="antwerpen")
    dead = await harness.dead_letters(expect=1)
    assert [d.reason for d in dead] == ["decision-wrong-tenant"]
    assert await _final(harness, job["job_id"], timeout_s=1) is None


async def test_a_replayed_employee_action_is_refused(harness: HubHarness) -> None:
    """An employee task takes several actions; the same signed one sent twice counts once."""
    # Antwerpen has no back office for the product: an employee handles it.
    job = job_body("backoffice.forward", WELL_KNOWN["household_head"],
                   {"product": "contact-details", "contact": {"email": "els@example.org"}},
                   tenant="antwerpen")
    await harness.client.publish(job, final=False)
    for _ in range(200):
        if any(r.outcome is Outcome.IN_TREATMENT for r in harness.client.received):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the request was not parked for an employee")
    action = {"job_id": job["job_id"], "decision": "information-requested",
              "information_from": "applicant", "employee": "an.employee", "at": "once"}
    raw = json.dumps(action).encode()
    stamp = int(time.time())
    for _ in range(2):
        await publish_backoffice(AMQP_URL, "decision", raw, tenant="antwerpen",
                                 timestamp=stamp)
    dead = await harness.dead_letters(expect=1)
    assert [d.reason for d in dead] == ["decision-replayed"]
    relayed = [r for r in harness.client.received
               if r.data and r.data.get("action") == "information-requested"]
    assert len(relayed) == 1


async def test_an_unsigned_back_office_action_is_refused(harness: HubHarness) -> None:
    await publish_backoffice(AMQP_URL, "action", {"job_id": "any-job-0001",
                                                  "action": "completed"}, signed=False)
    dead = await harness.dead_letters(expect=1)
    assert [d.reason for d in dead] == ["action-unsigned"]


async def test_approval_tasks_can_have_a_queue_per_tenant(
    simulator: Any, pki: dict[str, KeyPair], tmp_path: Path
) -> None:
    base = hub_settings(simulator, pki, tmp_path)
    settings = dataclasses.replace(base, backoffice=dataclasses.replace(
        BackofficeSettings(), approval_queues="per-tenant"))
    async with running_test_hub(settings) as harness:
        gent = await _parked(harness, "gent")
        antwerpen = await _parked(harness, "antwerpen")
        own = [json.loads(m.body)["job_id"] for m in
               await read_queue(AMQP_URL, topology.approval_queue_name("gent"))]
        other = [json.loads(m.body)["job_id"] for m in
                 await read_queue(AMQP_URL, topology.approval_queue_name("antwerpen"))]
        shared = await read_queue(AMQP_URL, topology.APPROVAL_QUEUE)
    assert own == [gent["job_id"]] and other == [antwerpen["job_id"]] and shared == []
