"""Jobs through a real RabbitMQ, a real worker, the MAGDA simulator over SOAP and a real store."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aio_pika
import aiohttp
import pytest

from hub import topology
from hub.config import (
    BackendSettings,
    Settings,
    SigningSettings,
    load_settings,
    load_tenants,
    resolve_path,
)
from hub.contract import Outcome
from hub.devpki import KeyPair
from hub.documents import external
from hub.documents.verify import verify_document
from hub.messages import StatusEvent
from hub.testing import HubHarness, job_body, make_job, running_test_hub
from simulators.population_data import WELL_KNOWN
from tests.conftest import AMQP_URL

pytestmark = pytest.mark.broker

RETRY_DELAYS = (0.2, 0.4)
# The shipped tenants sign with their own certificates from the development CA (B-LT).
TENANT_CA = resolve_path(load_tenants(Settings().tenants_dir)["gent"].signing.trust_roots)
POLL_DELAYS = (0.2, 0.5)


def hub_settings(sim: Any, pki: dict[str, KeyPair], tmp_path: Path, **backend: Any) -> Settings:
    base = load_settings(environ={})
    return dataclasses.replace(
        base,
        broker=dataclasses.replace(
            base.broker, url=AMQP_URL, retry_delays_s=RETRY_DELAYS, shutdown_grace_s=5.0,
            poll_delays_s=POLL_DELAYS,
        ),
        store=dataclasses.replace(base.store, url=f"sqlite:///{tmp_path}/hub.db", claim_lease_s=5),
        magda=dataclasses.replace(
            base.magda,
            base_url=sim.base_url,
            signing_key=pki["magda-client"].key,
            signing_cert=pki["magda-client"].cert,
        ),
        documents=dataclasses.replace(
            base.documents,
            signing=SigningSettings(
                key=str(pki["document-signing"].key), cert=str(pki["document-signing"].cert)
            ),
            pool_mode="thread",
        ),
        backends={"population": BackendSettings(**({"total_timeout_s": 2.0} | backend))},
    )


@pytest.fixture
async def harness(
    simulator: Any, pki: dict[str, KeyPair], tmp_path: Path
) -> AsyncIterator[HubHarness]:
    async with running_test_hub(hub_settings(simulator, pki, tmp_path)) as harness:
        yield harness


async def control(sim: Any, method: str, path: str, body: Any = None) -> Any:
    async with aiohttp.ClientSession() as http:
        reply = await http.request(method, f"{sim.base_url}/_control/{path}", json=body)
        assert reply.status < 300, await reply.text()
        return await reply.json() if reply.content_type == "application/json" else None


async def test_round_trip_for_a_known_citizen(
    harness: HubHarness, pki: dict[str, KeyPair], tmp_path: Path
) -> None:
    job = make_job(WELL_KNOWN["household_head"])
    result = await harness.client.request(job, timeout=30)
    assert result.outcome is Outcome.DELIVERED, result.error
    assert result.job_id == job["job_id"]
    assert result.dossier_id == job["dossier_id"]
    assert result.backend_reference
    xml, pdf = result.documents
    assert (xml.media_type, pdf.media_type) == ("application/xml", "application/pdf")
    assert b"<Kind>household-composition</Kind>" in xml.content
    assert external.available()
    for document in (xml, pdf):
        path = tmp_path / document.file_name
        path.write_bytes(document.content)
        assert TENANT_CA is not None
        ok, said = (external.pdfsig_verify(path) if document.media_type == "application/pdf"
                    else external.xmlsec1_verify(path, TENANT_CA))
        assert ok, said
        # Blocking (pyHanko runs its own event loop): off this test's loop.
        report = await asyncio.to_thread(verify_document, document.content, trusted=[TENANT_CA])
        assert (report.valid, report.level) == (True, "B-LT"), report.reason
        assert report.signer.startswith("CN=Stad Gent document signing")
    # A status event was confirmed before the job was acked.
    events = await harness.status_events()
    assert [(e["job_id"], e["status"]) for e in events] == [
        (job["job_id"], "received"), (job["job_id"], "delivered"),
    ]
    assert events[0]["product_id"] == 1473
    assert len({e["event_id"] for e in events}) == 2


async def test_a_tsa_that_is_down_retries_the_job_and_never_delivers_unstamped(
    harness: HubHarness,
) -> None:
    assert harness.pki is not None
    harness.pki.set_down("tsa")
    try:
        result = await harness.client.request(make_job(WELL_KNOWN["household_head"]), timeout=30)
    finally:
        harness.pki.set_down("tsa", False)
    assert result.outcome is Outcome.FAILED
    assert result.error is not None and result.error.code == "TIMESTAMP_UNAVAILABLE"
    assert result.error.retryable
    assert result.attempts == 1 + len(RETRY_DELAYS) and not result.documents


async def test_unknown_citizen_is_rejected(harness: HubHarness) -> None:
    result = await harness.client.request(make_job(WELL_KNOWN["unknown"]), timeout=30)
    assert result.outcome is Outcome.REJECTED
    assert result.error is not None
    assert result.error.code == "SUBJECT_UNKNOWN"
    assert result.error.retryable is False
    assert result.error.details["magda_code"] == "30001"  # MAGDA: no data found
    assert result.documents == ()


async def test_one_fault_then_success_is_delivered_after_a_retry(
    harness: HubHarness, simulator: Any
) -> None:
    insz = WELL_KNOWN["partner"]
    await control(simulator, "POST", "faults",
                  {"service": "GeefGezinssamenstelling", "kind": "http-500", "times": 1})
    result = await harness.client.request(make_job(insz), timeout=30)
    assert result.outcome is Outcome.DELIVERED
    assert result.attempts == 2
    calls = await control(simulator, "GET", "calls")
    assert len(calls) == 2


async def test_permanent_timeouts_fail_after_the_last_retry(
    simulator: Any, pki: dict[str, KeyPair], tmp_path: Path
) -> None:
    settings = hub_settings(simulator, pki, tmp_path, total_timeout_s=0.3)
    async with running_test_hub(settings) as harness:
        await control(simulator, "POST", "faults",
                      {"service": "GeefGezinssamenstelling", "kind": "timeout", "times": 10,
                       "delay_ms": 2000})
        result = await harness.client.request(make_job(WELL_KNOWN["single"]), timeout=30)
        assert result.outcome is Outcome.FAILED
        assert result.attempts == len(RETRY_DELAYS) + 1
        assert result.error is not None
        assert result.error.code == "BACKEND_TIMEOUT"
        assert result.error.retryable is True
        calls = await control(simulator, "GET", "calls")
        assert len(calls) == len(RETRY_DELAYS) + 1


async def test_same_job_id_twice_calls_the_back_end_once(
    harness: HubHarness, simulator: Any
) -> None:
    job = make_job(WELL_KNOWN["household_head"])
    first = await harness.client.request(job, timeout=30)
    second = await harness.client.request(job, timeout=30)
    assert first.outcome is Outcome.DELIVERED
    assert second == first
    calls = await control(simulator, "GET", "calls")
    assert len(calls) == 1


async def test_an_internal_copy_of_an_answered_job_gets_no_second_result(
    harness: HubHarness, simulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A broker restart can leave two copies of one job alive: a "busy elsewhere" or retry copy
    # (confirmed) and the original (its ack lost, redelivered). The copy carries our attempt
    # header; it must not answer the front office a second time, unlike a republished job.
    store, answered = harness.hub.store, asyncio.Event()
    mark_published = store.mark_published

    async def noted(job_id: str) -> None:
        await mark_published(job_id)
        answered.set()

    monkeypatch.setattr(store, "mark_published", noted)
    job = make_job(WELL_KNOWN["household_head"])
    first = await harness.client.request(job, timeout=30)
    assert first.outcome is Outcome.DELIVERED
    # Answered means result and statuses confirmed; until then a copy is replayed (identical).
    await asyncio.wait_for(answered.wait(), 10)
    copy = await harness.client.publish(job, headers={topology.ATTEMPT_HEADER: 1})
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(asyncio.shield(copy), timeout=2)
    assert len(await control(simulator, "GET", "calls")) == 1


async def test_concurrent_duplicates_call_the_back_end_once(
    harness: HubHarness, simulator: Any
) -> None:
    await control(simulator, "POST", "latency", {"latency_ms": 300})
    job = make_job(WELL_KNOWN["household_head"])
    futures = [await harness.client.publish(job) for _ in range(3)]
    results = await asyncio.wait_for(asyncio.gather(*futures), timeout=30)
    assert {r.outcome for r in results} == {Outcome.DELIVERED}
    assert len({r.to_json() for r in results}) == 1
    assert len(await control(simulator, "GET", "calls")) == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'{"contract_version": 1, "job_id": ', "MALFORMED_JSON"),
        (json.dumps(make_job(WELL_KNOWN["single"], parameters={"attest": "x"})).encode(),
         "SCHEMA_VIOLATION"),
        (json.dumps(make_job("46061400106")).encode(), "INVALID_INSZ"),
        (json.dumps(make_job(WELL_KNOWN["single"], tenant="atlantis")).encode(),
         "UNKNOWN_TENANT"),
        # A prefill job published under another type's routing key: neither is done.
        (json.dumps(job_body("prefill.form", WELL_KNOWN["single"], {
            "question_ids": ["person_requester_1_street"], "claims": {}})).encode(),
         "ROUTING_KEY_MISMATCH"),
    ],
    ids=["malformed", "schema", "insz", "tenant", "routing-key"],
)
async def test_bad_input_gets_a_precise_rejection(
    harness: HubHarness, simulator: Any, body: bytes, code: str
) -> None:
    future = await harness.client.publish(body, routing_key="population.attest")
    result = await asyncio.wait_for(future, timeout=30)
    assert result.outcome is Outcome.REJECTED
    assert result.error is not None
    assert result.error.code == code
    assert result.error.retryable is False
    assert await control(simulator, "GET", "calls") == []


async def test_unreadable_job_without_reply_to_is_dead_lettered(harness: HubHarness) -> None:
    await harness.client.publish(b"not json at all", routing_key="population.attest",
                                 message_id="lost-1", reply=False)
    dead = await harness.dead_letters(expect=1)
    assert len(dead) == 1
    assert dead[0].body == b"not json at all"
    assert dead[0].reason == "unreadable"
    assert "MALFORMED_JSON" in str(dead[0].error)


async def test_worker_survives_a_burst_of_bad_and_good_jobs(harness: HubHarness) -> None:
    bodies: list[bytes] = [b"\xff\xfe", b"null", b"{}", b"[]", b'"x"', b"1e999"]
    futures = [await harness.client.publish(b, routing_key="population.attest") for b in bodies]
    futures.append(await harness.client.publish(make_job(WELL_KNOWN["single"])))
    results = await asyncio.wait_for(asyncio.gather(*futures), timeout=30)
    assert [r.outcome for r in results[:-1]] == [Outcome.REJECTED] * len(bodies)
    assert results[-1].outcome is Outcome.DELIVERED


async def test_unsigned_requests_are_refused_so_the_job_fails(
    simulator: Any, pki: dict[str, KeyPair], untrusted_pair: KeyPair, tmp_path: Path
) -> None:
    settings = hub_settings(simulator, pki, tmp_path)
    settings = dataclasses.replace(
        settings,
        magda=dataclasses.replace(
            settings.magda, signing_key=untrusted_pair.key, signing_cert=untrusted_pair.cert
        ),
    )
    async with running_test_hub(settings) as harness:
        result = await harness.client.request(make_job(WELL_KNOWN["single"]), timeout=30)
        assert result.outcome is Outcome.FAILED
        assert result.error is not None
        assert result.error.code == "BACKEND_SIGNATURE_REFUSED"
        dead = await harness.dead_letters(expect=1)
        assert [d.reason for d in dead] == ["our-fault"]


async def test_nothing_is_acked_before_confirms(harness: HubHarness) -> None:
    """Every result and status event is on the broker by the time the job leaves the queue."""
    jobs = [make_job(WELL_KNOWN["single"]) for _ in range(20)]
    futures = [await harness.client.publish(j) for j in jobs]
    await asyncio.wait_for(asyncio.gather(*futures), timeout=60)
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue("jobs.population", passive=True)
        assert queue.declaration_result.message_count == 0
    events = await harness.status_events()
    finals = [e["job_id"] for e in events if e["status"] == "delivered"]
    assert sorted(finals) == sorted(j["job_id"] for j in jobs)


async def test_the_audit_completes_while_documents_are_made_and_before_the_result_is_stored(
    harness: HubHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    store, documents = harness.hub.store, harness.hub.documents
    finish, complete, render = (
        store.consultation_finished, store.complete, documents.render_and_sign
    )

    async def slow_finish(*args: Any, **kwargs: Any) -> None:
        events.append("audit completion begins")
        await asyncio.sleep(0.3)  # long enough for the documents to start meanwhile
        await finish(*args, **kwargs)
        events.append("audit completed")

    async def noted_complete(*args: Any, **kwargs: Any) -> None:
        events.append("result stored")
        await complete(*args, **kwargs)

    async def noted_render(*args: Any, **kwargs: Any) -> Any:
        events.append("documents begin")
        return await render(*args, **kwargs)

    monkeypatch.setattr(store, "consultation_finished", slow_finish)
    monkeypatch.setattr(store, "complete", noted_complete)
    monkeypatch.setattr(documents, "render_and_sign", noted_render)
    job = make_job(WELL_KNOWN["household_head"])
    result = await harness.client.request(job, timeout=30)
    assert result.outcome is Outcome.DELIVERED, result.error
    assert events == [
        "audit completion begins", "documents begin", "audit completed", "result stored"
    ]
    (record,) = await store.audit_records(job_id=job["job_id"])
    assert record.outcome == "ok" and record.finished_at is not None


async def test_a_retried_job_announces_received_once_before_its_retry(
    harness: HubHarness, simulator: Any
) -> None:
    # The first attempt ends (a fault) before "received" was due: it goes out then, not with
    # the final status of the second attempt, which announces nothing.
    await control(simulator, "POST", "faults",
                  {"service": "GeefGezinssamenstelling", "kind": "http-500", "times": 1})
    job = make_job(WELL_KNOWN["partner"])
    result = await harness.client.request(job, timeout=30)
    assert result.outcome is Outcome.DELIVERED and result.attempts == 2
    events = await harness.status_events()
    assert [e["status"] for e in events] == ["received", "delivered"]


async def test_a_slow_job_shows_received_while_it_runs(
    simulator: Any, pki: dict[str, KeyPair], tmp_path: Path
) -> None:
    settings = hub_settings(simulator, pki, tmp_path)
    settings = dataclasses.replace(
        settings, status=dataclasses.replace(settings.status, received_after_s=0.2))
    await control(simulator, "POST", "latency", {"latency_ms": 1500})
    try:
        async with running_test_hub(settings) as harness:
            job = make_job(WELL_KNOWN["household_head"])
            answer = await harness.client.publish(job)
            for _ in range(100):
                events = await harness.status_events()
                if events:
                    break
                await asyncio.sleep(0.05)
            assert [e["status"] for e in events] == ["received"]
            assert not answer.done()  # the back end has not answered yet
            assert (await asyncio.wait_for(answer, 30)).outcome is Outcome.DELIVERED
            events += await harness.status_events()  # reading takes them off the queue
            assert [e["status"] for e in events] == ["received", "delivered"]
    finally:
        await control(simulator, "POST", "latency", {"latency_ms": 0})


async def test_a_fast_job_sends_received_with_its_final_status_in_order(
    harness: HubHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    published: list[str] = []
    publisher, pipeline = harness.hub.worker.publisher, harness.hub.pipeline
    assert pipeline is not None
    publish_status, process = publisher.status, pipeline.process

    async def noted_status(event: StatusEvent) -> None:
        published.append(event.status)
        await publish_status(event)

    async def noted_process(*args: Any, **kwargs: Any) -> Any:
        processed = await process(*args, **kwargs)
        published.append("(job processed)")
        return processed

    monkeypatch.setattr(publisher, "status", noted_status)
    monkeypatch.setattr(pipeline, "process", noted_process)
    result = await harness.client.request(make_job(WELL_KNOWN["household_head"]), timeout=30)
    assert result.outcome is Outcome.DELIVERED
    for _ in range(100):  # the statuses are confirmed after the result
        if len(published) == 3:
            break
        await asyncio.sleep(0.02)
    # Well within the default second: nothing was published while the job ran.
    assert published == ["(job processed)", "received", "delivered"]
    events = await harness.status_events()
    assert [e["status"] for e in events] == ["received", "delivered"]


async def test_a_copy_of_a_job_held_by_a_dead_worker_waits_longer_each_time(
    simulator: Any, pki: dict[str, KeyPair], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Until the dead worker's lease ends, the copy looks again after 0.1 s, then every 0.5 s:
    # a handful of copies in 2 s, not one every 0.1 s.
    settings = hub_settings(simulator, pki, tmp_path)
    settings = dataclasses.replace(
        settings, broker=dataclasses.replace(settings.broker, retry_delays_s=(0.1, 0.5)))
    async with running_test_hub(settings) as harness:
        publisher = harness.hub.worker.publisher
        busy, copies = publisher.busy, []

        async def noted(message: Any, job: Any, attempt: int) -> str:
            queue = await busy(message, job, attempt)
            copies.append((queue, int((message.headers or {}).get(topology.BUSY_HEADER, 0)) + 1))
            return queue

        monkeypatch.setattr(publisher, "busy", noted)
        job = make_job(WELL_KNOWN["single"])
        await harness.hub.store.claim(job["job_id"], "worker-that-died", 2.0)
        result = await harness.client.request(job, timeout=30)
    assert result.outcome is Outcome.DELIVERED
    assert copies[:3] == [("retry.population.1.100ms", 1), ("retry.population.2.500ms", 2),
                          ("retry.population.2.500ms", 3)]
    assert len(copies) <= 6
