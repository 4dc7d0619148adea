"""The hub against the limit (issue 9, items 1–3): one run, same broker, same simulator.

    .venv/bin/python -m benchmarks.ratios --jobs 300 --concurrency 32

1. **the limit**: a bare script doing only the irreducible work of a job, straight-line, at the
   same concurrency: consume, build and sign the SOAP request, one HTTP call to the simulator,
   parse the answer, render and sign the documents (XAdES XML + PAdES PDF, in the same process
   pool), publish the result (carrying the documents, base64 in JSON like the hub's) and the
   status, both persistent, with confirms, ack. No store, no policy, no framework.
2. the hub end to end on that simulator, jobs/s, as a fraction of (1);
3. the time the hub adds per job over (1) at low load (one job at a time, the two sides taking
   turns job by job): p50 and p99;
4. the CPU of one household certificate's documents (XML and PDF rendered and signed) over
   their floor, three RSA-2048 signatures and a SHA-256 of the documents' bytes, both timed in
   this process before the rounds (``benchmarks/documents.py`` tells the parts).
Each ratio is printed on its own line (``ratio hub/limit: 0.74``) for scripts.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import functools
import json
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import aio_pika
from aio_pika import DeliveryMode

from adapters.population.catalogue import load_catalogue
from adapters.population.client import HOUSEHOLD, PopulationClients, person_inhoud
from adapters.population.mapping import Issuer, build_certificate, household_from_inhoud
from benchmarks.common import simulated_magda
from benchmarks.documents import measure as measure_documents
from benchmarks.documents import pki_service
from hub.app import pki_directory, pki_served_by, signing_identities
from hub.config import load_settings, load_tenants
from hub.documents.pool import DocumentWorkers
from hub.logging import configure_logging
from hub.testing import make_job, running_test_hub
from simulators.population_data import WELL_KNOWN

PEOPLE = ("household_head", "single", "extended_head")


class Timed(NamedTuple):
    """One side's measured jobs: from the first publish to the last result, and per job."""

    elapsed_s: float
    per_job_s: list[float]


# Jobs each side runs before the timed ones: the pool processes' first certificate loads fonts
# and the first SOAP call builds caches, which would otherwise land in the low-load tail.
WARM_UP = 4


class Runner(Protocol):
    """One side, started and warmed up: runs a batch of jobs and times it."""

    async def __call__(self, batch: list[dict[str, Any]], one_by_one: bool = False) -> Timed: ...


