"""End-to-end throughput and latency of one worker against the MAGDA simulator.

    .venv/bin/python -m benchmarks.end_to_end --jobs 2000 --prefetch 64

Publishes N household-composition jobs through RabbitMQ to an in-process worker (real broker,
real SOAP over HTTP with WS-Security, real SQLite store, real document signatures) and prints
jobs/s and the per-job latency percentiles as the front office sees them. Not a test: numbers
depend on the machine; issue 9 turns this into ratios against a bare pipeline.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable

from benchmarks.common import simulated_magda
from hub.contract import Outcome, Result
from hub.logging import configure_logging
from hub.testing import make_job, running_test_hub
from simulators.population_data import WELL_KNOWN


async def main(jobs: int, prefetch: int, latency_ms: int, amqp_url: str) -> None:
    configure_logging("console", "warning")
    people = [WELL_KNOWN[k] for k in ("household_head", "single", "extended_head")]
    async with simulated_magda("bench", amqp_url=amqp_url, concurrency=prefetch,
                               latency_ms=latency_ms) as bench, \
            running_test_hub(bench.settings) as harness:
        # Warm-up: connections, WSDL caches, first signatures.
        await asyncio.gather(*[await harness.client.publish(make_job(p)) for p in people])
        sent: dict[str, float] = {}
        done: list[float] = []
        started = time.perf_counter()
        futures = []

        def record(started_at: float) -> Callable[[asyncio.Future[Result]], None]:
            return lambda _: done.append(time.perf_counter() - started_at)

        for i in range(jobs):
            job = make_job(people[i % len(people)])
            sent[job["job_id"]] = time.perf_counter()
            future = await harness.client.publish(job)
            future.add_done_callback(record(sent[job["job_id"]]))
            futures.append(future)
        results = await asyncio.wait_for(asyncio.gather(*futures), timeout=600)
        elapsed = time.perf_counter() - started
    delivered = sum(r.outcome is Outcome.DELIVERED for r in results)
    q = statistics.quantiles(done, n=100)
    print(f"jobs: {jobs} delivered: {delivered} prefetch: {prefetch} latency_ms: {latency_ms}")
    print(f"throughput jobs/s: {jobs / elapsed:.1f}")
    print(f"latency p50 ms: {q[49] * 1000:.1f}")
    print(f"latency p99 ms: {q[98] * 1000:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--prefetch", type=int, default=64)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    args = parser.parse_args()
    asyncio.run(main(args.jobs, args.prefetch, args.latency_ms, args.amqp_url))
