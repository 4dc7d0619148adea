"""Test helpers shipped with the hub: a running in-process hub, a job factory, queue readers.

Used by our own tests and usable by front-office teams for theirs (against the simulators).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from adapters.backoffice.routes import load_routes
from hub import topology
from hub.app import Hub, pki_directory, pki_served_by, running_hub
from hub.backoffice_auth import sign_message
from hub.config import Settings, load_tenants
from hub.policy import kind_of
from hub.status.mapping import product_for
from hub.store.base import DeadLetter
from loket_hub.client import LoketClient
from simulators.pki import PkiSimulator, PkiSimulatorSettings, start_pki_simulator

__all__ = [
    "CAPABILITIES",
    "HubHarness",
    "job_body",
    "make_job",
    "publish_backoffice",
    "read_queue",
    "reset_broker",
    "running_test_hub",
    "tenant_secret",
]


def job_body(
    job_type: str,
    subject: str,
    parameters: dict[str, Any],
    *,
    requester: str | None = None,
    tenant: str = "gent",
    job_id: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A valid job body of any type; ``overrides`` replace top-level fields."""
    job: dict[str, Any] = {
        "contract_version": 1,
        "job_id": job_id or f"test-{uuid.uuid4()}",
        "type": job_type,
        "tenant": tenant,
        "requester": {
            "capacity": "person",
            "identifier": requester or subject,
            "authenticated": True,
        },
        "subject": {"kind": "person", "identifier": subject},
        # The catalogue's product of what is asked (mappings/products.toml).
        "product_id": product_for(job_type, kind_of(parameters)) or 1,
        "dossier_id": f"DOS-{uuid.uuid4().hex[:10]}",
        "parameters": parameters,
    }
    job.update(overrides)
    return job


