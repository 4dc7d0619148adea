"""Benchmark (4) of issue 9: jobs in flight and jobs/s for one worker when MAGDA answers slowly.

    .venv/bin/python -m benchmarks.latency --jobs 2000 --in-flight 1000 --latency-ms 200

The simulator waits ``--latency-ms`` before every answer. One worker (in this process, real
broker, SQLite store, document process pool) is allowed ``--in-flight`` jobs at once: prefetch,
worker concurrency, back-end concurrency and the HTTP connection pool all set to that number.
``--jobs`` jobs are published at once. Measured:

- jobs in flight in the worker (its own count, sampled every 50 ms; peak);
- requests in flight at the back end (the simulator's own count; peak);
- jobs/s from first publish to last result;
- Little's law: with N in flight and latency L the rate could be N / L; ``ratio hub/little`` is
  the measured rate over that;
- the limit script of ``benchmarks.ratios`` at the same latency and in-flight setting, so what
  caps both (the documents' CPU on this machine) shows as ``ratio hub/limit at latency``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.common import simulated_magda
from benchmarks.documents import pki_service
from benchmarks.ratios import PEOPLE, limit_pipeline
from hub.app import pki_directory
from hub.config import load_settings, load_tenants
from hub.logging import configure_logging
from hub.testing import make_job, running_test_hub
from simulators.population_data import WELL_KNOWN


async def _backend_peak(base_url: str, *, reset: bool = False) -> int:
    async with aiohttp.ClientSession() as http:
        method = "DELETE" if reset else "GET"
        async with http.request(method, f"{base_url}/_control/concurrency") as reply:
            return int((await reply.json())["peak"])


def _batch(count: int) -> list[dict[str, Any]]:
    return [make_job(WELL_KNOWN[PEOPLE[i % len(PEOPLE)]]) for i in range(count)]


async def main(jobs: int, in_flight: int, latency_ms: int, amqp_url: str) -> None:
    configure_logging("console", "error")
    ca_dir = pki_directory(load_tenants(load_settings(environ={}).tenants_dir))
    with pki_service(ca_dir or Path("var/dev-pki/ca")) as pki_url:
        await _measure(jobs, in_flight, latency_ms, amqp_url, pki_url)


async def _measure(jobs: int, in_flight: int, latency_ms: int, amqp_url: str, pki_url: str) -> None:
    async with simulated_magda("latency", amqp_url=amqp_url, concurrency=in_flight,
                               enforce_repertorium=False, latency_ms=latency_ms) as bench:
        settings, simulator = bench.settings, bench.simulator
        await _backend_peak(simulator.base_url, reset=True)
        async with limit_pipeline(settings, in_flight, pki_url) as limit:
            limit_rate = jobs / (await limit(_batch(jobs))).elapsed_s
        limit_backend_peak = await _backend_peak(simulator.base_url)

        async with running_test_hub(settings, pki_url=pki_url) as harness:
            await asyncio.gather(*[await harness.client.publish(job) for job in _batch(3)])
            await _backend_peak(simulator.base_url, reset=True)
            worker = harness.hub.worker
            worker_peak = 0
            finished = asyncio.Event()

            async def sample() -> None:
                nonlocal worker_peak
                while not finished.is_set():
                    worker_peak = max(worker_peak, worker.in_flight)
                    await asyncio.sleep(0.05)

            sampler = asyncio.create_task(sample())
            t0 = time.perf_counter()
            futures = [await harness.client.publish(job) for job in _batch(jobs)]
            await asyncio.wait_for(asyncio.gather(*futures), timeout=3600)
            hub_rate = jobs / (time.perf_counter() - t0)
            finished.set()
            await sampler
            hub_backend_peak = await _backend_peak(simulator.base_url)
    latency_s = latency_ms / 1000
    print(f"jobs: {jobs} in-flight setting: {in_flight} back-end latency ms: {latency_ms}")
    print(f"hub in flight in the worker, peak: {worker_peak}")
    print(f"hub in flight at the back end, peak: {hub_backend_peak}")
    print(f"limit in flight at the back end, peak: {limit_backend_peak}")
    print(f"hub jobs/s: {hub_rate:.1f}")
    print(f"limit jobs/s: {limit_rate:.1f}")
    print(f"little's law jobs/s for the worker's peak: {worker_peak / latency_s:.0f}")
    print(f"ratio hub/little: {hub_rate / (worker_peak / latency_s):.3f}")
    print(f"ratio hub/limit at latency: {hub_rate / limit_rate:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--in-flight", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    args = parser.parse_args()
    asyncio.run(main(args.jobs, args.in_flight, args.latency_ms, args.amqp_url))
