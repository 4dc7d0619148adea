"""How the client matches results to requests, without a broker: the reply callback is given
messages as the broker hands them over. (Against a real broker: test_client_broker.py.)"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, cast

import aio_pika
import pytest

from loket_hub.client import CorruptResult, LoketClient, _encode, _Pending
from loket_hub.contract import Document, Outcome, Result


@dataclass
class _Message:
    body: bytes
    correlation_id: str | None


def _client(keep_results: int = 1000) -> LoketClient:
    return LoketClient(cast(Any, None), cast(Any, None), cast(Any, None),
                       keep_results=keep_results)


def _wait(client: LoketClient, correlation_id: str, job_id: str) -> asyncio.Future[Result]:
    future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
    client._pending[correlation_id] = _Pending(future, True, job_id, aio_pika.Message(b"{}"),
                                               "population.attest")
    return future


def _result(job_id: str, outcome: Outcome = Outcome.DELIVERED) -> bytes:
    return Result(job_id, outcome, documents=(
        Document("x-xml", "application/xml", "x.xml", b"<x/>"),)).to_json()


async def test_a_corrupt_result_fails_only_its_request() -> None:
    client = _client()
    bad_hash, bad_json, fine = (_wait(client, f"c{i}", f"job-000{i}-x") for i in range(3))
    tampered = json.loads(_result("job-0000-x"))
    tampered["documents"][0]["content_base64"] = "PHkvPg=="  # <y/>, not what sha256 says
    await client._on_reply(_Message(json.dumps(tampered).encode(), "c0"))  # type: ignore[arg-type]
    await client._on_reply(_Message(b"\xff not json", "c1"))  # type: ignore[arg-type]
    await client._on_reply(_Message(_result("job-0002-x"), "c2"))  # type: ignore[arg-type]
    with pytest.raises(CorruptResult, match="sha256"):
        await bad_hash
    with pytest.raises(CorruptResult):
        await bad_json
    assert (await fine).job_id == "job-0002-x"
    assert client.corrupt_results == 2 and client.pending == 0
    assert [r.job_id for r in client.received] == ["job-0002-x"]


async def test_results_kept_are_the_latest_only() -> None:
    client = _client(keep_results=3)
    for i in range(10):
        await client._on_reply(_Message(_result(f"job-{i:04}-x"), None))  # type: ignore[arg-type]
    assert [r.job_id for r in client.received] == [f"job-{i:04}-x" for i in (7, 8, 9)]
    assert len(client.received_bodies) == 3


async def test_an_interim_result_does_not_answer_a_request_for_the_final_one() -> None:
    client = _client()
    future = _wait(client, "c", "job-0001-x")
    await client._on_reply(_Message(_result("job-0001-x", Outcome.IN_TREATMENT), "c"))  # type: ignore[arg-type]
    assert not future.done()
    await client._on_reply(_Message(_result("job-0001-x"), "c"))  # type: ignore[arg-type]
    assert (await future).outcome is Outcome.DELIVERED


@pytest.mark.parametrize("job_id", ["test-1\udfff", "x" * 300, 7, ""])
def test_a_raw_body_lends_only_a_job_id_amqp_can_carry(job_id: Any) -> None:
    body = json.dumps({"job_id": job_id, "type": "population.attest"}).encode()
    assert _encode(body, None, None) == (body, "population.attest", None)
    good = json.dumps({"job_id": "job-0000-0001", "type": "prefill.form"}).encode()
    assert _encode(good, None, None) == (good, "prefill.form", "job-0000-0001")
