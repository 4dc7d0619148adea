"""Settings shared by the benchmarks: a fresh store, dev keys, the simulator, one concurrency."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NamedTuple

import aio_pika

from hub.config import BackendSettings, Settings, SigningSettings, load_settings
from hub.devpki import KeyPair, generate_dev_pki
from simulators.magda import MagdaSimulator, MagdaSimulatorSettings, start_magda_simulator

__all__ = ["Bench", "bench_settings", "simulated_magda", "wait_for_consumers", "worker_env"]


class Bench(NamedTuple):
    """A benchmark's working folder, its hub settings and the simulator they point at."""

    work: Path
    settings: Settings
    simulator: MagdaSimulator


@asynccontextmanager
async def simulated_magda(
    name: str, *, amqp_url: str, concurrency: int, **simulator: Any
) -> AsyncIterator[Bench]:
    """A fresh folder with development keys, the MAGDA simulator in this process (``simulator``:
    more of its settings) and hub settings against both; the simulator closes on exit."""
    work = Path(tempfile.mkdtemp(prefix=f"loket-{name}-"))
    pki = generate_dev_pki(work / "pki")
    magda = await start_magda_simulator(MagdaSimulatorSettings(
        port=0, trusted_certs=(pki["magda-client"].cert,), **simulator))
    try:
        settings = bench_settings(work, magda.base_url, pki, amqp_url=amqp_url,
                                  concurrency=concurrency)
        yield Bench(work, settings, magda)
    finally:
        await magda.close()


def bench_settings(
    work: Path, magda_url: str, pki: dict[str, KeyPair], *, amqp_url: str, concurrency: int
) -> Settings:
    base = load_settings(environ={})
    return dataclasses.replace(
        base,
        broker=dataclasses.replace(base.broker, url=amqp_url, prefetch=concurrency,
                                   concurrency=concurrency),
        store=dataclasses.replace(base.store, url=f"sqlite:///{work}/hub.db"),
        magda=dataclasses.replace(base.magda, base_url=magda_url,
                                  signing_key=pki["magda-client"].key,
                                  signing_cert=pki["magda-client"].cert),
        documents=dataclasses.replace(base.documents, signing=SigningSettings(
            key=str(pki["document-signing"].key), cert=str(pki["document-signing"].cert))),
        backends={"population": BackendSettings(concurrency=max(concurrency, 10))},
    )



def worker_env(settings: Settings) -> dict[str, str]:
    """The environment of a ``loket-hub run`` subprocess with these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOKET_")}
    env.update(
        LOKET_BROKER__URL=settings.broker.url,
        LOKET_BROKER__PREFETCH=str(settings.broker.prefetch),
        LOKET_BROKER__CONCURRENCY=str(settings.broker.concurrency),
        LOKET_BACKENDS__POPULATION__CONCURRENCY=str(settings.backend("population").concurrency),
        LOKET_STORE__URL=settings.store.url,
        LOKET_MAGDA__BASE_URL=settings.magda.base_url,
        LOKET_MAGDA__SIGNING_KEY=str(settings.magda.signing_key),
        LOKET_MAGDA__SIGNING_CERT=str(settings.magda.signing_cert),
        LOKET_DOCUMENTS__SIGNING__KEY=settings.documents.signing.key,
        LOKET_DOCUMENTS__SIGNING__CERT=settings.documents.signing.cert,
        LOKET_ADMIN__PORT="0",
        LOKET_LOG_LEVEL="warning",
        LOKET_LOG_FORMAT="json",
    )
    return env


async def wait_for_consumers(
    url: str, count: int, *, alive: Callable[[], bool] = lambda: True, timeout_s: float = 60.0
) -> None:
    """Until ``count`` workers consume ``jobs.population``; ``alive`` False means one died."""
    async with await aio_pika.connect(url) as connection:
        channel = await connection.channel()
        for _ in range(int(timeout_s / 0.1)):
            if not alive():
                raise RuntimeError("a worker exited before it started consuming")
            try:
                queue = await channel.declare_queue("jobs.population", passive=True)
                if (queue.declaration_result.consumer_count or 0) >= count:
                    return
            except aio_pika.exceptions.ChannelClosed:
                channel = await connection.channel()
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{count} workers did not start consuming within {timeout_s:g} s")
