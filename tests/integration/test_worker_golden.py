"""What the worker publishes and acknowledges in each end-to-end scenario, as golden files.

Recorded at aio-pika's edge (every ``Exchange.publish`` and every ack, nack and reject of an
incoming message, whoever makes them: the worker, the front-office client, a back office), so
a change inside the worker is judged by what reaches the broker, not by how it is written.

A record holds the exchange, the routing key, the message id, the message type and the headers
without timestamps, signatures or worker names; the error header is reduced to its code. One
scenario's records are sorted (a result and a status are published side by side), so the file
says *what* happened, not in which order two concurrent publishes reached the wire.

Regenerate deliberately with ``LOKET_UPDATE_GOLDEN=1``, and read the difference.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from aio_pika.exchange import Exchange
from aio_pika.message import IncomingMessage

from hub.contract import Outcome
from hub.devpki import KeyPair
from hub.testing import HubHarness, make_job, publish_backoffice, running_test_hub
from simulators.population_data import WELL_KNOWN
from tests.conftest import AMQP_URL
from tests.integration.test_end_to_end import control, hub_settings

pytestmark = pytest.mark.broker

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "worker"

_VOLATILE = {"x-loket-timestamp", "x-loket-signature", "x-loket-worker", "x-death",
             "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason",
             "x-last-death-exchange", "x-last-death-queue", "x-last-death-reason",
             "x-delivery-count"}


def _headers(headers: Any) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key, value in sorted(dict(headers or {}).items()):
        if key in _VOLATILE:
            continue
        if key == "x-loket-error":
            try:
                value = json.loads(value).get("code")
            except (ValueError, AttributeError):
                value = str(value).split(":")[0]
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        kept[key] = value
    return kept


def _key(routing_key: str) -> str:
    # The front-office client's reply queue is named anew each run (by the broker, or by the
    # client: loket-client.<uuid>, which survives its reconnects).
    return "(reply queue)" if routing_key.startswith(("amq.gen-", "loket-client.")) \
        else routing_key


class Recorder:
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def published(self, exchange: Exchange, message: aio_pika.Message, routing_key: str) -> None:
        self.records.append({
            "op": "publish", "exchange": exchange.name or "(default)",
            "routing_key": _key(routing_key), "message_id": message.message_id,
            "type": message.type, "headers": _headers(message.headers),
        })

    def settled(self, op: str, message: IncomingMessage, **flags: Any) -> None:
        self.records.append({
            "op": op, "exchange": message.exchange or "(default)",
            "routing_key": _key(message.routing_key or ""), "message_id": message.message_id,
            "type": message.type, "headers": _headers(message.headers), **flags,
        })

    def take(self) -> list[dict[str, Any]]:
        records, self.records = self.records, []
        return sorted(records, key=lambda r: json.dumps(r, sort_keys=True))


@contextmanager
def recording(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    recorder = Recorder()
    publish = Exchange.publish
    ack, nack, reject = IncomingMessage.ack, IncomingMessage.nack, IncomingMessage.reject

    async def recorded_publish(self: Exchange, message: aio_pika.Message, routing_key: str,
                               **kwargs: Any) -> Any:
        recorder.published(self, message, routing_key)
        return await publish(self, message, routing_key, **kwargs)

    async def recorded_ack(self: IncomingMessage, multiple: bool = False) -> None:
        recorder.settled("ack", self)
        await ack(self, multiple)

    async def recorded_nack(self: IncomingMessage, multiple: bool = False,
                            requeue: bool = True) -> None:
        recorder.settled("nack", self, requeue=requeue)
        await nack(self, multiple, requeue)

    async def recorded_reject(self: IncomingMessage, requeue: bool = False) -> None:
        recorder.settled("reject", self, requeue=requeue)
        await reject(self, requeue)

    monkeypatch.setattr(Exchange, "publish", recorded_publish)
    monkeypatch.setattr(IncomingMessage, "ack", recorded_ack)
    monkeypatch.setattr(IncomingMessage, "nack", recorded_nack)
    monkeypatch.setattr(IncomingMessage, "reject", recorded_reject)
    yield recorder


def _check(name: str, records: list[dict[str, Any]]) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(records, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("LOKET_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"no golden file {path}: run once with LOKET_UPDATE_GOLDEN=1"
    assert json.loads(text) == json.loads(path.read_text()), f"{name}: see {path}"


async def _settled(recorder: Recorder, until: Callable[[list[dict[str, Any]]], bool],
                   idle_s: float = 0.5) -> None:
    """Wait until ``until`` holds of the records and nothing more happened for ``idle_s``."""
    seen = -1
    for _ in range(400):
        records = recorder.records
        if until(records) and len(records) == seen:
            return
        seen = len(records)
        await asyncio.sleep(idle_s if until(records) else 0.05)
    raise AssertionError(f"the scenario never settled: {recorder.records}")


def _final_published(job_id: str, outcome: str) -> Callable[[list[dict[str, Any]]], bool]:
    def done(records: list[dict[str, Any]]) -> bool:
        return any(r["op"] == "publish" and r["type"] == "loket.result.v1"
                   and r["message_id"] == job_id and r["headers"].get("outcome") == outcome
                   for r in records)
    return done


Scenario = Callable[[HubHarness, Recorder, Any], Awaitable[None]]


async def delivered(harness: HubHarness, recorder: Recorder, simulator: Any) -> None:
    job = make_job(WELL_KNOWN["household_head"], job_id="golden-delivered",
                   dossier_id="DOS-golden-1")
    result = await harness.client.request(job, timeout=30)
    assert result.outcome is Outcome.DELIVERED
    await _settled(recorder, _final_published(job["job_id"], "delivered"))


async def retried(harness: HubHarness, recorder: Recorder, simulator: Any) -> None:
    await control(simulator, "POST", "faults",
                  {"service": "GeefGezinssamenstelling", "kind": "http-500", "times": 1})
    job = make_job(WELL_KNOWN["partner"], job_id="golden-retried", dossier_id="DOS-golden-2")
    result = await harness.client.request(job, timeout=30)
    assert result.outcome is Outcome.DELIVERED and result.attempts == 2
    await _settled(recorder, _final_published(job["job_id"], "delivered"))


async def schema_rejected(harness: HubHarness, recorder: Recorder, simulator: Any) -> None:
    job = make_job(WELL_KNOWN["single"], job_id="golden-schema", dossier_id="DOS-golden-3")
    job["subject"]["identifier"] = "12345678901"  # check digits wrong
    result = await harness.client.request(job, timeout=30)
    assert result.outcome is Outcome.REJECTED
    await _settled(recorder, _final_published(job["job_id"], "rejected"))


async def without_reply_to(harness: HubHarness, recorder: Recorder, simulator: Any) -> None:
    job = make_job(WELL_KNOWN["single"], job_id="golden-no-reply", dossier_id="DOS-golden-4")
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await channel.default_exchange.publish(
            aio_pika.Message(json.dumps(job).encode(), message_id=job["job_id"],
                             content_type="application/json"),
            routing_key="jobs.population")

    def kept(records: list[dict[str, Any]]) -> bool:
        return any(r["op"] == "ack" and r["routing_key"] == "" and r["message_id"]
                   == job["job_id"] and r["exchange"] != "(default)" for r in records)
    await _settled(recorder, kept)


async def approved(harness: HubHarness, recorder: Recorder, simulator: Any) -> None:
    job = make_job(WELL_KNOWN["household_head"], requester=WELL_KNOWN["single"],
                   job_id="golden-approved", dossier_id="DOS-golden-5")
    interim = await harness.client.request(job, timeout=30, final=False)
    assert interim.outcome is Outcome.AWAITING_APPROVAL
    await _settled(recorder, lambda records: any(
        r["op"] == "publish" and r["type"] == "loket.approval-task.v1" for r in records))
    await publish_backoffice(AMQP_URL, "decision", {"job_id": job["job_id"],
                                                    "decision": "approve", "employee": "jan"},
                             message_id="golden-decision-1")
    await _settled(recorder, _final_published(job["job_id"], "delivered"))


async def refused_by_an_employee(harness: HubHarness, recorder: Recorder,
                                 simulator: Any) -> None:
    job = make_job(WELL_KNOWN["household_head"], requester=WELL_KNOWN["single"],
                   job_id="golden-refused", dossier_id="DOS-golden-6")
    await harness.client.request(job, timeout=30, final=False)
    await publish_backoffice(AMQP_URL, "decision", {"job_id": job["job_id"],
                                                    "decision": "refuse", "employee": "jan"},
                             message_id="golden-decision-2")
    await _settled(recorder, _final_published(job["job_id"], "rejected"))


async def unsigned_decision(harness: HubHarness, recorder: Recorder, simulator: Any) -> None:
    job = make_job(WELL_KNOWN["household_head"], requester=WELL_KNOWN["single"],
                   job_id="golden-unsigned", dossier_id="DOS-golden-7")
    await harness.client.request(job, timeout=30, final=False)
    await publish_backoffice(AMQP_URL, "decision", {"job_id": job["job_id"],
                                                    "decision": "approve"},
                             signed=False, message_id="golden-decision-3")

    def kept(records: list[dict[str, Any]]) -> bool:
        return any(r["op"] == "ack" and r["message_id"] == "golden-decision-3"
                   and r["headers"].get("x-loket-dead-reason") for r in records)
    await _settled(recorder, kept)


async def id_conflict(harness: HubHarness, recorder: Recorder, simulator: Any) -> None:
    job = make_job(WELL_KNOWN["household_head"], job_id="golden-conflict",
                   dossier_id="DOS-golden-8")
    await harness.client.request(job, timeout=30)
    other = make_job(WELL_KNOWN["partner"], job_id="golden-conflict", dossier_id="DOS-golden-8")
    result = await harness.client.request(other, timeout=30)
    assert result.error is not None and result.error.code == "JOB_ID_CONFLICT"
    await _settled(recorder, _final_published(job["job_id"], "rejected"))


SCENARIOS: dict[str, Scenario] = {
    "delivered": delivered,
    "retried": retried,
    "schema-rejected": schema_rejected,
    "without-reply-to": without_reply_to,
    "approved": approved,
    "refused-by-an-employee": refused_by_an_employee,
    "unsigned-decision": unsigned_decision,
    "id-conflict": id_conflict,
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_what_the_worker_publishes_and_acknowledges(
    name: str, simulator: Any, pki: dict[str, KeyPair], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with running_test_hub(hub_settings(simulator, pki, tmp_path)) as harness:
        with recording(monkeypatch) as recorder:
            await SCENARIOS[name](harness, recorder, simulator)
            records = recorder.take()
    _check(name, records)