def make_job(
    subject: str,
    *,
    requester: str | None = None,
    attest: str = "household-composition",
    tenant: str = "gent",
    job_id: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A valid ``population.attest`` job body; ``overrides`` replace top-level fields."""
    parameters = overrides.pop("parameters", {"attest": attest})
    return job_body("population.attest", subject, parameters, requester=requester,
                    tenant=tenant, job_id=job_id, **overrides)


CAPABILITIES = ["population", "civil-status", "criminal-record", "backoffice", "prefill",
                "usermgmt"]


async def reset_broker(
    url: str,
    capabilities: list[str],
    retry_delays_s: tuple[float, ...],
    poll_delays_s: tuple[float, ...] = (),
) -> None:
    """Delete the hub's queues so a test starts from an empty broker state."""
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        settings = Settings()
        names = topology.declared_queue_names(
            capabilities, retry_delays_s, poll_delays_s,
            approval_tenants=sorted(load_tenants(settings.tenants_dir)),
        )
        # The back offices' own queues, which the back-office adapter declares.
        names += [route.queue for route in load_routes(settings.backoffice.routes_file).values()
                  if route.queue]
        for name in names:
            await channel.queue_delete(name)
    finally:
        await connection.close()


def tenant_secret(tenant: str = "gent", tenants_dir: Path | None = None) -> bytes:
    """The back-office secret of ``tenant`` as the hub reads it (from its tenant file)."""
    tenants = load_tenants(tenants_dir or Settings().tenants_dir)
    return tenants[tenant].backoffice_secret_path.read_bytes().strip()


async def publish_backoffice(
    url: str, kind: str, body: dict[str, Any] | bytes, *, tenant: str = "gent",
    secret: bytes | None = None, signed: bool = True, routing_key: str | None = None,
    message_id: str | None = None, headers: dict[str, Any] | None = None,
    timestamp: int | None = None,
) -> None:
    """Publish a decision (``kind`` "decision") or an action ("action") as an employee's
    client or a back office does: signed with the tenant's back-office secret unless
    ``signed`` is False; ``secret``, ``routing_key``, ``timestamp`` and ``headers`` to send it
    wrong."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    signature = (sign_message(raw, secret or tenant_secret(tenant), timestamp)
                 if signed else {})
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(topology.BACKOFFICE_EXCHANGE)
        await exchange.publish(
            aio_pika.Message(raw, content_type="application/json", message_id=message_id,
                             headers={**signature, **(headers or {})}),
            routing_key=routing_key or f"{kind}.{tenant}",
        )


async def read_queue(
    url: str, queue: str, *, limit: int = 10_000, idle_s: float = 0.3
) -> list[AbstractIncomingMessage]:
    """Take every message currently in ``queue`` (acknowledging them).

    Consumes rather than polls with basic.get, which quorum queues with a single active
    consumer refuse; stops once no message came for ``idle_s``.
    """
    messages: list[AbstractIncomingMessage] = []
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        declared = await channel.get_queue(queue, ensure=True)
        async with declared.iterator() as incoming:
            while len(messages) < limit:
                try:
                    message = await asyncio.wait_for(anext(incoming), timeout=idle_s)
                except TimeoutError:
                    break
                await message.ack()
                messages.append(message)
    finally:
        await connection.close()
    return messages


@dataclass
class HubHarness:
    hub: Hub
    client: LoketClient
    settings: Settings
    worker_task: asyncio.Task[None]
    # The TSA, OCSP responder and CRLs the tenants sign with (None: every tenant signs B-B).
    pki: PkiSimulator | None = None

    async def status_events(self) -> list[dict[str, Any]]:
        messages = await read_queue(self.settings.broker.url, topology.STATUS_QUEUE)
        return [json.loads(m.body) for m in messages]

    async def dead_letters(self, *, expect: int = 0, timeout_s: float = 5.0) -> list[DeadLetter]:
        """What the worker kept from the dead-letter queue (waits until ``expect`` arrived)."""
        for _ in range(int(timeout_s / 0.05)):
            letters = await self.hub.store.dead_letters()
            if len(letters) >= expect:
                return list(reversed(letters))
            await asyncio.sleep(0.05)
        return list(reversed(await self.hub.store.dead_letters()))

    async def stop(self) -> None:
        self.hub.worker.request_stop()
        await asyncio.wait_for(self.worker_task, timeout=30)


@asynccontextmanager
async def running_test_hub(
    settings: Settings, *, reset: bool = True, pki: PkiSimulator | None = None,
    pki_url: str | None = None,
) -> AsyncIterator[HubHarness]:
    """A worker consuming in this event loop, and a connected front-office client.

    Tenants that sign above B-B get their time stamps and OCSP/CRL answers from ``pki`` (or
    the one at ``pki_url``, e.g. in another process), else from a PKI simulator started here
    (on a free port, for their development CA).
    """
    if reset:
        await reset_broker(settings.broker.url, CAPABILITIES, settings.broker.retry_delays_s,
                           settings.broker.poll_delays_s)
    tenants = load_tenants(settings.tenants_dir)
    ca_dir = pki_directory(tenants)
    own_pki = None
    if pki is None and pki_url is None and ca_dir is not None:
        pki = own_pki = await start_pki_simulator(PkiSimulatorSettings(ca_dir=ca_dir, port=0))
    try:
        if pki is not None or pki_url is not None:
            tenants = pki_served_by(tenants, pki.base_url if pki is not None else str(pki_url))
        async with running_hub(settings, tenants=tenants) as hub:
            task = asyncio.create_task(hub.worker.run())
            try:
                await asyncio.wait_for(hub.worker.ready.wait(), timeout=30)
                async with LoketClient.connect(settings.broker.url) as client:
                    yield HubHarness(hub=hub, client=client, settings=settings,
                                     worker_task=task, pki=pki)
            finally:
                hub.worker.request_stop()
                await asyncio.wait_for(task, timeout=30)
    finally:
        if own_pki is not None:
            await own_pki.close()
