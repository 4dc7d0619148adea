"""Where one job's wall time goes at low load, without a profiler's overhead.

    .venv/bin/python -m benchmarks.timeline --jobs 150 [--amqp-url amqp://…/bench]

Runs the hub in this process against the MAGDA simulator, one household-composition job at a
time, and wraps the methods a job passes through with a clock. Prints, for each step, when it
starts and ends in milliseconds after the front office published the job (medians over the
jobs), then each step's duration. ``benchmarks.profile_job`` says what a step spends its time on;
this says when the steps happen and which of them the front office waits for.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from adapters.magda.client import MagdaServiceClient
from benchmarks.common import simulated_magda
from hub.documents.pool import DocumentWorkers
from hub.logging import configure_logging
from hub.pipeline import Pipeline
from hub.runtime import jobs as jobs_module
from hub.runtime.finish import Finisher
from hub.runtime.jobs import JobHandler
from hub.runtime.publisher import Publisher
from hub.store.sqlite import SqliteStore
from hub.testing import make_job, running_test_hub
from loket_hub.client import LoketClient
from simulators.population_data import WELL_KNOWN

PEOPLE = ("household_head", "single", "extended_head")
STEPS: list[tuple[Any, list[str]]] = [
    (JobHandler, ["handle"]),
    (Finisher, ["finish"]),
    (Publisher, ["result", "status"]),
    (Pipeline, ["process", "_documents_for"]),
    (SqliteStore, ["claim", "complete", "mark_published", "consultation_started",
                   "consultation_finished"]),
    (MagdaServiceClient, ["call"]),
    (DocumentWorkers, ["render_and_sign"]),
    (LoketClient, ["_on_reply"]),
]


class Clock:
    """Start and end of every timed step, relative to the current job's publish."""

    def __init__(self) -> None:
        self.published_at = 0.0
        self.spans: dict[str, list[tuple[float, float]]] = defaultdict(list)
        self.recording = False

    def note(self, name: str, started: float, published_at: float) -> None:
        # Against the publish of the job the step began under: a job's last steps (its ack)
        # can end after the next job was published.
        if self.recording:
            self.spans[name].append((started - published_at, time.perf_counter() - published_at))

    def timed_async(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started, published_at = time.perf_counter(), self.published_at
            try:
                return await method(*args, **kwargs)
            finally:
                self.note(name, started, published_at)
        return timed

    def timed(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started, published_at = time.perf_counter(), self.published_at
            try:
                return function(*args, **kwargs)
            finally:
                self.note(name, started, published_at)
        return timed


@contextmanager
def instrumented(clock: Clock) -> Iterator[None]:
    # The job handler's own name for the decoder, so that only the jobs queue's decodes count.
    decode = getattr(jobs_module, "decode_job")  # noqa: B009  # imported there, not exported
    originals: list[tuple[Any, str, Any]] = [(jobs_module, "decode_job", decode)]
    setattr(jobs_module, "decode_job", clock.timed("decode_job", decode))  # noqa: B010
    for owner, names in STEPS:
        for name in names:
            method = getattr(owner, name)
            originals.append((owner, name, method))
            setattr(owner, name, clock.timed_async(f"{owner.__name__}.{name}", method))
    try:
        yield
    finally:
        for owner, name, method in originals:
            setattr(owner, name, method)


async def main(jobs: int, amqp_url: str) -> None:
    configure_logging("console", "error")
    clock = Clock()
    end_to_end: list[float] = []
    async with simulated_magda("timeline", amqp_url=amqp_url, concurrency=1,
                               enforce_repertorium=False) as bench:
        with instrumented(clock):
            async with running_test_hub(bench.settings) as harness:
                for person in PEOPLE:  # warm-up, not recorded
                    await harness.client.request(make_job(WELL_KNOWN[person]), timeout=60)
                clock.recording = True
                for i in range(jobs):
                    job = make_job(WELL_KNOWN[PEOPLE[i % len(PEOPLE)]])
                    clock.published_at = time.perf_counter()
                    await harness.client.request(job, timeout=60)
                    end_to_end.append(time.perf_counter() - clock.published_at)
                # The ack and the "published" mark come after the reply: let the last finish.
                await asyncio.sleep(0.2)

    print(f"jobs: {jobs}; end to end p50 {statistics.median(end_to_end) * 1000:.2f} ms")
    print("step (ms after the publish, p50)          starts     ends   duration")
    for name, spans in sorted(clock.spans.items(),
                              key=lambda item: statistics.median(s for s, _ in item[1])):
        starts = statistics.median(s for s, _ in spans) * 1000
        ends = statistics.median(e for _, e in spans) * 1000
        duration = statistics.median(e - s for s, e in spans) * 1000
        print(f"{name:40s} {starts:8.2f} {ends:8.2f} {duration:10.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=150)
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    args = parser.parse_args()
    asyncio.run(main(args.jobs, args.amqp_url))
