"""Public API for front-office applications: publish a job and await its result.

    from loket_hub.client import LoketClient
    from loket_hub.jobs import PopulationAttest, Person

    async with LoketClient.connect("amqp://guest:guest@127.0.0.1:5672/") as client:
        result = await client.request(job, timeout=30)

Installable on its own (``pip install ./loket_hub``, needs aio-pika only); nothing here imports
the hub. :mod:`loket_hub.contract` (the result types) is standard library only, so the hub's
core imports it without aio-pika: the client is imported lazily, on first use of its names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loket_hub.client import (
        ClientClosed,
        CorruptResult,
        JobTimeout,
        LoketClient,
        UnroutableJob,
    )

__all__ = ["ClientClosed", "CorruptResult", "JobTimeout", "LoketClient", "UnroutableJob"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from loket_hub import client

        return getattr(client, name)
    raise AttributeError(f"module 'loket_hub' has no attribute {name!r}")
