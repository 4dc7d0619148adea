"""Benchmark (6) of issue 9: two worker processes against one, and where the CPU goes.

    .venv/bin/python -m benchmarks.workers --jobs 600

Each run starts its worker processes (``loket-hub run``, real document process pools) against
the same MAGDA simulator, which runs in its own process, and the same broker. After a warm-up it
publishes ``--jobs`` household-composition jobs at once and times them until the last result.
During the measured part it reads the CPU time of every process involved from ``/proc``: the
workers with their document pools, the simulator, RabbitMQ and this publisher, and the busy time
of the whole machine. Printed: jobs/s per run, ``ratio two/one workers``, and per run the CPU
milliseconds per job of each part and how busy the machine's cores were. When the cores are
busy all the time, a second worker has nothing left to run on: that is the shared resource.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aio_pika

from benchmarks.common import bench_settings, wait_for_consumers, worker_env
from benchmarks.procfs import broker_pids, cpu_seconds, descendants, machine_cpu_seconds
from hub.config import BrokerSettings
from hub.devpki import KeyPair, generate_dev_pki
from hub.testing import CAPABILITIES, make_job, reset_broker
from simulators.population_data import WELL_KNOWN

PEOPLE = ("household_head", "single", "extended_head")


@dataclass
class Parts:
    """CPU seconds by part, read at one moment."""

    seconds: dict[str, float] = field(default_factory=dict)
    machine_busy: float = 0.0
    machine_total: float = 0.0


def _read_parts(groups: dict[str, list[int]]) -> Parts:
    busy, total = machine_cpu_seconds()
    return Parts({name: cpu_seconds(pids) for name, pids in groups.items()}, busy, total)


@dataclass
class Run:
    workers: int
    jobs_per_s: float
    cpu_ms_per_job: dict[str, float]
    machine_busy: float  # share of all cores' time


def _spawn(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _wait_for_port(port: int) -> None:
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
    raise RuntimeError(f"nothing answers on port {port}")


async def _round(channel: aio_pika.abc.AbstractChannel, replies: asyncio.Queue[bytes],
                 reply_to: str, count: int) -> None:
    exchange = await channel.get_exchange("loket.jobs", ensure=False)
    jobs = [make_job(WELL_KNOWN[PEOPLE[i % len(PEOPLE)]]) for i in range(count)]
    for start in range(0, count, 200):
        await asyncio.gather(*[
            exchange.publish(aio_pika.Message(
                json.dumps(job).encode(), message_id=job["job_id"], reply_to=reply_to,
                content_type="application/json", delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=job["type"], mandatory=True)
            for job in jobs[start:start + 200]])
    for _ in range(count):
        await asyncio.wait_for(replies.get(), timeout=600)


async def measure(workers: int, jobs: int, *, work: Path, magda_url: str, simulator_pid: int,
                  pki: dict[str, KeyPair], amqp_url: str, store_url: str,
                  concurrency: int) -> Run:
    await reset_broker(amqp_url, CAPABILITIES, BrokerSettings().retry_delays_s)
    run_dir = work / f"run-{workers}"
    run_dir.mkdir()
    settings = bench_settings(run_dir, magda_url, pki, amqp_url=amqp_url,
                              concurrency=concurrency)
    if store_url:
        settings = dataclasses.replace(
            settings, store=dataclasses.replace(settings.store, url=store_url))
    env = worker_env(settings)
    processes = [_spawn("hub.cli", "run", env=env) for _ in range(workers)]
    connection = await aio_pika.connect(amqp_url)
    try:
        await wait_for_consumers(amqp_url, workers,
                                 alive=lambda: all(p.poll() is None for p in processes))
        channel = await connection.channel(publisher_confirms=True)
        replies: asyncio.Queue[bytes] = asyncio.Queue()
        reply_queue = await channel.declare_queue(exclusive=True)

        async def on_reply(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await message.ack()
            replies.put_nowait(message.body)

        await reply_queue.consume(on_reply)
        await _round(channel, replies, reply_queue.name, 20 * workers)  # warm-up
        groups = {
            "workers (with document pools)":
                [p for w in processes for p in descendants(w.pid)],
            "MAGDA simulator": [simulator_pid],
            "RabbitMQ": broker_pids(),
            "publisher": [os.getpid()],
        }
        before = _read_parts(groups)
        started = time.perf_counter()
        await _round(channel, replies, reply_queue.name, jobs)
        elapsed = time.perf_counter() - started
        after = _read_parts(groups)
    finally:
        await connection.close()
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(60)
    used = {name: (after.seconds[name] - before.seconds[name]) * 1000 / jobs
            for name in groups}
    busy = (after.machine_busy - before.machine_busy) / (
        after.machine_total - before.machine_total)
    return Run(workers, jobs / elapsed, used, busy)


async def main(jobs: int, amqp_url: str, store_url: str, concurrency: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="loket-bench-workers-"))
    pki = generate_dev_pki(work / "pki")
    port = _free_port()
    simulator = _spawn("simulators.magda", "--port", str(port),
                       "--trust", str(pki["magda-client"].cert))
    try:
        await _wait_for_port(port)
        runs = [await measure(count, jobs, work=work, magda_url=f"http://127.0.0.1:{port}",
                              simulator_pid=simulator.pid, pki=pki, amqp_url=amqp_url,
                              store_url=store_url, concurrency=concurrency)
                for count in (1, 2)]
    finally:
        simulator.terminate()
        simulator.wait(30)
    print(f"jobs per run: {jobs}; cores: {os.cpu_count()}; concurrency per worker: {concurrency}")
    for run in runs:
        print(f"workers {run.workers}: {run.jobs_per_s:.1f} jobs/s; "
              f"machine busy {run.machine_busy:.0%} of all cores")
        for name, ms in run.cpu_ms_per_job.items():
            print(f"  cpu ms per job, {name}: {ms:.1f}")
        print(f"  cpu ms per job, all parts: {sum(run.cpu_ms_per_job.values()):.1f}")
    print(f"ratio two/one workers: {runs[1].jobs_per_s / runs[0].jobs_per_s:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--store-url", default="",
                        help="shared store (e.g. postgresql://…); default one SQLite file per run")
    args = parser.parse_args()
    asyncio.run(main(args.jobs, args.amqp_url, args.store_url, args.concurrency))
