"""The outcome store, against SQLite (a file) and PostgreSQL (a real server)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.store import ClaimState, OutcomeStore, open_store
from tests.conftest import POSTGRES_DSN


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[OutcomeStore]:
    url = f"sqlite:///{tmp_path}/outcomes.db" if request.param == "sqlite" else POSTGRES_DSN
    opened = await open_store(url)
    try:
        yield opened
    finally:
        await opened.close()


def _job_id() -> str:
    return f"test-{uuid.uuid4()}"


async def test_first_claim_acquires_then_others_are_busy(store: OutcomeStore) -> None:
    job = _job_id()
    assert (await store.claim(job, "w1", 60)).state is ClaimState.ACQUIRED
    assert (await store.claim(job, "w2", 60)).state is ClaimState.BUSY
    assert (await store.claim(job, "w1", 60)).state is ClaimState.BUSY


async def test_done_job_replays_its_result(store: OutcomeStore) -> None:
    job = _job_id()
    await store.claim(job, "w1", 60)
    await store.complete(job, "w1", b'{"outcome": "delivered"}')
    claim = await store.claim(job, "w2", 60)
    assert claim.state is ClaimState.DONE
    assert claim.result == b'{"outcome": "delivered"}'
    assert not claim.published
    await store.mark_published(job)
    assert (await store.claim(job, "w2", 60)).published
    assert await store.result(job) == b'{"outcome": "delivered"}'


async def test_a_result_is_never_overwritten(store: OutcomeStore) -> None:
    job = _job_id()
    await store.complete(job, "w1", b"first")
    await store.complete(job, "w2", b"second")
    assert await store.result(job) == b"first"


async def test_released_job_can_be_claimed_again(store: OutcomeStore) -> None:
    job = _job_id()
    await store.claim(job, "w1", 60)
    await store.release(job, "w1")
    assert (await store.claim(job, "w2", 60)).state is ClaimState.ACQUIRED


async def test_expired_lease_lets_another_worker_take_over(store: OutcomeStore) -> None:
    job = _job_id()
    await store.claim(job, "crashed-worker", 0.05)
    await asyncio.sleep(0.1)  # the lease length is the behaviour under test
    assert (await store.claim(job, "w2", 60)).state is ClaimState.ACQUIRED


async def test_concurrent_claims_give_exactly_one_owner(store: OutcomeStore) -> None:
    job = _job_id()
    claims = await asyncio.gather(*(store.claim(job, f"w{i}", 60) for i in range(8)))
    assert sum(c.state is ClaimState.ACQUIRED for c in claims) == 1


async def test_ping(store: OutcomeStore) -> None:
    await store.ping()
