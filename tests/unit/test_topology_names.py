"""``declared_queue_names`` lists exactly the queues ``declare`` declares (no broker needed)."""

from __future__ import annotations

from typing import Any

import pytest

from hub import topology


class _Queue:
    def __init__(self, name: str) -> None:
        self.name = name

    async def bind(self, *_: Any, **__: Any) -> None:
        return None

    async def unbind(self, *_: Any, **__: Any) -> None:
        return None


class _RecordingChannel:
    """Just enough of an aio-pika channel for ``declare``: it records the queue names."""

    def __init__(self) -> None:
        self.queues: list[str] = []

    async def declare_exchange(self, name: str, *_: Any, **__: Any) -> str:
        return name

    async def declare_queue(self, name: str, *_: Any, **__: Any) -> _Queue:
        self.queues.append(name)
        return _Queue(name)


@pytest.mark.parametrize("approval_tenants", [None, ["gent", "leuven"]])
async def test_the_names_are_those_declare_declares(approval_tenants: list[str] | None) -> None:
    channel = _RecordingChannel()
    capabilities, retries, polls = ["population", "criminal-record"], (2.0, 10.0), (10.0, 1.5)
    declared = await topology.declare(
        channel,  # type: ignore[arg-type]
        capabilities, retries, poll_delays_s=polls, approval_tenants=approval_tenants,
    )
    names = topology.declared_queue_names(capabilities, retries, polls, approval_tenants)
    assert sorted(names) == sorted(channel.queues)
    assert len(set(names)) == len(names)
    assert declared.routes.retry_queues["population"] == topology.retry_queue_names(
        "population", retries)
    assert [n for _, n in declared.routes.poll_queues["criminal-record"]] == [
        "poll.criminal-record.1500ms", "poll.criminal-record.10000ms"]
