"""Dead letters through the admin API: kept, shown, replayed (processed anew), discarded."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from hub.contract import Outcome
from hub.testing import HubHarness, make_job
from simulators.population_data import WELL_KNOWN
from tests.integration.test_admin import TOKEN, admin  # noqa: F401 - the fixture
from tests.integration.test_end_to_end import control

pytestmark = pytest.mark.broker
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


async def _api(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http:
        reply = await http.request(method, url, headers=HEADERS, json=body)
        return reply.status, await reply.json()


async def _our_fault(harness: HubHarness, simulator: Any) -> dict[str, Any]:
    await control(simulator, "POST", "faults", {
        "service": "GeefGezinssamenstelling", "kind": "soap-fault", "times": 1,
        "faultstring": "10001 - Fout formaat in de vraag"})
    job = make_job(WELL_KNOWN["single"])
    result = await harness.client.request(job, timeout=30)
    assert result.outcome is Outcome.FAILED
    assert result.error is not None and result.error.code == "BACKEND_REQUEST_INVALID"
    return job


async def test_a_dead_letter_replayed_from_the_api_is_processed(
    admin: tuple[HubHarness, str], simulator: Any  # noqa: F811
) -> None:
    harness, base = admin
    job = await _our_fault(harness, simulator)
    (letter,) = await harness.dead_letters(expect=1)
    status, listed = await _api("GET", f"{base}/api/dead-letters")
    assert status == 200 and listed["total"] == 1 and listed["next"] is None
    assert [(d["id"], d["reason"], d["job_type"]) for d in listed["letters"]] == [
        (letter.id, "our-fault", "population.attest")]
    status, shown = await _api("GET", f"{base}/api/dead-letters/{letter.id}")
    assert job["job_id"] in shown["body"] and "BACKEND_REQUEST_INVALID" in shown["error"]
    status, replayed = await _api("POST", f"{base}/api/dead-letters/{letter.id}/replay")
    assert (status, replayed) == (200, {"replayed": [letter.id]})
    for _ in range(200):
        outcomes = [r.outcome for r in harness.client.received if r.job_id == job["job_id"]]
        if Outcome.DELIVERED in outcomes:
            break
        await asyncio.sleep(0.05)
    assert outcomes == [Outcome.FAILED, Outcome.DELIVERED]
    (after,) = await harness.hub.store.dead_letters()
    assert (after.state, after.handled_by) == ("replayed", "anne")
    status, _ = await _api("POST", f"{base}/api/dead-letters/{letter.id}/replay")
    assert status == 409


async def test_discard_and_replay_all(
    admin: tuple[HubHarness, str], simulator: Any  # noqa: F811
) -> None:
    harness, base = admin
    await _our_fault(harness, simulator)
    await _our_fault(harness, simulator)
    first, second = await harness.dead_letters(expect=2)
    status, _ = await _api("POST", f"{base}/api/dead-letters/{first.id}/discard")
    assert status == 200
    status, body = await _api("POST", f"{base}/api/dead-letters/replay", {"reason": "our-fault"})
    assert body == {"replayed": [second.id], "skipped": []}
    states = {d.id: d.state for d in await harness.hub.store.dead_letters()}
    assert states == {first.id: "discarded", second.id: "replayed"}


async def test_a_letter_whose_cause_is_not_retryable_goes_back_only_when_forced(
    admin: tuple[HubHarness, str]  # noqa: F811
) -> None:
    """A job with a wrong INSZ and no reply_to is kept as a dead letter (INVALID_INSZ, not
    retryable). Replayed it would fail the same way and come back: refused (409, forceable)
    unless forced; forced, it does come back, and its history shows the first letter."""
    harness, base = admin
    job = make_job("46061400106")
    await harness.client.publish(job, reply=False)
    (first,) = await harness.dead_letters(expect=1)
    status, shown = await _api("GET", f"{base}/api/dead-letters/{first.id}")
    assert shown["cause"] == {"code": "INVALID_INSZ", "retryable": False}
    assert shown["needs_force"] is True and shown["history"] == []
    status, refused = await _api("POST", f"{base}/api/dead-letters/{first.id}/replay")
    assert status == 409 and refused["forceable"] is True
    assert "not retryable" in refused["error"]
    status, body = await _api("POST", f"{base}/api/dead-letters/replay", {})
    assert body["replayed"] == [] and [s["id"] for s in body["skipped"]] == [first.id]
    status, forced = await _api("POST", f"{base}/api/dead-letters/{first.id}/replay",
                                {"force": True})
    assert (status, forced) == (200, {"replayed": [first.id]})
    _, again = await harness.dead_letters(expect=2)
    assert again.message_id == job["job_id"] and again.reason == "unreadable"
    status, shown = await _api("GET", f"{base}/api/dead-letters/{again.id}")
    assert [(h["id"], h["state"], h["handled_by"]) for h in shown["history"]] == [
        (first.id, "replayed", "anne")]
    # Paging: one letter a page, newest first, then the next page, then none.
    status, page = await _api("GET", f"{base}/api/dead-letters?limit=1")
    assert [d["id"] for d in page["letters"]] == [again.id]
    assert page["total"] == 2 and page["next"] == again.id
    status, page = await _api("GET", f"{base}/api/dead-letters?limit=1&before={page['next']}")
    assert [d["id"] for d in page["letters"]] == [first.id] and page["next"] is None
