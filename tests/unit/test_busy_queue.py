"""Where a copy waits whose job another worker holds: sooner first, then longer."""

from __future__ import annotations

from hub.topology import Routes, routes_for


def _topology(delays: tuple[float, ...]) -> Routes:
    return routes_for(["population"], delays, ())


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


def test_every_delay_has_its_queue_named_with_its_delay() -> None:
    routes = routes_for(["population", "prefill"], (0.2, 1.0), (10.0, 2.5))
    assert routes.retry_queue_for("prefill", 2) == "retry.prefill.2.1000ms"
    assert routes.retry_queue_for("prefill", 3) is None
    assert routes.poll_queue_for("population", 5.0) == (2.5, "poll.population.2500ms")
    assert routes.poll_queue_for("population", 1.0) == (2.5, "poll.population.2500ms")
    assert sorted(routes.delay_queues())[0] == ("poll.population.10000ms", 10.0,
                                                "jobs.population")
    assert len(routes.delay_queues()) == 8
