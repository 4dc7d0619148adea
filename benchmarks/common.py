"""Settings shared by the benchmarks: a fresh store, dev keys, the simulator, one concurrency."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from hub.config import BackendSettings, Settings, SigningSettings, load_settings
from hub.devpki import KeyPair

__all__ = ["bench_settings"]


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
