"""Where a copy waits whose job another worker holds: sooner first, then longer."""

from __future__ import annotations

from typing import Any

from hub.topology import Topology


def _topology(delays: tuple[float, ...]) -> Topology:
    unused: Any = None
    names = [f"retry.population.{i + 1}.{round(d * 1000)}ms" for i, d in enumerate(delays)]
    return Topology(
        jobs=unused, status=unused, dead=unused, backoffice=unused,
        decisions=unused, actions=unused, dead_queue=unused, work_queues={},
        retry_queues={"population": names}, retry_delays_s=delays, poll_queues={},
    )


def test_the_wait_grows_up_to_the_longest_delay_within_a_lease() -> None:
    topology = _topology((2.0, 10.0, 60.0, 300.0))
    waits = [topology.busy_queue_for("population", n, lease_s=120.0) for n in range(5)]
    assert waits == [
        "retry.population.1.2000ms", "retry.population.2.10000ms", "retry.population.3.60000ms",
        "retry.population.3.60000ms", "retry.population.3.60000ms",
    ]


def test_a_lease_shorter_than_every_delay_still_uses_the_shortest() -> None:
    topology = _topology((2.0, 10.0))
    assert topology.busy_queue_for("population", 3, lease_s=1.0) == "retry.population.1.2000ms"