@asynccontextmanager
async def limit_pipeline(settings: Any, concurrency: int, pki_url: str) -> AsyncIterator[Runner]:
    """The bare pipeline; per job, the seconds from publish to the result's arrival."""
    tenants = pki_served_by(load_tenants(settings.tenants_dir), pki_url)
    specs, refs = signing_identities(settings, tenants)
    documents = DocumentWorkers(settings.documents.pool_size, specs)
    await documents.start()
    clients = PopulationClients(settings.magda, settings.backend("population"), tenants)
    await clients.start()
    spec = load_catalogue()["household-composition"]
    connection = await aio_pika.connect(settings.broker.url)
    channel = await connection.channel(publisher_confirms=True)
    await channel.set_qos(prefetch_count=concurrency)
    # Jobs arrive and statuses leave through the same kind of queue as the hub's (quorum,
    # persistent messages): that cost is the broker's, not the hub's.
    quorum: dict[str, Any] = {"x-queue-type": "quorum"}
    work = await channel.declare_queue(f"bench.limit.{uuid.uuid4().hex[:6]}", durable=True,
                                       arguments=quorum)
    replies = await channel.declare_queue(exclusive=True)
    statuses = await channel.declare_queue(f"bench.limit.status.{uuid.uuid4().hex[:6]}",
                                           durable=True, arguments=quorum)
    started: dict[str, float] = {}
    answered: dict[str, float] = {}
    arrived = asyncio.Condition()

    async def handle(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        job = json.loads(message.body)
        insz = job["subject"]["identifier"]
        services = clients.for_tenant(job["tenant"])
        answer = await services.client(HOUSEHOLD).call(person_inhoud(HOUSEHOLD, insz))
        model = build_certificate(spec, household_from_inhoud(answer.inhoud), subject_insz=insz,
                                  issuer=Issuer("44021", "Stad Gent"), language="nl")
        tenant = tenants[job["tenant"]]
        xml, pdf = await documents.render_and_sign(
            model, tenant, job["job_id"], answer.request_reference, dt.datetime.now(dt.UTC),
            refs[tenant.slug])
        # The front office needs the documents themselves: the result carries them (base64 in
        # JSON, as the hub's does), and both messages are persistent: nothing may be lost.
        body = json.dumps({
            "job_id": job["job_id"], "outcome": "delivered",
            "documents": [
                {"kind": "household-composition-xml", "media_type": "application/xml",
                 "content": base64.b64encode(xml).decode("ascii")},
                {"kind": "household-composition-pdf", "media_type": "application/pdf",
                 "content": base64.b64encode(pdf).decode("ascii")},
            ],
        }).encode()
        status = json.dumps({"job_id": job["job_id"], "status": "delivered"}).encode()
        await asyncio.gather(
            channel.default_exchange.publish(
                aio_pika.Message(body, delivery_mode=DeliveryMode.PERSISTENT),
                routing_key=replies.name),
            channel.default_exchange.publish(
                aio_pika.Message(status, delivery_mode=DeliveryMode.PERSISTENT),
                routing_key=statuses.name),
        )
        await message.ack()

    async def on_reply(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        data = json.loads(message.body)
        async with arrived:
            answered[data["job_id"]] = time.perf_counter()
            arrived.notify_all()

    async def run(batch: list[dict[str, Any]], one_by_one: bool = False) -> Timed:
        ids = {job["job_id"] for job in batch}
        first = time.perf_counter()
        for job in batch:
            started[job["job_id"]] = time.perf_counter()
            await channel.default_exchange.publish(
                aio_pika.Message(json.dumps(job).encode(), delivery_mode=DeliveryMode.PERSISTENT),
                routing_key=work.name)
            if one_by_one:
                async with arrived:
                    await asyncio.wait_for(
                        arrived.wait_for(functools.partial(answered.__contains__, job["job_id"])),
                        60)
        async with arrived:
            await asyncio.wait_for(arrived.wait_for(lambda: ids <= answered.keys()), 600)
        last = max(answered[i] for i in ids)
        return Timed(last - first, [answered[i] - started[i] for i in ids])

    await replies.consume(on_reply, no_ack=True)
    consumer = await work.consume(handle)
    try:
        await run(_batch(WARM_UP))
        yield run
    finally:
        await work.cancel(consumer)
        for queue in (work, statuses):
            await queue.delete(if_unused=False, if_empty=False)
        await connection.close()
        await clients.close()
        documents.close()


@asynccontextmanager
async def hub_pipeline(settings: Any, pki_url: str) -> AsyncIterator[Runner]:
    """The hub, in this process; per job, the seconds from publish to the result's arrival."""
    async with running_test_hub(settings, pki_url=pki_url) as harness:

        async def run(batch: list[dict[str, Any]], one_by_one: bool = False) -> Timed:
            first = time.perf_counter()
            if one_by_one:
                times = []
                for job in batch:
                    started = time.perf_counter()
                    await harness.client.request(job, timeout=60)
                    times.append(time.perf_counter() - started)
                return Timed(time.perf_counter() - first, times)
            begun = {j["job_id"]: time.perf_counter() for j in batch}
            arrived: dict[str, float] = {}

            def stamp(job_id: str) -> Callable[[object], None]:
                def arrival(_: object) -> None:
                    arrived.setdefault(job_id, time.perf_counter())
                return arrival

            futures = []
            for job in batch:
                future = await harness.client.publish(job)
                future.add_done_callback(stamp(job["job_id"]))
                futures.append(future)
            await asyncio.wait_for(asyncio.gather(*futures), timeout=600)
            return Timed(max(arrived.values()) - first,
                         [arrived[job_id] - begun[job_id] for job_id in begun])

        await run(_batch(WARM_UP))
        yield run


def _batch(count: int) -> list[dict[str, Any]]:
    return [make_job(WELL_KNOWN[PEOPLE[i % len(PEOPLE)]]) for i in range(count)]


async def main(jobs: int, concurrency: int, low_load: int, rounds: int, amqp_url: str) -> None:
    configure_logging("console", "error")
    # pyHanko runs its own event loop: timed in a thread of its own, nothing else running yet.
    documents = await asyncio.to_thread(measure_documents, 30)
    print(f"documents ms CPU per certificate: {documents['documents']:.2f}, "
          f"floor {documents['floor']:.2f}")
    print(f"ratio documents/floor: {documents['ratio documents/floor']:.2f}", flush=True)
    ca_dir = pki_directory(load_tenants(load_settings(environ={}).tenants_dir))
    # Both sides time-stamp through the same PKI simulator (the tenants sign B-LT), in a process
    # of its own like the MAGDA simulator's back end would be.
    with pki_service(ca_dir or Path("var/dev-pki/ca")) as pki_url:
        await _rounds(jobs, concurrency, low_load, rounds, amqp_url, pki_url)


async def _rounds(
    jobs: int, concurrency: int, low_load: int, rounds: int, amqp_url: str, pki_url: str
) -> None:
    limit_rates: list[float] = []
    hub_rates: list[float] = []
    limit_low: list[float] = []
    hub_low: list[float] = []
    async with simulated_magda("ratios", amqp_url=amqp_url, concurrency=concurrency,
                               enforce_repertorium=False) as bench:
        settings = bench.settings
        # Rounds alternate the two sides, so a slow spell of the shared machine (the broker,
        # the simulator and both sides run on the same cores) falls on both.
        for _ in range(rounds):
            # Each side is timed from its first publish, after its warm-up jobs: start-up
            # (pool, connections, topology) is not part of a job.
            async with limit_pipeline(settings, concurrency, pki_url) as limit:
                limit_rates.append(jobs / (await limit(_batch(jobs))).elapsed_s)
            async with hub_pipeline(settings, pki_url) as hub:
                hub_rates.append(jobs / (await hub(_batch(jobs))).elapsed_s)
        # Low load: both sides up at once, one job at a time, taking turns job by job, so that
        # a slow spell of the machine falls on both alike.
        async with limit_pipeline(settings, 1, pki_url) as limit, \
                hub_pipeline(settings, pki_url) as hub:
            for job_pair in range(low_load):
                first, second = (limit, hub) if job_pair % 2 else (hub, limit)
                for side in (first, second):
                    (seconds,) = (await side(_batch(1), one_by_one=True)).per_job_s
                    (limit_low if side is limit else hub_low).append(seconds)

    def pct(values: list[float], q: int) -> float:
        return statistics.quantiles(values, n=100)[q - 1] * 1000
    ratios = [h / limit for h, limit in zip(hub_rates, limit_rates, strict=True)]
    print(f"jobs: {jobs} concurrency: {concurrency} rounds: {rounds} "
          f"low-load jobs: {len(hub_low)}")
    print("limit jobs/s per round: " + ", ".join(f"{r:.1f}" for r in limit_rates))
    print("hub jobs/s per round: " + ", ".join(f"{r:.1f}" for r in hub_rates))
    print("ratio per round: " + ", ".join(f"{r:.2f}" for r in ratios))
    print(f"low load p50 ms: limit {pct(limit_low, 50):.1f}, hub {pct(hub_low, 50):.1f}")
    print(f"low load p99 ms: limit {pct(limit_low, 99):.1f}, hub {pct(hub_low, 99):.1f}")
    print(f"ratio hub/limit: {statistics.median(ratios):.2f}")

    print(f"added ms p50: {pct(hub_low, 50) - pct(limit_low, 50):.1f}")
    print(f"added ms p99: {pct(hub_low, 99) - pct(limit_low, 99):.1f}")
    # The same jobs' turns side by side: hub minus limit, for each pair of neighbouring jobs.
    pairs = [(h - lim) * 1000 for h, lim in zip(hub_low, limit_low, strict=True)]
    print(f"added ms per pair of turns, median: {statistics.median(pairs):.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--low-load", type=int, default=200, help="low-load jobs per side")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    args = parser.parse_args()
    asyncio.run(main(args.jobs, args.concurrency, args.low_load, args.rounds, args.amqp_url))
