"""Every employee action on a forwarded request, with a back office (Gent: its own AMQP queue)
and without one (Leuven: the hub's residence check, then an employee task answered through the
decision contract), read where it lands: the front office's reply queue and the DOSIS
simulator, in order. Also: prefill, link and unauthenticated jobs push nothing to a profile."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from hub import topology
from hub.config import Settings
from hub.contract import Outcome, Result
from hub.devpki import KeyPair
from hub.testing import (
    HubHarness,
    job_body,
    make_job,
    publish_backoffice,
    read_queue,
    running_test_hub,
    tenant_secret,
)
from simulators.backoffice import BackofficeSimulatorSettings, start_backoffice_simulator
from simulators.population_data import WELL_KNOWN
from tests.conftest import AMQP_URL
from tests.integration.test_backoffice_prefill_selfreg import CONTACT, _settings
from tests.integration.test_status_push import dosis, dosis_control, pushing

pytestmark = pytest.mark.broker
__all__ = ["dosis"]

GENT_RESIDENT = WELL_KNOWN["mover"]
LEUVEN_RESIDENT = WELL_KNOWN["cohabitant_head"]

# action → (the citizen's status, phase/code, whether it ends the request, its outcome)
ACTIONS: dict[str, tuple[str, str, Outcome]] = {
    "handled-outside": ("backoffice-handled-outside", "Behandeling/InBehandeling",
                        Outcome.DELIVERED),
    "information-requested": ("backoffice-information-needed", "Behandeling/DossierOnvolledig",
                              Outcome.IN_TREATMENT),
    "information-elsewhere": ("backoffice-information-requested-elsewhere",
                              "Behandeling/InBehandeling", Outcome.IN_TREATMENT),
    "completed": ("backoffice-completed", "Afgerond/Goedgekeurd", Outcome.DELIVERED),
    "cancelled": ("backoffice-cancelled", "Afgerond/Stopgezet", Outcome.REJECTED),
}


def forward(subject: str, tenant: str) -> dict[str, Any]:
    return job_body("backoffice.forward", subject,
                    {"product": "contact-details", "contact": CONTACT}, tenant=tenant,
                    product_id=1510)


def step(action: str) -> dict[str, Any]:
    """One action as the back office or the employee sends it."""
    if action == "information-requested":
        return {"action": action, "information_from": "applicant",
                "message": "internal: ask for a copy of the id card"}
    if action == "information-elsewhere":
        return {"action": "information-requested", "information_from": "third-party",
                "message": "internal: ask the previous municipality"}
    return {"action": action}


def script(action: str) -> list[dict[str, Any]]:
    """The action, then "completed" when the action leaves the request open."""
    steps = [step(action)]
    if ACTIONS[action][2] is Outcome.IN_TREATMENT:
        steps.append(step("completed"))
    return steps


def settings_for(simulator: Any, dosis: Any, pki: dict[str, KeyPair], tmp_path: Path) -> Settings:
    return pushing(_settings(simulator, pki, tmp_path), dosis, pki)


async def _results(harness: HubHarness, job_id: str) -> list[Result]:
    for _ in range(600):
        mine = [r for r in harness.client.received if r.job_id == job_id]
        if mine and mine[-1].outcome.final:
            return mine
        await asyncio.sleep(0.05)
    raise AssertionError(f"results so far: {[r.outcome for r in mine]}")


async def _uploads(dosis: Any, dossier: str, count: int) -> list[dict[str, Any]]:
    mine: list[dict[str, Any]] = []
    for _ in range(300):
        mine = [u for u in await dosis_control(dosis, "GET", "dossiers")
                if u["dossier"] == dossier]
        if len(mine) >= count:
            await asyncio.sleep(0.3)  # one more, if any, would land now
            return [u for u in await dosis_control(dosis, "GET", "dossiers")
                    if u["dossier"] == dossier]
        await asyncio.sleep(0.1)
    raise AssertionError(f"{len(mine)} of {count} statuses reached DOSIS")


@asynccontextmanager
async def back_office(secret: bytes, steps: list[dict[str, Any]]) -> AsyncIterator[Any]:
    simulator = await start_backoffice_simulator(BackofficeSimulatorSettings(
        secret=secret, port=0, amqp_url=AMQP_URL, queue="backoffice.contact-details",
        action_delay_ms=300, actions=tuple(steps)))  # type: ignore[arg-type]
    try:
        yield simulator
    finally:
        await simulator.close()


async def _decide(tenant: str, job_id: str, decision: str, **extra: Any) -> None:
    body = {"job_id": job_id, "decision": decision, "employee": "an.employee", **extra}
    await publish_backoffice(AMQP_URL, "decision", body, tenant=tenant)


async def _task(job_id: str) -> dict[str, Any]:
    for _ in range(100):
        for message in await read_queue(AMQP_URL, topology.APPROVAL_QUEUE, idle_s=0.1):
            task: dict[str, Any] = json.loads(message.body)
            if task["job_id"] == job_id:
                return task
        await asyncio.sleep(0.1)
    raise AssertionError("no employee task")


def _pairs(uploads: list[dict[str, Any]]) -> list[str]:
    return [f"{u['vlaams_fase']}/{u['vlaams_code']}" for u in uploads]


def _expected(action: str, *, with_back_office: bool) -> list[str]:
    statuses = ["Samenstelling/Ingediend", "Behandeling/InBehandeling"]
    if with_back_office:
        statuses.append("Behandeling/Ontvankelijk")
    statuses.append(ACTIONS[action][1])
    if ACTIONS[action][2] is Outcome.IN_TREATMENT:
        statuses.append(ACTIONS["completed"][1])
    return statuses


def _check_texts(action: str, uploads: list[dict[str, Any]]) -> None:
    for upload in uploads:
        status = upload["payload"]["Status"]
        assert status["Detail1"] and "internal" not in status["Detail1"]
        assert upload["payload"]["Naam"] == "Wijziging contactgegevens"
    acted = [u["payload"]["Status"]["Actie"] for u in uploads]
    if action == "information-requested":
        assert sum(a is not None for a in acted) == 1  # the applicant's own step only
    else:
        assert all(a is None for a in acted)


@pytest.fixture
async def secret(pki: dict[str, KeyPair]) -> bytes:
    return tenant_secret("gent")  # the hub signs Gent's forwards and checks its actions with it


@pytest.mark.parametrize("action", list(ACTIONS))
async def test_each_action_with_a_back_office(
    simulator: Any, dosis: Any, pki: dict[str, KeyPair], tmp_path: Path, secret: bytes,
    action: str,
) -> None:
    async with AsyncExitStack() as stack:
        harness = await stack.enter_async_context(
            running_test_hub(settings_for(simulator, dosis, pki, tmp_path)))
        await stack.enter_async_context(back_office(secret, [{"action": "received"},
                                                            *script(action)]))
        job = forward(GENT_RESIDENT, "gent")
        await harness.client.publish(job)
        results = await _results(harness, job["job_id"])
        expected = _expected(action, with_back_office=True)
        uploads = await _uploads(dosis, job["dossier_id"], len(expected))
    assert results[0].outcome is Outcome.IN_TREATMENT
    relayed = [r.data["action"] for r in results[1:] if r.data]
    assert relayed == ["received"] + [s["action"] for s in script(action)]
    assert results[-1].outcome is (ACTIONS[action][2] if ACTIONS[action][2]
                                   is not Outcome.IN_TREATMENT else Outcome.DELIVERED)
    # In order, "in-treatment" too: it leaves before the job can be resumed by the back
    # office's first answer.
    assert _pairs(uploads) == expected
    assert len({u["upload_id"] for u in uploads}) == len(uploads)
    _check_texts(action, uploads)


@pytest.mark.parametrize("action", list(ACTIONS))
async def test_each_action_without_a_back_office(
    simulator: Any, dosis: Any, pki: dict[str, KeyPair], tmp_path: Path, action: str,
) -> None:
    async with running_test_hub(settings_for(simulator, dosis, pki, tmp_path)) as harness:
        job = forward(LEUVEN_RESIDENT, "leuven")
        interim = await harness.client.request(job, timeout=30, final=False)
        task = await _task(job["job_id"])
        for taken in script(action):
            fields = {k: v for k, v in taken.items() if k != "action"}
            if taken["action"] == "information-requested":
                fields["applicant_message"] = "Bezorg een kopie van uw identiteitskaart."
            await _decide("leuven", job["job_id"], taken["action"], **fields)
            await asyncio.sleep(0.3)
        results = await _results(harness, job["job_id"])
        expected = _expected(action, with_back_office=False)
        uploads = await _uploads(dosis, job["dossier_id"], len(expected))
    assert interim.outcome is Outcome.IN_TREATMENT
    assert task["task"] == "handle-request"
    assert task["actions"] == ["handled-outside", "information-requested", "completed",
                               "cancelled"]
    assert task["decide_with"]["routing_key"] == "decision.leuven"
    relayed = [r.data["action"] for r in results[1:] if r.data]
    assert relayed == [s["action"] for s in script(action)]
    final = results[-1]
    if action == "cancelled":
        assert final.error is not None and final.error.code == "CANCELLED_BY_EMPLOYEE"
    assert _pairs(uploads) == expected
    assert [u["payload"]["Identificatie"]["bron"] for u in uploads] == \
        ["urn://leuven.be/cs-connector/loket-hub"] * len(expected)
    _check_texts(action, uploads)
    if action == "information-requested":
        asked = next(u for u in uploads if u["payload"]["Status"]["Actie"])
        assert asked["payload"]["Status"]["Detail1"].endswith(
            "Bezorg een kopie van uw identiteitskaart.")


async def test_a_non_resident_without_a_back_office_is_refused_with_the_reason(
    simulator: Any, dosis: Any, pki: dict[str, KeyPair], tmp_path: Path
) -> None:
    async with running_test_hub(settings_for(simulator, dosis, pki, tmp_path)) as harness:
        job = forward(GENT_RESIDENT, "leuven")
        result = await harness.client.request(job, timeout=30)
        uploads = await _uploads(dosis, job["dossier_id"], 2)
    assert result.error is not None and result.error.code == "NOT_RESIDENT"
    assert _pairs(uploads) == ["Samenstelling/Ingediend", "Afgerond/Geweigerd"]
    assert uploads[-1]["payload"]["Status"]["Detail1"].startswith(
        "U woont niet in Stad Leuven.")


async def test_a_second_request_for_information_is_a_second_status(
    simulator: Any, dosis: Any, pki: dict[str, KeyPair], tmp_path: Path
) -> None:
    async with running_test_hub(settings_for(simulator, dosis, pki, tmp_path)) as harness:
        job = forward(LEUVEN_RESIDENT, "leuven")
        await harness.client.request(job, timeout=30, final=False)
        await _task(job["job_id"])
        for number in (1, 2):
            await _decide("leuven", job["job_id"], "information-requested",
                          information_from="applicant", at=f"2026-07-0{number}T10:00:00Z")
            await asyncio.sleep(0.3)
        await _decide("leuven", job["job_id"], "completed")
        await _results(harness, job["job_id"])
        uploads = await _uploads(dosis, job["dossier_id"], 5)
    assert _pairs(uploads).count("Behandeling/DossierOnvolledig") == 2
    assert len({u["upload_id"] for u in uploads}) == 5


async def test_prefill_link_and_unauthenticated_jobs_push_nothing_to_a_profile(
    simulator: Any, dosis: Any, pki: dict[str, KeyPair], tmp_path: Path
) -> None:
    insz = WELL_KNOWN["mover"]
    prefill = job_body("prefill.form", insz, {"question_ids": ["person_requester_1_last_name"],
                                             "claims": {"last_name": "Vermeulen"}})
    link = job_body("usermgmt.self-registration-url", insz, {
        "environment": "test", "kind": "user-right", "application": "45", "target_group": "EA"})
    anonymous = make_job(WELL_KNOWN["single"])
    anonymous["requester"]["authenticated"] = False
    refused_anonymous = make_job(WELL_KNOWN["single"])
    refused_anonymous["requester"]["authenticated"] = False
    accepted_anonymous = make_job(WELL_KNOWN["single"])
    accepted_anonymous["requester"]["authenticated"] = False
    async with running_test_hub(settings_for(simulator, dosis, pki, tmp_path)) as harness:
        for job in (prefill, link):
            assert (await harness.client.request(job, timeout=30)).outcome is Outcome.DELIVERED
        for job in (anonymous, refused_anonymous, accepted_anonymous):
            interim = await harness.client.request(job, timeout=30, final=False)
            assert interim.outcome is Outcome.AWAITING_APPROVAL
        await _decide("gent", refused_anonymous["job_id"], "refuse", reason="no")
        await _decide("gent", accepted_anonymous["job_id"], "approve")
        for job in (refused_anonymous, accepted_anonymous):
            await _results(harness, job["job_id"])
        pushed = await _uploads(dosis, accepted_anonymous["dossier_id"], 1)
        everything = await dosis_control(dosis, "GET", "dossiers")
    # Only what an employee accepted reaches the profile, and only from then on.
    assert _pairs(pushed) == ["Afgerond/Goedgekeurd"]
    assert {u["dossier"] for u in everything} == {accepted_anonymous["dossier_id"]}
