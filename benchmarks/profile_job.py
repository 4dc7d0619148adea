"""Where one job's time goes at low load: pyinstrument inside the worker's job handler.

    .venv/bin/python -m benchmarks.profile_job --jobs 200 [--html out/profile.html]

Runs the hub in this process against the MAGDA simulator and sends household-composition jobs
one at a time. Each job's handler runs under pyinstrument in async mode, so the time a job
spends awaiting (the store's thread, the broker's confirms, the HTTP call, the document pool)
is attributed to the line that awaited it, not lost as idle time. The sessions of all jobs are
combined into one report. This is the profile behind the added-latency numbers of
``benchmarks.ratios``; it needs ``pip install pyinstrument``.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from pyinstrument import Profiler
from pyinstrument.renderers import ConsoleRenderer, HTMLRenderer
from pyinstrument.session import Session

from benchmarks.common import simulated_magda
from hub.logging import configure_logging
from hub.runtime.jobs import JobHandler
from hub.runtime.settle import Settlement
from hub.testing import make_job, running_test_hub
from simulators.population_data import WELL_KNOWN

PEOPLE = ("household_head", "single", "extended_head")


class _Profiled:
    """The worker's job handler, each delivery under pyinstrument."""

    def __init__(self, handler: JobHandler, sessions: list[Session]) -> None:
        self._handler = handler
        self._sessions = sessions

    async def handle(self, message: Any) -> Settlement:
        profiler = Profiler(interval=0.0002, async_mode="enabled")
        profiler.start()
        try:
            return await self._handler.handle(message)
        finally:
            self._sessions.append(profiler.stop())


async def main(jobs: int, amqp_url: str) -> tuple[Session, int]:
    configure_logging("console", "error")
    sessions: list[Session] = []
    async with simulated_magda("profile", amqp_url=amqp_url, concurrency=1,
                               enforce_repertorium=False) as bench, \
            running_test_hub(bench.settings) as harness:
        for person in PEOPLE:  # warm-up, not profiled
            await harness.client.request(make_job(WELL_KNOWN[person]), timeout=60)
        handlers = harness.hub.worker.handlers
        handlers.jobs = _Profiled(handlers.jobs, sessions)  # type: ignore[assignment]
        for i in range(jobs):
            await harness.client.request(make_job(WELL_KNOWN[PEOPLE[i % 3]]), timeout=60)
    combined = sessions[0]
    for session in sessions[1:]:
        combined = Session.combine(combined, session)
    return combined, len(sessions)


def report(session: Session, jobs: int, html: Path | None) -> None:
    print(ConsoleRenderer(unicode=True, color=False).render(session))
    print(f"jobs profiled: {jobs}; mean handler wall time: "
          f"{session.duration / jobs * 1000:.2f} ms")
    if html is not None:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(HTMLRenderer().render(session))
        print(f"html report: {html}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--html", type=Path)
    args = parser.parse_args()
    report(*asyncio.run(main(args.jobs, args.amqp_url)), args.html)
