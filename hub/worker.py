"""One worker process's consumer: connect, declare the topology, consume every queue it serves
and hand each delivery to that queue's handler; reconnect when the broker goes away; drain on
stop. Nothing else.

The work is in :mod:`hub.runtime`: a handler per queue (:mod:`~hub.runtime.jobs`,
:mod:`~hub.runtime.decisions`, :mod:`~hub.runtime.actions`, :mod:`~hub.runtime.statuses`,
:mod:`~hub.runtime.deadletters`), each returning how its delivery ends, carried out by
:func:`~hub.runtime.settle.settle`; one :class:`~hub.runtime.publisher.Publisher`; one path
that finishes a job (:class:`~hub.runtime.finish.Finisher`); recovery of jobs the broker lost
(:mod:`~hub.runtime.recovery`).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika
import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection

from hub import topology
from hub.backoffice_auth import TenantSecrets
from hub.config import Settings
from hub.metrics import HubMetrics
from hub.pipeline import Pipeline
from hub.runtime.actions import ActionHandler
from hub.runtime.deadletters import DeadLetterHandler
from hub.runtime.decisions import DecisionHandler
from hub.runtime.finish import Finisher
from hub.runtime.jobs import JobHandler
from hub.runtime.parked import ParkedJobs
from hub.runtime.probe import wait_for_broker
from hub.runtime.publisher import Publisher
from hub.runtime.recovery import Recovery
from hub.runtime.settle import Settlement, settle
from hub.runtime.statuses import StatusHandler
from hub.runtime.transport import BROKER_FAILURES, AmqpTransport
from hub.status.pusher import StatusPusher
from hub.store import OutcomeStore

__all__ = ["Handlers", "Worker"]

log = structlog.get_logger(__name__)

Handle = Callable[[Any], Awaitable[Settlement]]


class Handlers:
    """A worker's collaborators, built once: the publisher and a handler per queue."""

    def __init__(self, settings: Settings, *, pipeline: Pipeline, store: OutcomeStore,
                 capabilities: list[str], worker_id: str, metrics: HubMetrics,
                 secrets: TenantSecrets, status_pusher: StatusPusher | None) -> None:
        lease_s = settings.store.claim_lease_s
        broker = settings.broker
        self.publisher = Publisher(
            topology.routes_for(capabilities, broker.retry_delays_s, broker.poll_delays_s),
            worker_id=worker_id, lease_s=lease_s, metrics=metrics)
        self.finisher = Finisher(store, self.publisher, metrics, worker_id=worker_id,
                                 lease_s=lease_s)
        parked = ParkedJobs(store=store, publisher=self.publisher, finisher=self.finisher,
                            secrets=secrets, metrics=metrics, worker_id=worker_id,
                            lease_s=lease_s)
        self.jobs = JobHandler(settings, pipeline=pipeline, store=store,
                               publisher=self.publisher, finisher=self.finisher,
                               metrics=metrics, worker_id=worker_id)
        self.decisions = DecisionHandler(parked=parked, pipeline=pipeline,
                                         finisher=self.finisher, worker_id=worker_id)
        self.actions = ActionHandler(settings, parked=parked, publisher=self.publisher,
                                     worker_id=worker_id)
        self.dead_letters = DeadLetterHandler(settings, store=store, finisher=self.finisher,
                                              worker_id=worker_id)
        self.statuses = StatusHandler(status_pusher) if status_pusher is not None else None
        self.recovery = Recovery(settings, store=store, publisher=self.publisher,
                                 metrics=metrics)


