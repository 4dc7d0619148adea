"""Settings shared by the benchmarks: a fresh store, dev keys, the simulator, one concurrency."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from hub.config import BackendSettings, Settings, SigningSettings, load_settings
from hub.devpki import KeyPair

__all__ = ["bench_settings", "worker_env"]


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


def worker_env(
    work: Path, magda_url: str, pki: dict[str, KeyPair], *, amqp_url: str, store_url: str = "",
    concurrency: int = 32,
) -> dict[str, str]:
    """The environment of a ``loket-hub run`` subprocess with the same settings as above."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOKET_")}
    env.update(
        LOKET_BROKER__URL=amqp_url,
        LOKET_BROKER__PREFETCH=str(concurrency),
        LOKET_BROKER__CONCURRENCY=str(concurrency),
        LOKET_STORE__URL=store_url or f"sqlite:///{work}/hub.db",
        LOKET_MAGDA__BASE_URL=magda_url,
        LOKET_MAGDA__SIGNING_KEY=str(pki["magda-client"].key),
        LOKET_MAGDA__SIGNING_CERT=str(pki["magda-client"].cert),
        LOKET_DOCUMENTS__SIGNING__KEY=str(pki["document-signing"].key),
        LOKET_DOCUMENTS__SIGNING__CERT=str(pki["document-signing"].cert),
        LOKET_BACKENDS__POPULATION__CONCURRENCY=str(max(concurrency, 10)),
        LOKET_ADMIN__PORT="0",
        LOKET_LOG_FORMAT="json",
        LOKET_LOG_LEVEL="warning",
    )
    return env
