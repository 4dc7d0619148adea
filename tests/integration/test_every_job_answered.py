"""Every job answered, whatever its bytes and whatever fails on the way: exactly one final
result (or, without a reply_to, one dead letter) per message, in bounded time, and the worker
goes on. Real broker, worker, MAGDA simulator and SQLite store.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aio_pika
import aiohttp
import pytest
from aio_pika.exceptions import ChannelInvalidStateError
from aio_pika.message import IncomingMessage

from hub.contract import Outcome, Result
from hub.devpki import KeyPair
from hub.errors import BrokerError
from hub.testing import HubHarness, make_job, running_test_hub
from simulators.population_data import WELL_KNOWN
from tests.conftest import AMQP_URL
from tests.integration.test_admin import TOKEN, admin  # noqa: F401 - the fixture
from tests.integration.test_end_to_end import hub_settings

pytestmark = pytest.mark.broker


@pytest.fixture
async def harness(simulator: Any, pki: dict[str, KeyPair], tmp_path: Path) -> Any:
    async with running_test_hub(hub_settings(simulator, pki, tmp_path)) as harness:
        yield harness


def _fail_once(owner: Any, name: str, error: BaseException,
               monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make ``owner.name`` raise ``error`` on its first call; returns the call counter."""
    original: Callable[..., Awaitable[Any]] = getattr(owner, name)
    calls = [0]

    async def failing(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == 1:
            raise error
        return await original(*args, **kwargs)

    monkeypatch.setattr(owner, name, failing)
    return calls


async def _finals(harness: HubHarness, job_id: str, settle_s: float = 1.0) -> set[bytes]:
    """The distinct final results that reached the front office for ``job_id``."""
    for _ in range(600):
        if any(r.job_id == job_id and r.outcome.final for r in harness.client.received):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(settle_s)  # long enough for a second, different answer to show
    return {b for b, r in zip(harness.client.received_bodies, harness.client.received,
                              strict=True) if r.job_id == job_id and r.outcome.final}


STEPS = {
    # where: (object, method) on the running hub; the error it raises once
    "claim": ("store", "claim", RuntimeError("store down at claim")),
    "audit-close": ("store", "abandon_open_consultations", OSError("disk gone")),
    "pipeline": ("pipeline", "process", UnicodeEncodeError("utf-8", "\ud800", 0, 1, "x")),
    "adapter": ("adapter", "handle", RecursionError("deep")),
    "store-result": ("store", "complete", RuntimeError("store down at complete")),
    "publish-result": ("publisher", "result", BrokerError("reply not confirmed")),
    "publish-status": ("publisher", "status", RuntimeError("status exchange gone")),
    "mark-published": ("store", "mark_published", RuntimeError("store down at mark")),
    # aio-pika's own message: the channel is gone when the worker acknowledges.
    "ack": ("message", "ack", ChannelInvalidStateError("channel closed at ack")),
}


@pytest.mark.parametrize("step", list(STEPS))
async def test_an_exception_at_any_step_ends_in_one_final_answer(
    harness: HubHarness, step: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    where, name, error = STEPS[step]
    owner = {"store": harness.hub.store, "publisher": harness.hub.worker.publisher,
             "pipeline": harness.hub.pipeline, "message": IncomingMessage,
             "adapter": harness.hub.registry.for_type("population.attest")}[where]
    calls = _fail_once(owner, name, error, monkeypatch)
    job = make_job(WELL_KNOWN["household_head"])
    await harness.client.publish(job)
    finals = await _finals(harness, job["job_id"])
    assert calls[0] >= 1, "the step was never reached"
    assert len(finals) == 1, [Result.from_json(b).outcome for b in finals]
    outcome = Result.from_json(next(iter(finals))).outcome
    # A defect inside the attempt fails the job (dead-lettered for an operator); a failure
    # around it is retried from the broker's redelivery and the job is delivered.
    assert outcome is (Outcome.FAILED if where in {"pipeline", "adapter"}
                       else Outcome.DELIVERED)
    if outcome is Outcome.FAILED:
        dead = await harness.dead_letters(expect=1)
        assert [d.reason for d in dead] == ["crashed"]
    # Nothing left held: the job is done, and the next job goes through.
    claim = await harness.hub.store.claim(job["job_id"], "probe", 5)
    assert claim.state.value == "done"
    other = await harness.client.request(make_job(WELL_KNOWN["single"]), timeout=30)
    assert other.outcome is Outcome.DELIVERED


ODD = ["\x00", "\ud800", "\udfff", "\x1b", "\u202e", "\ufeff", "\u0085", "\U0001f600", "\\",
       '"', "\n", "\u2028", "é"]
FIELDS = [("job_id",), ("type",), ("tenant",), ("dossier_id",), ("purpose",), ("created_at",),
          ("requester", "identifier"), ("requester", "capacity"), ("subject", "identifier"),
          ("subject", "kind"), ("parameters", "attest")]


def _bodies(rng: random.Random) -> list[bytes]:
    """Random bytes, deep nesting, and valid jobs with an odd character in each string."""
    bodies = [rng.randbytes(rng.randint(0, 200)) for _ in range(6)]
    bodies += [b"[" * depth + b"]" * depth for depth in (17, 1000, 100_000)]
    bodies += [b'{"a":' * 5000 + b"1" + b"}" * 5000, b"", b"null", b"\"\\ud800\"",
               b'{"job_id": "x\\u0000y"}']
    for path in FIELDS:
        for char in rng.sample(ODD, 3):
            job = make_job(WELL_KNOWN["single"], purpose="fuzz",
                           created_at="2026-11-24T10:00:00Z")
            node = job
            for step in path[:-1]:
                node = node[step]
            node[path[-1]] = f"{node[path[-1]]}{char}"
            bodies.append(json.dumps(job).encode())
    return bodies


async def test_any_body_gets_exactly_one_final_answer_or_one_dead_letter(
    admin: tuple[HubHarness, str],  # noqa: F811
) -> None:
    harness, base = admin
    bodies = _bodies(random.Random(20261203))
    with_reply = {}
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange("loket.jobs")
        for index, body in enumerate(bodies):
            if index % 4 == 3:  # a quarter without reply_to: those end in the dead letters
                await exchange.publish(aio_pika.Message(body, message_id=f"noreply-{index}"),
                                       routing_key="population.attest")
            else:
                correlation = str(uuid.uuid4())
                with_reply[correlation] = body
                # message_id: the body's job_id where it has one (as a front office sends it)
                await harness.client.publish(body, correlation_id=correlation)
    expected_dead = len(bodies) - len(with_reply)
    answered: dict[str, int] = {}
    for _ in range(1200):  # bounded: one minute at most
        answered = {}
        for result in harness.client.received:
            if result.outcome.final:
                answered[result.job_id or ""] = answered.get(result.job_id or "", 0) + 1
        letters = await harness.hub.store.dead_letters()
        if sum(answered.values()) >= len(with_reply) and len(letters) >= expected_dead:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)
    finals = [r for r in harness.client.received if r.outcome.final]
    assert len(finals) == len(with_reply), "not every message with a reply_to was answered once"
    letters = await harness.hub.store.dead_letters()
    assert sorted(d.message_id or "" for d in letters) == sorted(
        f"noreply-{i}" for i in range(len(bodies)) if i % 4 == 3)
    for letter in letters:
        headers = json.loads(letter.headers)
        assert headers["x-loket-dead-reason"] in {"unreadable", "no-reply-to"}
        assert json.loads(headers["x-loket-error"])["code"]
    # The operator sees every one of them, however odd its body.
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession(headers=auth) as http:
        listed = await (await http.get(f"{base}/api/dead-letters?limit=1000")).json()
        assert sorted(d["id"] for d in listed["letters"]) == sorted(d.id for d in letters)
        for letter in letters:
            shown = await http.get(f"{base}/api/dead-letters/{letter.id}")
            assert shown.status == 200, await shown.text()
    # The worker still serves.
    result = await harness.client.request(make_job(WELL_KNOWN["single"]), timeout=30)
    assert result.outcome is Outcome.DELIVERED