class Worker:
    """One worker process's consumer. ``run()`` returns after a graceful stop."""

    def __init__(
        self,
        settings: Settings,
        *,
        pipeline: Pipeline,
        store: OutcomeStore,
        capabilities: list[str],
        status_pusher: StatusPusher | None = None,
        metrics: HubMetrics | None = None,
        secrets: TenantSecrets | None = None,
        tenants: list[str] | None = None,
    ) -> None:
        self._settings = settings
        self._tenants = tenants or []
        self._capabilities = capabilities
        self.worker_id = settings.worker_id or f"worker-{uuid.uuid4().hex[:8]}"
        # Without secrets (a test worker that never gets decisions) every decision and action
        # is refused as coming from an unknown tenant.
        self.handlers = Handlers(
            settings, pipeline=pipeline, store=store, capabilities=capabilities,
            worker_id=self.worker_id, metrics=metrics or HubMetrics(),
            secrets=secrets or TenantSecrets({}), status_pusher=status_pusher)
        self._stopping = asyncio.Event()
        self._ready = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        # prefetch bounds what the broker hands us; this bounds what we work on at once.
        self._slots = asyncio.Semaphore(settings.broker.concurrency)
        self._connection: AbstractRobustConnection | None = None
        self._consumer_tags: list[tuple[Any, str]] = []

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def ready(self) -> asyncio.Event:
        """Set while the worker consumes every queue it serves."""
        return self._ready

    @property
    def tenants(self) -> list[str]:
        """The tenants this worker serves (their decisions, actions and task queues)."""
        return list(self._tenants)

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    @property
    def publisher(self) -> Publisher:
        return self.handlers.publisher

    def request_stop(self) -> None:
        self._stopping.set()

    def install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)

    async def run(self) -> None:
        """Consume until asked to stop; reconnect (with backoff) whenever the broker goes away."""
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                closed = await self._connect_and_consume()
                backoff = 0.5
                stop: asyncio.Future[Any] = asyncio.ensure_future(self._stopping.wait())
                await asyncio.wait({closed, stop}, return_when=asyncio.FIRST_COMPLETED)
                stop.cancel()
                if self._stopping.is_set():
                    await self._drain_and_close()
                    return
                log.warning("broker.connection.lost", reconnect_in_s=backoff)
            except topology.TopologyConflict:
                raise  # a queue that cannot be replaced now: the start stops, saying why
            except BROKER_FAILURES as exc:
                log.warning("broker.connect.failed", error=str(exc), retry_in_s=backoff)
            self._ready.clear()
            await self._close_quietly()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=backoff)
            # While it is down: a probe and a log line per attempt, no client traceback.
            await wait_for_broker(self._settings.broker.url, self._stopping)
            backoff = min(backoff * 2, 15.0)
        await self._drain_and_close()

    async def _connect_and_consume(self) -> asyncio.Future[None]:
        # A plain connection and our own reconnect loop: aio-pika's robust reconnect can come
        # back without consumers, and we want topology and consumers declared every time.
        connection = await aio_pika.connect(
            self._settings.broker.url,
            timeout=10,
            client_properties={"connection_name": f"loket-hub {self.worker_id}"},
        )
        self._connection = connection  # type: ignore[assignment]
        closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_close(*_: Any) -> None:
            if not closed.done():
                closed.set_result(None)

        connection.close_callbacks.add(on_close)
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        broker = self._settings.broker
        declared = await topology.declare(
            channel, self._capabilities, broker.retry_delays_s, broker.delivery_limit,
            broker.poll_delays_s,
            approval_tenants=(self._tenants if self._settings.backoffice.approval_queues
                              == "per-tenant" else None),
        )
        self.handlers.publisher.bind(AmqpTransport(channel, declared, broker.publish_timeout_s))
        # Only now: declaring may reopen the channel once (an outdated delay queue replaced),
        # which must not count as a lost connection nor drop the prefetch setting.
        channel.close_callbacks.add(on_close)
        await channel.set_qos(prefetch_count=broker.prefetch)
        self._consumer_tags = []
        handlers = self.handlers
        # Each delivery goes to the handler in ``self.handlers`` at that moment (a benchmark
        # or a test may put a wrapping handler there).
        for queue in declared.work_queues.values():
            await self._consume(queue, "job", lambda m: self.handlers.jobs.handle(m),
                                slots=True)
        await self._consume(declared.decisions, "decision",
                            lambda m: self.handlers.decisions.handle(m))
        await self._consume(declared.actions, "action",
                            lambda m: self.handlers.actions.handle(m))
        # Dead letters move into the store, where operators list, replay or discard them.
        await self._consume(declared.dead_queue, "dead_letter",
                            lambda m: self.handlers.dead_letters.handle(m))
        if handlers.statuses is not None:
            # Its own channel, prefetch bounding the dossiers pushed at once.
            outbox_channel: AbstractChannel = await connection.channel(publisher_confirms=True)
            await outbox_channel.set_qos(prefetch_count=self._settings.status.concurrency)
            outbox = await outbox_channel.get_queue(topology.STATUS_QUEUE, ensure=True)
            await self._consume(outbox, "status", handlers.statuses.handle)
        self._ready.set()
        log.info("worker.consuming", worker=self.worker_id, queues=list(declared.work_queues))
        return closed

    async def _consume(self, queue: Any, name: str, handle: Handle, *,
                       slots: bool = False) -> None:
        async def on_message(message: AbstractIncomingMessage) -> None:
            await self._deliver(name, message, handle, slots=slots)

        self._consumer_tags.append((queue, await queue.consume(on_message)))

    async def _deliver(self, name: str, message: AbstractIncomingMessage, handle: Handle, *,
                       slots: bool) -> None:
        """One delivery, tracked as in flight (a graceful stop waits for it)."""
        task = asyncio.current_task()
        assert task is not None
        self._in_flight.add(task)
        try:
            with structlog.contextvars.bound_contextvars(
                job_id=message.message_id, correlation_id=message.correlation_id,
                worker=self.worker_id,
            ):
                if slots:
                    async with self._slots:
                        await settle(name, message, self.publisher,
                                     lambda: handle(message))
                else:
                    await settle(name, message, self.publisher, lambda: handle(message))
        finally:
            self._in_flight.discard(task)

    async def _drain_and_close(self) -> None:
        """Stop consuming, let in-flight jobs finish within the grace period, then close.

        What does not finish is simply never acked: closing the channel hands it back to the
        broker for redelivery.
        """
        self._ready.clear()
        for queue, tag in self._consumer_tags:
            with contextlib.suppress(*BROKER_FAILURES):
                await queue.cancel(tag)
        self._consumer_tags = []
        if self._in_flight:
            log.info("worker.draining", in_flight=len(self._in_flight))
            _, pending = await asyncio.wait(
                set(self._in_flight), timeout=self._settings.broker.shutdown_grace_s
            )
            for task in pending:
                task.cancel()
            if pending:
                log.warning("worker.drain.incomplete", requeued=len(pending))
                await asyncio.gather(*pending, return_exceptions=True)
        await self._close_quietly()
        log.info("worker.stopped", worker=self.worker_id)

    async def _close_quietly(self) -> None:
        self.handlers.publisher.bind(None)
        if self._connection is not None:
            with contextlib.suppress(*BROKER_FAILURES):
                await self._connection.close()
        self._connection = None

    # -- jobs the broker lost ------------------------------------------------------------------

    async def recover_overdue(self) -> int:
        """See :meth:`hub.runtime.recovery.Recovery.recover_overdue`."""
        return await self.handlers.recovery.recover_overdue()

    async def recover_forever(self) -> None:
        """Recovery every ``store.recovery_interval_s`` while connected."""
        await self.handlers.recovery.run_forever(self._ready.is_set)
