"""Resident memory of one worker over many jobs (issue 9, item 5): growth under 10 % after warm-up.

    .venv/bin/python -m benchmarks.memory --jobs 100000 --window 200 \\
        --amqp-url amqp://guest:guest@127.0.0.1:5672/bench

Starts the MAGDA simulator here and one worker as a real subprocess (``python -m hub.cli run``,
configured through ``LOKET_*`` variables from :func:`benchmarks.common.bench_settings`: fresh
SQLite store, dev keys, the process pool for documents). Household-composition jobs go to
``loket.jobs`` with confirms, ``--window`` of them outstanding; each final reply lets the next
one go. After ``--warmup`` jobs the RSS of the worker and of its whole process tree (forkserver,
document pool) is the baseline; it is sampled every ``--sample-every`` jobs. The last lines are
machine-readable (``ratio rss growth: 0.03`` = final/baseline - 1 of the tree). RSS counts pages
shared between the pool processes once per process: the tree total overstates, but its growth is
what matters. The broker's queues are reset first: use a vhost of its own. The store keeps every
document (about 110 KB a job: some 11 GB in the temp directory for 100,000 jobs); its size is
printed for context and the directory removed at the end.

``--store-growth`` measures the store instead (issue 17): simulated days of jobs through a real
SQLite store and the real retention round, with and without ``documents.retention_days``,
reported as MB per 1,000 jobs and as ratios (bounded: final/at-retention-day near 1)::

    .venv/bin/python -m benchmarks.memory --store-growth --days 150 --per-day 40
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import random
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable
from pathlib import Path

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from benchmarks.common import bench_settings, wait_for_consumers, worker_env
from benchmarks.procfs import descendants, rss_kb
from hub import topology
from hub.config import REPO_ROOT, Settings
from hub.contract import Outcome
from hub.devpki import generate_dev_pki
from hub.maintenance import Maintenance
from hub.store.sqlite import SqliteStore
from hub.testing import CAPABILITIES, make_job, reset_broker
from simulators.magda import MagdaSimulatorSettings, start_magda_simulator
from simulators.population_data import WELL_KNOWN

PEOPLE = ("household_head", "single", "extended_head")
REPLY_QUEUE = "bench.memory.replies"


def rss_mb(root: int) -> tuple[float, float]:
    """RSS of ``root`` alone and with all its descendants, in MB."""
    return rss_kb(root) / 1024, sum(rss_kb(p) for p in descendants(root)) / 1024


async def _drop(message: AbstractIncomingMessage) -> None:
    pass


async def drive(url: str, worker: int, jobs: int, window: int, warmup: int,
                sample_every: int) -> tuple[Counter[str], dict[str, float]]:
    """Publish ``jobs`` with ``window`` outstanding; returns the outcomes and the RSS figures.

    Survives a broker restart: the connection is robust, a failed publish is repeated (same
    job id, so the hub answers once) and a result that comes twice counts once.
    """
    outcomes: Counter[str] = Counter()
    answered: set[str] = set()
    rss: dict[str, float] = {}
    slots = asyncio.Semaphore(window)
    finished = asyncio.Event()

    def sample(done: int) -> None:
        alone, total = rss_mb(worker)
        rss.setdefault("baseline", total)
        rss.setdefault("baseline worker", alone)
        rss.update({"final": total, "final worker": alone, "max": max(total, rss.get("max", 0))})
        print(f"jobs {done} rss_worker_mb {alone:.1f} rss_total_mb {total:.1f}", flush=True)

    async def on_reply(message: AbstractIncomingMessage) -> None:
        result = json.loads(message.body)
        await message.ack()
        if not Outcome(result["outcome"]).final or result["job_id"] in answered:
            return
        answered.add(result["job_id"])
        outcomes[result["outcome"]] += 1
        done = len(answered)
        if done == warmup or (done > warmup and (done % sample_every == 0 or done == jobs)):
            sample(done)
        slots.release()
        if done == jobs:
            finished.set()

    async def progress(waiting: Awaitable[object]) -> None:
        try:
            await asyncio.wait_for(waiting, timeout=300)
        except TimeoutError:
            raise RuntimeError(f"no result for 300 s after {len(answered)} jobs") from None

    async with await aio_pika.connect_robust(url) as connection:
        channel = await connection.channel(publisher_confirms=True)
        await channel.set_qos(prefetch_count=window)
        replies = await channel.declare_queue(REPLY_QUEUE, durable=True)
        await replies.purge()
        tag = await replies.consume(on_reply)
        # The status pusher is off: drop the status events so the broker does not pile them up.
        outbox = await channel.declare_queue(topology.STATUS_QUEUE, passive=True)
        await outbox.consume(_drop, no_ack=True)
        exchange = await channel.get_exchange(topology.JOBS_EXCHANGE)
        for i in range(jobs):
            await progress(slots.acquire())
            job = make_job(WELL_KNOWN[PEOPLE[i % len(PEOPLE)]])
            message = aio_pika.Message(
                json.dumps(job).encode(), content_type="application/json",
                message_id=job["job_id"], reply_to=REPLY_QUEUE,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
            for attempt in range(60):
                try:
                    await exchange.publish(message, routing_key=job["type"], timeout=10)
                    break
                except (aio_pika.exceptions.AMQPError, ConnectionError, TimeoutError,
                        RuntimeError):  # a robust channel that is closed right now
                    if attempt == 59:
                        raise
                    await asyncio.sleep(1)  # the broker is away; the robust connection returns
        await progress(finished.wait())
        await replies.cancel(tag)
        await channel.queue_delete(REPLY_QUEUE)
    return outcomes, rss


def _a_day_passes(path: Path) -> None:
    with sqlite3.connect(path, timeout=30) as conn:
        conn.execute("UPDATE job_outcomes SET created_at = created_at - 86400")


def _files_size(path: Path) -> int:
    """The database with its write-ahead log and index files."""
    return sum(f.stat().st_size for f in path.parent.glob(f"{path.name}*"))


async def _store_growth(retention_days: int, days: int, per_day: int, result_kb: int,
                        work: Path) -> list[tuple[int, int, float]]:
    """Simulated days of jobs through a real SQLite store and the real retention round:
    each day ``per_day`` jobs store a result of ``result_kb`` KB (incompressible, like the
    base64 of signed documents), then every row ages a day and a round runs. Returns
    (day, jobs so far, store MB) per day."""
    path = work / f"store-{retention_days}.db"
    store = SqliteStore(path)
    await store.open()
    settings = Settings()
    settings = dataclasses.replace(
        settings, documents=dataclasses.replace(settings.documents,
                                                retention_days=retention_days))
    maintenance = Maintenance(settings, store, "bench")
    rng = random.Random(9)
    sizes: list[tuple[int, int, float]] = []
    try:
        for day in range(1, days + 1):
            for n in range(per_day):
                job_id = f"job-{day:05d}-{n:05d}"
                await store.claim(job_id, "bench", 60, fingerprint="f", message=b"m" * 600)
                await store.complete(job_id, "bench", rng.randbytes(result_kb * 1024))
                await store.mark_published(job_id)
            await asyncio.to_thread(_a_day_passes, path)
            await maintenance.run_once()  # the same owner takes its lease again each day
            await store.checkpoint("TRUNCATE")
            size = await asyncio.to_thread(_files_size, path)
            sizes.append((day, day * per_day, size / 2**20))
    finally:
        await store.close()
    return sizes


async def store_growth(args: argparse.Namespace) -> None:
    """The store's size per 1,000 jobs over simulated days, with and without retention."""
    work = Path(tempfile.mkdtemp(prefix="loket-bench-store-"))
    try:
        kept = await _store_growth(0, args.days, args.per_day, args.result_kb, work)
        purged = await _store_growth(args.retention_days, args.days, args.per_day,
                                     args.result_kb, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("day  jobs  MB-without-retention  MB-with-retention")
    for (day, jobs, without), (_, _, with_) in zip(kept, purged, strict=True):
        if day % max(1, args.days // 10) == 0 or day == args.retention_days:
            print(f"{day:4d} {jobs:6d} {without:10.1f} {with_:10.1f}")
    jobs = kept[-1][1]
    print(f"store MB per 1000 jobs without retention: {kept[-1][2] / jobs * 1000:.1f}")
    print(f"store MB per 1000 jobs with retention: {purged[-1][2] / jobs * 1000:.1f}")
    plateau = purged[min(args.retention_days, args.days) - 1][2]
    print(f"ratio store size with retention final/at-retention-day: "
          f"{purged[-1][2] / plateau:.3f}")
    print(f"ratio store size with/without retention: {purged[-1][2] / kept[-1][2]:.3f}")


async def main(args: argparse.Namespace) -> None:
    if args.store_growth:
        await store_growth(args)
        return
    work = Path(tempfile.mkdtemp(prefix="loket-bench-memory-"))
    pki = generate_dev_pki(work / "pki")
    simulator = await start_magda_simulator(
        MagdaSimulatorSettings(port=0, trusted_certs=(pki["magda-client"].cert,)))
    settings = bench_settings(work, simulator.base_url, pki, amqp_url=args.amqp_url,
                              concurrency=args.concurrency)
    await reset_broker(args.amqp_url, CAPABILITIES, settings.broker.retry_delays_s,
                       settings.broker.poll_delays_s)
    log = (work / "worker.log").open("wb")  # the worker writes JSON log lines here
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub.cli", "run", env=worker_env(settings), cwd=REPO_ROOT,
        stdout=log, stderr=log)
    try:
        await wait_for_consumers(args.amqp_url, 1, alive=lambda: worker.returncode is None)
        started = time.perf_counter()
        outcomes, rss = await drive(args.amqp_url, worker.pid, args.jobs, args.window,
                                    args.warmup, args.sample_every)
        elapsed = time.perf_counter() - started
    except BaseException:
        log.flush()
        print((work / "worker.log").read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        if worker.returncode is None:
            worker.send_signal(signal.SIGTERM)
            await asyncio.wait_for(worker.wait(), timeout=60)
        log.close()
        await simulator.close()
        store_mb = (work / "hub.db").stat().st_size / 2**20
        shutil.rmtree(work, ignore_errors=True)
    print(f"jobs: {args.jobs}")
    print(f"delivered: {outcomes[Outcome.DELIVERED.value]}")
    print(f"outcomes: {dict(outcomes)}")
    print(f"throughput jobs/s: {args.jobs / elapsed:.1f}")
    for name, value in rss.items():
        print(f"rss {name} MB: {value:.1f}")
    print(f"store size MB: {store_mb:.1f}")
    print(f"ratio rss growth: {rss['final'] / rss['baseline'] - 1:.3f}")
    print(f"ratio rss growth worker: {rss['final worker'] / rss['baseline worker'] - 1:.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--window", type=int, default=200)
    parser.add_argument("--warmup", type=int, help="default: 5 %% of --jobs, at least 1000")
    parser.add_argument("--sample-every", type=int, help="default: --jobs / 50")
    parser.add_argument("--concurrency", type=int, default=32, help="the worker's prefetch")
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/bench")
    parser.add_argument("--store-growth", action="store_true",
                        help="instead: the store's size over simulated days, with and "
                             "without retention (no broker, no worker)")
    parser.add_argument("--days", type=int, default=150)
    parser.add_argument("--per-day", type=int, default=40)
    parser.add_argument("--result-kb", type=int, default=110)
    parser.add_argument("--retention-days", type=int, default=92)
    args = parser.parse_args()
    args.warmup = args.warmup or max(1000, args.jobs // 20)
    args.sample_every = args.sample_every or max(1, args.jobs // 50)
    if args.warmup >= args.jobs:
        parser.error("--warmup must be below --jobs")
    asyncio.run(main(args))
