"""Dossier lanes: one dossier's events strictly in arrival order, other dossiers in parallel,
and an event that went back to the queue takes the later ones of its dossier with it."""

from __future__ import annotations

import asyncio

import pytest

from hub.status.lanes import DossierLanes, LaneBroken


async def _push(lanes: DossierLanes, key: str, name: str, delay: float, log: list[str],
                *, fail: bool = False) -> str:
    try:
        async with lanes.turn(key):
            log.append(f"start {name}")
            await asyncio.sleep(delay)
            if fail:
                raise RuntimeError(name)
            log.append(f"end {name}")
            return "pushed"
    except LaneBroken:
        return "requeued"
    except RuntimeError:
        return "failed"


async def test_one_dossier_in_order_even_when_the_first_is_slow() -> None:
    lanes, log = DossierLanes(), []
    # Entered in this order (as deliveries are); the slow first one must still finish first.
    tasks = [asyncio.create_task(_push(lanes, "D1", n, d, log))
             for n, d in (("a", 0.05), ("b", 0.0), ("c", 0.01))]
    assert await asyncio.gather(*tasks) == ["pushed"] * 3
    assert log == ["start a", "end a", "start b", "end b", "start c", "end c"]
    assert len(lanes) == 0


async def test_dossiers_move_in_parallel() -> None:
    lanes, log = DossierLanes(), []
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(*[_push(lanes, f"D{i}", str(i), 0.1, log) for i in range(20)])
    assert loop.time() - started < 0.5  # one after another would take 2 s


async def test_a_failed_event_sends_the_later_ones_of_its_dossier_back_too() -> None:
    lanes, log = DossierLanes(), []
    tasks = [
        asyncio.create_task(_push(lanes, "D1", "a", 0.02, log, fail=True)),
        asyncio.create_task(_push(lanes, "D1", "b", 0.0, log)),
        asyncio.create_task(_push(lanes, "D2", "x", 0.0, log)),
        asyncio.create_task(_push(lanes, "D1", "c", 0.0, log)),
    ]
    assert await asyncio.gather(*tasks) == ["failed", "requeued", "pushed", "requeued"]
    assert "start b" not in log and "start c" not in log
    # Once the lane is empty it starts afresh.
    assert await _push(lanes, "D1", "d", 0.0, log) == "pushed"


async def test_a_cancelled_event_breaks_its_lane() -> None:
    lanes, log = DossierLanes(), []
    first = asyncio.create_task(_push(lanes, "D1", "a", 10, log))
    second = asyncio.create_task(_push(lanes, "D1", "b", 0, log))
    await asyncio.sleep(0.01)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await second == "requeued"
