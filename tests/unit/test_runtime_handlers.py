"""The queue handlers and the acknowledgement policy without a broker: a memory transport, a
real SQLite store, and a pipeline at the edge (what an adapter would answer).

Each test delivers a message as the broker would and asserts how it was settled (ack or
requeue), what was published where, what the store holds and what was counted.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from hub import topology
from hub.backoffice_auth import TenantSecrets, sign_message
from hub.config import Settings, load_settings
from hub.contract import ErrorInfo, Job, Outcome, Result
from hub.errors import BrokerError, SignatureError, TransientError
from hub.metrics import HubMetrics
from hub.pipeline import Processed
from hub.ports import Continuation
from hub.runtime.memory import MemoryDelivery, MemoryTransport
from hub.runtime.settle import settle
from hub.store import open_store
from hub.store.base import OutcomeStore
from hub.testing import job_body, make_job
from hub.worker import Handlers
from simulators.population_data import WELL_KNOWN

SECRET = b"gent-secret-for-tests"
REPLIES = "replies.front-office"


class EdgePipeline:
    """Answers as the adapters would: ``answer(job, attempt, journal)`` decides."""

    job_types = frozenset({"population.attest"})

    def __init__(self, answer: Callable[[Job, int, Any], Processed]) -> None:
        self.answer = answer
        self.calls: list[tuple[str, int]] = []

    async def process(self, job: Job, attempt: int, journal: Any = None,
                      announce: Any = None) -> Processed:
        self.calls.append((job.job_id, attempt))
        return self.answer(job, attempt, journal)


def delivered(job: Job, attempt: int, journal: Any) -> Processed:
    return Processed(Result.for_job(job, Outcome.DELIVERED, attempts=attempt))


@dataclasses.dataclass
class Runtime:
    handlers: Handlers
    transport: MemoryTransport
    store: OutcomeStore
    metrics: HubMetrics
    pipeline: EdgePipeline

    async def job(self, delivery: MemoryDelivery) -> MemoryDelivery:
        await settle("job", delivery, self.handlers.publisher,
                     lambda: self.handlers.jobs.handle(delivery))
        return delivery

    async def decision(self, delivery: MemoryDelivery) -> MemoryDelivery:
        await settle("decision", delivery, self.handlers.publisher,
                     lambda: self.handlers.decisions.handle(delivery))
        return delivery

    def results(self) -> list[Result]:
        return [Result.from_json(m.body) for m in self.transport.to("", REPLIES)]

    def statuses(self) -> list[str]:
        return [json.loads(m.body)["status"]
                for m in self.transport.to(topology.STATUS_EXCHANGE)]

    def dead(self) -> list[str]:
        return [m.headers[topology.DEAD_REASON_HEADER]
                for m in self.transport.to(topology.DEAD_LETTER_EXCHANGE)]

    def counted(self, outcome: str, job_type: str = "population.attest") -> float:
        return self.metrics.registry.get_sample_value(
            "loket_jobs_total", {"type": job_type, "outcome": outcome}) or 0.0


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    base = load_settings(environ={})
    return dataclasses.replace(
        base,
        broker=dataclasses.replace(base.broker, retry_delays_s=(0.2, 0.4),
                                   poll_delays_s=(0.5,)),
        store=dataclasses.replace(base.store, url=f"sqlite:///{tmp_path}/hub.db",
                                  claim_lease_s=5),
    )


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Callable[..., Runtime]]:
    store = await open_store(settings.store.url)

    def build(answer: Callable[[Job, int, Any], Processed] = delivered) -> Runtime:
        metrics = HubMetrics()
        pipeline = EdgePipeline(answer)
        handlers = Handlers(settings, pipeline=pipeline,  # type: ignore[arg-type]
                            store=store, capabilities=["population"], worker_id="w-1",
                            metrics=metrics, secrets=TenantSecrets({"gent": SECRET}),
                            status_pusher=None)
        transport = MemoryTransport()
        handlers.publisher.bind(transport)
        return Runtime(handlers, transport, store, metrics, pipeline)

    try:
        yield build
    finally:
        await store.close()


def job_message(job: dict[str, Any], **properties: Any) -> MemoryDelivery:
    """As a front office publishes it: on loket.jobs, the routing key its type."""
    return MemoryDelivery(**{"body": json.dumps(job).encode(), "message_id": job["job_id"],
                             "reply_to": REPLIES, "correlation_id": "c-1",
                             "exchange": topology.JOBS_EXCHANGE, "routing_key": job["type"],
                             **properties})


@pytest.mark.parametrize(("exchange", "routing_key"), [
    (topology.JOBS_EXCHANGE, "population.attest"),  # the body says prefill.form
    ("", "jobs.population"),  # straight into another type's queue
])
async def test_a_job_whose_routing_key_disagrees_with_its_type_is_refused(
    runtime: Any, exchange: str, routing_key: str
) -> None:
    rt: Runtime = runtime()
    job = job_body("prefill.form", WELL_KNOWN["single"],
                   {"question_ids": ["person_requester_1_street"], "claims": {}})
    delivery = await rt.job(job_message(job, exchange=exchange, routing_key=routing_key))
    assert delivery.settled == "ack"
    [result] = rt.results()
    assert result.outcome is Outcome.REJECTED and result.error is not None
    assert result.error.code == "ROUTING_KEY_MISMATCH" and not result.error.retryable
    assert result.error.details == {"routing_key": routing_key, "type": "prefill.form"}
    assert rt.pipeline.calls == []
    # The job id stays free: the same job sent the right way is done.
    assert await rt.store.result(job["job_id"]) is None
    right = await rt.job(job_message(make_job(WELL_KNOWN["single"], job_id=job["job_id"])))
    assert right.settled == "ack" and rt.results()[-1].outcome is Outcome.DELIVERED


async def test_a_job_is_answered_stored_counted_and_acknowledged(runtime: Any) -> None:
    rt: Runtime = runtime()
    job = make_job(WELL_KNOWN["household_head"])
    delivery = await rt.job(job_message(job))
    assert delivery.settled == "ack"
    assert [r.outcome for r in rt.results()] == [Outcome.DELIVERED]
    assert rt.statuses() == ["received", "delivered"]
    assert await rt.store.result(job["job_id"]) is not None
    assert rt.counted("delivered") == 1
    # A redelivery (its ack was lost) is answered already: nothing sent, nothing counted.
    again = await rt.job(job_message(job, redelivered=True))
    assert again.settled == "ack" and len(rt.results()) == 1 and rt.counted("delivered") == 1
    # The front office asking again gets the same bytes, and the pipeline is not called.
    asked = await rt.job(job_message(job))
    replies = rt.transport.to("", REPLIES)
    assert asked.settled == "ack" and replies[0].body == replies[1].body
    assert rt.pipeline.calls == [(job["job_id"], 1)]


async def test_an_unreadable_body_gets_one_refusal_counted_once(runtime: Any) -> None:
    rt: Runtime = runtime()
    for _ in range(2):
        delivery = await rt.job(MemoryDelivery(body=b'{"job_id": "x-1", "type": "nope"',
                                               message_id="x-1", reply_to=REPLIES))
        assert delivery.settled == "ack"
    first, second = rt.transport.to("", REPLIES)
    assert first.body == second.body
    assert Result.from_json(first.body).error.code == "MALFORMED_JSON"  # type: ignore[union-attr]
    # Counted as a rejected job, once, under a type label it could not make up.
    assert rt.counted("rejected", "unknown") == 1
    assert rt.pipeline.calls == []


async def test_a_job_without_reply_to_is_dead_lettered_before_any_back_end(
    runtime: Any
) -> None:
    rt: Runtime = runtime()
    job = make_job(WELL_KNOWN["single"])
    delivery = await rt.job(job_message(job, reply_to=None))
    assert delivery.settled == "ack"
    assert rt.dead() == ["no-reply-to"]
    (letter,) = rt.transport.to(topology.DEAD_LETTER_EXCHANGE)
    assert json.loads(letter.headers[topology.ERROR_HEADER])["code"] == "REPLY_TO_MISSING"
    assert rt.pipeline.calls == []


async def test_a_transient_failure_goes_to_the_retry_queue_of_its_attempt(
    runtime: Any
) -> None:
    def flaky(job: Job, attempt: int, journal: Any) -> Processed:
        if attempt < 3:
            raise TransientError("MAGDA answered 503", code="BACKEND_UNAVAILABLE")
        return delivered(job, attempt, journal)

    rt: Runtime = runtime(flaky)
    job = make_job(WELL_KNOWN["partner"])
    delivery = await rt.job(job_message(job))
    assert delivery.settled == "ack"
    (copy,) = rt.transport.to("", "retry.population.1.200ms")
    assert copy.headers[topology.ATTEMPT_HEADER] == 2
    assert copy.headers[topology.ERROR_HEADER].startswith("BACKEND_UNAVAILABLE")
    # The copy comes back from its delay queue; the last retry queue is the second.
    second = await rt.job(MemoryDelivery.copy(delivery, copy))
    (copy2,) = rt.transport.to("", "retry.population.2.400ms")
    assert second.settled == "ack" and rt.results() == []
    third = await rt.job(MemoryDelivery.copy(second, copy2))
    assert third.settled == "ack"
    assert [(r.outcome, r.attempts) for r in rt.results()] == [(Outcome.DELIVERED, 3)]


async def test_retries_exhausted_fail_the_job_once(runtime: Any) -> None:
    def down(job: Job, attempt: int, journal: Any) -> Processed:
        raise TransientError("no answer", code="BACKEND_TIMEOUT")

    rt: Runtime = runtime(down)
    job = make_job(WELL_KNOWN["partner"])
    delivery = job_message(job, headers={topology.ATTEMPT_HEADER: 3})
    await rt.job(delivery)
    assert delivery.settled == "ack"
    assert [r.outcome for r in rt.results()] == [Outcome.FAILED]
    assert rt.counted("failed") == 1


async def test_a_defect_in_the_pipeline_ends_in_a_failed_answer_and_a_dead_letter(
    runtime: Any
) -> None:
    def broken(job: Job, attempt: int, journal: Any) -> Processed:
        raise RecursionError("deep")

    rt: Runtime = runtime(broken)
    job = make_job(WELL_KNOWN["single"])
    delivery = await rt.job(job_message(job))
    assert delivery.settled == "ack"
    (result,) = rt.results()
    assert result.outcome is Outcome.FAILED and result.error is not None
    assert result.error.code == "INTERNAL_ERROR"
    assert rt.dead() == ["crashed"]
    # The claim is not left held: the job is done.
    claim = await rt.store.claim(job["job_id"], "probe", 5)
    assert claim.state.value == "done"


async def test_a_broker_that_fails_a_publish_leaves_the_message_for_redelivery(
    runtime: Any
) -> None:
    rt: Runtime = runtime()
    job = make_job(WELL_KNOWN["single"])
    rt.transport.failing = BrokerError("publish not confirmed")
    delivery = await rt.job(job_message(job))
    assert delivery.settled == "requeue"
    # The redelivery replays the stored result: one pipeline call, one answer.
    rt.transport.failing = None
    again = await rt.job(job_message(job, redelivered=True))
    assert again.settled == "ack"
    assert [r.outcome for r in rt.results()] == [Outcome.DELIVERED]
    assert rt.pipeline.calls == [(job["job_id"], 1)]
    assert rt.counted("delivered") == 1


async def test_a_gone_reply_queue_sends_the_result_to_the_dead_letters(runtime: Any) -> None:
    rt: Runtime = runtime()
    rt.transport.unroutable.add(REPLIES)
    job = make_job(WELL_KNOWN["single"])
    delivery = await rt.job(job_message(job))
    assert delivery.settled == "ack"
    (letter,) = rt.transport.to(topology.DEAD_LETTER_EXCHANGE)
    assert letter.headers[topology.DEAD_REASON_HEADER] == "unroutable-result"
    assert json.loads(letter.headers[topology.ERROR_HEADER])["code"] == "REPLY_QUEUE_MISSING"


async def test_any_exception_in_a_handler_requeues_and_never_acks(runtime: Any) -> None:
    rt: Runtime = runtime()

    async def crashing() -> Any:
        raise KeyError("a defect")

    delivery = MemoryDelivery(body=b"{}")
    assert (await settle("job", delivery, rt.handlers.publisher, crashing)).value == "requeue"
    assert delivery.settled == "requeue"


def needs_approval(job: Job, attempt: int, journal: Any) -> Processed:
    if journal and journal.get("approved"):
        return Processed(Result.for_job(job, Outcome.DELIVERED, attempts=attempt,
                                        decided_by="approved-by:jan"))
    return Processed(
        Result.for_job(job, Outcome.AWAITING_APPROVAL, attempts=attempt, error=ErrorInfo(
            "APPROVAL_REQUIRED", "someone else", False, {"rule": "third-party"})),
        Continuation(journal={"awaiting": "approval", "rule": "third-party"},
                     poll_after_s=None, note="someone else"))


def decision(job_id: str, verdict: str, *, secret: bytes | None = SECRET,
             tenant: str = "gent") -> MemoryDelivery:
    body = json.dumps({"job_id": job_id, "decision": verdict, "employee": "jan"}).encode()
    headers = sign_message(body, secret) if secret else {}
    return MemoryDelivery(body=body, headers=dict(headers), routing_key=f"decision.{tenant}",
                          exchange=topology.BACKOFFICE_EXCHANGE, message_id=f"d-{verdict}")


async def test_an_approved_job_is_counted_when_it_is_answered(runtime: Any) -> None:
    rt: Runtime = runtime(needs_approval)
    job = make_job(WELL_KNOWN["household_head"], requester=WELL_KNOWN["single"])
    await rt.job(job_message(job))
    (task,) = rt.transport.to(topology.BACKOFFICE_EXCHANGE)
    assert task.type == "loket.approval-task.v1"
    assert json.loads(task.body)["rule"] == "third-party"
    assert rt.counted("delivered") == 0
    approval = await rt.decision(decision(job["job_id"], "approve"))
    assert approval.settled == "ack"
    assert [r.outcome for r in rt.results()] == [Outcome.AWAITING_APPROVAL, Outcome.DELIVERED]
    assert rt.statuses() == ["received", "awaiting-approval", "delivered"]
    # The approved job is counted, once (it was not before the worker was split).
    assert rt.counted("delivered") == 1


async def test_unsigned_or_foreign_decisions_are_dead_lettered_with_their_reason(
    runtime: Any
) -> None:
    rt: Runtime = runtime(needs_approval)
    job = make_job(WELL_KNOWN["household_head"], requester=WELL_KNOWN["single"])
    await rt.job(job_message(job))
    unsigned = await rt.decision(decision(job["job_id"], "approve", secret=None))
    forged = await rt.decision(decision(job["job_id"], "approve", secret=b"guessed"))
    other = await rt.decision(decision(job["job_id"], "approve", tenant="antwerpen"))
    assert [d.settled for d in (unsigned, forged, other)] == ["ack"] * 3
    assert rt.dead() == ["decision-unsigned", "decision-bad-signature",
                         "decision-unknown-tenant"]
    assert [r.outcome for r in rt.results()] == [Outcome.AWAITING_APPROVAL]
    # The job still waits, and a signed refusal ends it.
    refusal = await rt.decision(decision(job["job_id"], "refuse"))
    assert refusal.settled == "ack"
    assert rt.results()[-1].error.code == "REFUSED_BY_EMPLOYEE"  # type: ignore[union-attr]
    assert rt.counted("rejected") == 1


async def test_a_job_rabbitmq_gave_up_on_gets_its_one_failed_answer(runtime: Any) -> None:
    """Dead-lettered by RabbitMQ itself at the delivery limit (no header of ours): kept as a
    dead letter, and the job still gets its final answer, DELIVERY_LIMIT, counted once."""
    rt: Runtime = runtime()
    job = make_job(WELL_KNOWN["single"])
    letter = job_message(job, exchange=topology.DEAD_LETTER_EXCHANGE, routing_key="", headers={
        "x-first-death-reason": "delivery_limit", "x-first-death-queue": "jobs.population"})
    await settle("dead-letter", letter, rt.handlers.publisher,
                 lambda: rt.handlers.dead_letters.handle(letter))
    assert letter.settled == "ack"
    [result] = rt.results()
    assert result.outcome is Outcome.FAILED and result.error is not None
    assert result.error.code == "DELIVERY_LIMIT" and not result.error.retryable
    assert rt.statuses() == ["failed"]
    assert rt.counted("failed") == 1
    [stored] = await rt.store.dead_letters()
    assert stored.reason == "delivery_limit"
    assert json.loads(stored.error or "{}")["code"] == "DELIVERY_LIMIT"
    assert rt.pipeline.calls == []


async def test_a_document_that_cannot_be_signed_fails_and_is_dead_lettered(
    runtime: Any
) -> None:
    """The signer raises SignatureError (a defect on our side: a broken key, a signature that
    does not verify after signing): the job fails with SIGNATURE_ERROR, not retried, and an
    operator gets the message in the dead letters (reason our-fault)."""
    def unsigned(job: Job, attempt: int, journal: Any) -> Processed:
        raise SignatureError("XML signature does not verify: Digest mismatch for reference 0")

    rt: Runtime = runtime(unsigned)
    delivery = await rt.job(job_message(make_job(WELL_KNOWN["single"])))
    assert delivery.settled == "ack"
    [result] = rt.results()
    assert result.outcome is Outcome.FAILED and result.error is not None
    assert result.error.code == "SIGNATURE_ERROR" and not result.error.retryable
    assert rt.dead() == ["our-fault"]
    assert rt.pipeline.calls == [(result.job_id, 1)]
