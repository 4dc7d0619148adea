"""BackgroundWrites: an attempt's writes run beside it and are settled before its outcome."""

from __future__ import annotations

import asyncio

import pytest

from hub.ports import BackgroundWrites


async def test_settle_waits_for_every_write_started() -> None:
    written: list[int] = []

    async def write(n: int) -> None:
        await asyncio.sleep(0.01 * n)
        written.append(n)

    background = BackgroundWrites()
    for n in (3, 1, 2):
        background.start(write(n))
    assert written == []
    await background.settle()
    assert sorted(written) == [1, 2, 3]
    await background.settle()  # nothing left: returns at once


async def test_a_failed_write_is_raised_once_all_have_finished() -> None:
    written: list[str] = []

    async def fails() -> None:
        raise OSError("disk full")

    async def slow() -> None:
        await asyncio.sleep(0.02)
        written.append("slow")

    background = BackgroundWrites()
    background.start(fails())
    background.start(slow())
    with pytest.raises(OSError, match="disk full"):
        await background.settle()
    assert written == ["slow"]


async def test_a_cancelled_attempt_still_finishes_its_writes() -> None:
    written: list[str] = []
    started = asyncio.Event()

    async def write() -> None:
        started.set()
        await asyncio.sleep(0.05)
        written.append("done")

    background = BackgroundWrites()
    background.start(write())
    settling = asyncio.ensure_future(background.settle())
    await started.wait()
    settling.cancel()
    with pytest.raises(asyncio.CancelledError):
        await settling
    await asyncio.sleep(0.1)
    assert written == ["done"]
