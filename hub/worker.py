"""The consume loop and its acknowledgement discipline.

For every delivery: decode → claim the job id → run the pipeline → store the result → publish the
result and the status event with publisher confirms → mark published → ack. A message is acked
only after the broker confirmed everything it caused; anything else leaves it unacked, so the
broker redelivers it and the stored result is replayed (never a second back-end call).

Retries never sleep here: a transient failure republishes the job to the delayed retry queue of
its attempt (TTL, dead-lettered back to the work queue) and acks the original.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import hashlib
import json
import signal
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import aio_pika
import structlog
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractRobustConnection,
)
from aio_pika.exceptions import AMQPError, DeliveryError

from hub import topology
from hub.backoffice_auth import (
    MessageRejected,
    TenantSecrets,
    signature_key,
    tenant_of_routing_key,
)
from hub.config import Settings
from hub.contract import (
    ErrorInfo,
    Job,
    Outcome,
    Result,
    decode_job,
    load_bounded,
    peek_job_fields,
)
from hub.errors import BrokerError, HubError, InvalidInput, OurFault, TransientError
from hub.metrics import HubMetrics
from hub.pipeline import Pipeline, Processed
from hub.ports import Consultation
from hub.status.lanes import DossierLanes, LaneBroken
from hub.status.pusher import StatusPusher
from hub.store import ClaimState, OutcomeStore
from hub.store.base import DeadLetter, store_safe_text

__all__ = ["Worker"]

log = structlog.get_logger(__name__)


class MessageLike(Protocol):
    """What the worker reads of a message: a delivery, or one rebuilt from a job's journal."""

    @property
    def body(self) -> bytes: ...
    @property
    def headers(self) -> Any: ...
    @property
    def message_id(self) -> str | None: ...
    @property
    def correlation_id(self) -> str | None: ...
    @property
    def reply_to(self) -> str | None: ...
    @property
    def content_type(self) -> str | None: ...
    @property
    def type(self) -> str | None: ...


@dataclass(frozen=True)
class StoredMessage:
    """A job's original message, kept in its journal so a later event can answer it."""

    body: bytes
    headers: dict[str, Any]
    message_id: str | None
    correlation_id: str | None
    reply_to: str | None
    content_type: str | None = "application/json"
    type: str | None = None

    def to_journal(self) -> dict[str, Any]:
        return {
            "body": self.body.decode("utf-8", "replace"),
            "message_id": self.message_id,
            "correlation_id": self.correlation_id,
            "reply_to": self.reply_to,
        }

    @classmethod
    def of(cls, message: MessageLike) -> StoredMessage:
        return cls(message.body, dict(message.headers or {}), message.message_id,
                   message.correlation_id, message.reply_to, message.content_type, message.type)

    @classmethod
    def from_journal(cls, data: Mapping[str, Any]) -> StoredMessage:
        return cls(str(data["body"]).encode(), {}, data.get("message_id"),
                   data.get("correlation_id"), data.get("reply_to"))


def _event_id(job_id: str, status: str, occurrence: str = "") -> str:
    # Derived, so a status published twice (a redelivery, a replay) is one transition for the
    # service; ``occurrence`` (the action or decision that caused it) tells apart a status that
    # rightly happens twice, such as a second request for information.
    suffix = f":{occurrence}" if occurrence else ""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"loket-hub:{job_id}:{status}{suffix}"))


def _occurrence_of(message: MessageLike) -> str:
    """What identifies an action or decision message: its message id, else its body."""
    if message.message_id:
        return f"id:{message.message_id}"
    return "body:" + hashlib.sha256(message.body).hexdigest()[:32]


def _kind_of(job: Job) -> str | None:
    """The kind of a job within its type (attest, act, model, product), for the catalogue."""
    for key in ("attest", "act", "model", "product"):
        value = job.parameters.get(key)
        if isinstance(value, str):
            return value
    return None


def _recovery_record(message: MessageLike, attempt: int) -> bytes:
    """What the store keeps of a job's message, to publish it again if the broker loses it."""
    return json.dumps({**StoredMessage.of(message).to_journal(), "attempt": attempt}).encode()


def _dossier_of(body: bytes) -> str:
    """The lane of a status event: its dossier (an unreadable event gets a lane of its own)."""
    try:
        event = json.loads(body)
        return str(event.get("dossier_id") or event.get("job_id") or "")
    except (ValueError, AttributeError):
        return ""


def _attempt_of(headers: Mapping[str, Any]) -> int:
    try:
        return max(1, int(headers.get(topology.ATTEMPT_HEADER, 1)))
    except (TypeError, ValueError):
        return 1


_ACTION_TRIES_HEADER = "x-loket-action-tries"
TENANT_HEADER = "x-loket-tenant"

EMPLOYEE_ACTIONS = ("handled-outside", "information-requested", "completed", "cancelled")
"""What an employee does with a request handled without a back office (the e-counter's four
actions: handle outside the system, ask for more information, complete, cancel)."""


class _StillRunning(Exception):
    """The job is in an attempt right now: what would resume it must come back later."""


class _Announcement:
    """The "received" status of a job's first attempt, published once the job has run for
    ``after_s``, or earlier on request (:meth:`now`).

    A job answered sooner sends "received" together with its next status instead, still
    first: its publish and the broker's work on it then stay off the way to the answer (about
    0.8 ms of a job's latency at low load). A slow job shows "received" while it runs.
    """

    def __init__(self, publish: Callable[[], Awaitable[None]], after_s: float) -> None:
        self._publish = publish
        self._publishing: asyncio.Future[None] | None = None
        self._timer = asyncio.get_running_loop().call_later(after_s, self._start)

    def _start(self) -> asyncio.Future[None]:
        if self._publishing is None:
            self._timer.cancel()
            self._publishing = asyncio.ensure_future(self._publish())
        return self._publishing

    async def now(self) -> None:
        """Publish it now (confirmed) unless that happened already."""
        await self._start()

    async def settle(self) -> bool:
        """True when "received" was not published and is the caller's to publish first."""
        if self._publishing is None:
            self._timer.cancel()
            return True
        await self._publishing
        return False


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
        # Without secrets (a test worker that never gets decisions) every decision and action
        # is refused as coming from an unknown tenant.
        self._secrets = secrets or TenantSecrets({})
        self._tenants = tenants or []
        self._pusher = status_pusher
        self._status_lanes = DossierLanes()
        self._metrics = metrics or HubMetrics()
        self._settings = settings
        self._pipeline = pipeline
        self._store = store
        self._capabilities = capabilities
        self.worker_id = settings.worker_id or f"worker-{uuid.uuid4().hex[:8]}"
        self._stopping = asyncio.Event()
        self._ready = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        # prefetch bounds what the broker hands us; this bounds what we work on at once.
        self._slots = asyncio.Semaphore(settings.broker.concurrency)
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._topology: topology.Topology | None = None
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
            except (AMQPError, OSError, ConnectionError) as exc:
                log.warning("broker.connect.failed", error=str(exc), retry_in_s=backoff)
            self._ready.clear()
            await self._close_quietly()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=backoff)
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
        self._channel = channel
        self._topology = await topology.declare(
            channel,
            self._capabilities,
            self._settings.broker.retry_delays_s,
            self._settings.broker.delivery_limit,
            self._settings.broker.poll_delays_s,
            approval_tenants=(self._tenants if self._settings.backoffice.approval_queues
                              == "per-tenant" else None),
        )
        # Only now: declaring may reopen the channel once (an outdated delay queue replaced),
        # which must not count as a lost connection nor drop the prefetch setting.
        channel.close_callbacks.add(on_close)
        await channel.set_qos(prefetch_count=self._settings.broker.prefetch)
        self._consumer_tags = []
        for queue in self._topology.work_queues.values():
            tag = await queue.consume(self._on_message)
            self._consumer_tags.append((queue, tag))
        decisions = self._topology.decisions
        self._consumer_tags.append((decisions, await decisions.consume(self._on_decision)))
        actions = self._topology.actions
        self._consumer_tags.append((actions, await actions.consume(self._on_action)))
        # Dead letters move into the store, where operators list, replay or discard them.
        dead = self._topology.dead_queue
        self._consumer_tags.append((dead, await dead.consume(self._keep_dead_letter)))
        if self._pusher is not None:
            # Its own channel. Events of one dossier go one after another in outbox order
            # (see DossierLanes); up to status.concurrency dossiers at once.
            outbox_channel = await connection.channel(publisher_confirms=True)
            await outbox_channel.set_qos(prefetch_count=self._settings.status.concurrency)
            outbox = await outbox_channel.get_queue(topology.STATUS_QUEUE, ensure=True)
            self._consumer_tags.append((outbox, await outbox.consume(self._on_status_event)))
        self._ready.set()
        log.info("worker.consuming", worker=self.worker_id, queues=list(self._topology.work_queues))
        return closed

    async def _drain_and_close(self) -> None:
        """Stop consuming, let in-flight jobs finish within the grace period, then close.

        What does not finish is simply never acked: closing the channel hands it back to the
        broker for redelivery.
        """
        self._ready.clear()
        for queue, tag in self._consumer_tags:
            with contextlib.suppress(AMQPError, RuntimeError, OSError):
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
        if self._connection is not None:
            with contextlib.suppress(AMQPError, RuntimeError, OSError):
                await self._connection.close()
        self._connection = None
        self._channel = None

    # -- jobs the broker lost ------------------------------------------------------------------

    async def recover_overdue(self) -> int:
        """Publish again, from the store, the jobs that should have moved and did not.

        The broker is trusted with a job between our steps (in a work queue, a retry or poll
        queue, a worker's hands); if it loses one there (RabbitMQ 3.10 left retries stuck in a
        delay queue after a restart), the store still knows the job and its message. A copy
        carries our attempt header, so a job that turns out to be done is not answered twice;
        a waiting job's copy is its lost poll.
        """
        settings = self._settings.store
        taken = await self._store.take_overdue(
            settings.recovery_grace_s, hold_s=settings.recovery_grace_s + settings.claim_lease_s)
        for job_id, state, record in taken:
            data = json.loads(record)
            stored = StoredMessage.from_journal(data)
            try:
                job = decode_job(stored.body, stored.message_id)
            except InvalidInput as error:
                log.error("job.recovery_unreadable", job_id=job_id, code=error.code)
                continue
            channel, _ = self._exchanges()
            headers: dict[str, Any] = {topology.ATTEMPT_HEADER: int(data.get("attempt", 1)),
                                       topology.RECOVERED_HEADER: "1"}
            if state == "waiting":
                # Its poll was lost: this copy is that poll.
                headers.update({topology.CONTINUATION_HEADER: "1", topology.ATTEMPT_HEADER: 1})
            await self._publish(channel.default_exchange,
                                topology.work_queue_name(job.capability),
                                self._copy(stored, headers))
            self._metrics.recovered.labels(type=job.type).inc()
            log.warning("job.recovered", job_id=job_id, attempt=headers[topology.ATTEMPT_HEADER])
        return len(taken)

    async def recover_forever(self) -> None:
        """:meth:`recover_overdue` every ``store.recovery_interval_s`` while connected."""
        interval = self._settings.store.recovery_interval_s
        if interval <= 0:
            return
        while True:
            await asyncio.sleep(interval)
            if not self._ready.is_set():
                continue
            try:
                await self.recover_overdue()
            except (BrokerError, DeliveryError) as exc:
                log.warning("job.recovery_deferred", reason=str(exc))
            except Exception:
                log.exception("job.recovery_failed")

    # -- one message -------------------------------------------------------------------------

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._in_flight.add(task)
        try:
            with structlog.contextvars.bound_contextvars(
                job_id=message.message_id,
                correlation_id=message.correlation_id,
                worker=self.worker_id,
            ):
                async with self._slots:
                    await self._handle(message)
        except BrokerError as exc:
            # Not acked: the broker redelivers and the stored result is replayed.
            log.warning("job.unacked", reason=str(exc))
            await self._nack_quietly(message)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job.crashed")
            await self._nack_quietly(message)
        finally:
            self._in_flight.discard(task)

    def _expired_before(self) -> float | None:
        """Results of jobs created before this (unix seconds) are past their retention."""
        days = self._settings.documents.retention_days
        return None if days <= 0 else time.time() - days * 86400.0

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        attempt = _attempt_of(message.headers or {})
        try:
            job = decode_job(message.body, message.message_id)
        except InvalidInput as error:
            await self._refuse_unreadable(message, error)
            return
        structlog.contextvars.bind_contextvars(tenant=job.tenant, job_type=job.type)
        if not message.reply_to:
            # Nobody could receive the result: refused before any back end is consulted.
            await self._refuse_without_reply_to(message, job)
            return
        headers = message.headers or {}
        continuation = str(headers.get(topology.CONTINUATION_HEADER, "")) == "1"
        claim = await self._store.claim(
            job.job_id, self.worker_id, self._settings.store.claim_lease_s,
            continuation=continuation, message=_recovery_record(message, attempt),
            fingerprint=job.fingerprint, expired_before=self._expired_before(),
        )
        if claim.state is ClaimState.CONFLICT:
            await self._refuse_conflict(message, job)
            return
        if claim.state is ClaimState.EXPIRED:
            await self._refuse_expired(message, job)
            return
        if claim.state is ClaimState.DONE:
            assert claim.result is not None
            # Our own copies (retries, "busy elsewhere") carry the attempt header: like a
            # redelivery they are not a front office asking again. A broker restart can leave
            # two copies of one job alive (the copy was confirmed, the original's ack lost).
            internal_copy = topology.ATTEMPT_HEADER in headers
            asked_again = not (message.redelivered or internal_copy)
            if not asked_again and claim.published:
                log.info("job.already_answered")
            else:
                log.info("job.replayed")
                result = Result.from_json(claim.result)
                if asked_again:
                    # The same request asked again: its documents go out once more, and the
                    # audit says to whom and when.
                    await self._audit_event(job, "replay", "replayed", result)
                    self._metrics.replays.labels(type=job.type).inc()
                # Never confirmed: "received" may have gone down with the rest (it can travel
                # with the final status). Sent again it is the same event, which DOSIS takes
                # once (idempotent by upload id). The stored bytes go out as they are.
                await self._publish_outcome(message, job, result, announce=not claim.published,
                                            body=claim.result)
            await self._ack(message)
            return
        if claim.state is ClaimState.WAITING:
            # The job waits on an asynchronous back end: answer with where it stands. A
            # redelivery may mean the poll was never scheduled, so schedule one (polls are
            # idempotent: the journal says where to resume).
            if claim.result is not None and message.reply_to:
                channel, _ = self._exchanges()
                await self._publish_result(channel, message, Result.from_json(claim.result))
            if message.redelivered:
                await self._schedule_poll(message, job, self._settings.broker.poll_delays_s[0])
            await self._ack(message)
            return
        if claim.state is ClaimState.BUSY:
            # Another worker has it: look again later (see busy_queue_for), attempt unchanged.
            log.info("job.busy_elsewhere")
            await self._schedule_retry(message, job, attempt, same_attempt=True)
            return
        try:
            # This worker holds the claim: no other run of the job is alive, so a consultation
            # record still open is a dead run's, closed now as abandoned.
            abandoned = await self._store.abandon_open_consultations(job.job_id)
            if abandoned:
                log.warning("audit.abandoned_runs_closed", records=abandoned)
            await self._attempt(message, job, attempt, claim.journal, continuation)
        except BaseException:
            # Whatever stopped the attempt (the store, the broker, a defect, a shutdown), the
            # claim goes back at once: the redelivery finds the job free, never "busy" until
            # the lease ends. What was stored stays (a stored result is replayed, never remade;
            # a release after the result was stored changes nothing).
            await asyncio.shield(self._release_quietly(job.job_id))
            raise

    async def _attempt(
        self, message: AbstractIncomingMessage, job: Job, attempt: int,
        journal: dict[str, object] | None, continuation: bool,
    ) -> None:
        """One attempt of a job this worker holds the claim of."""
        received: _Announcement | None = None
        if attempt == 1 and not journal and not continuation:
            received = _Announcement(
                functools.partial(self._publish_received, job),
                self._settings.status.received_after_s,
            )
        # True while "received" is still to be published: it then goes right before the
        # job's next status, on whichever way the job leaves.
        announce = False
        try:
            try:
                processed = await self._pipeline.process(
                    job, attempt, journal,
                    announce=received.now if received is not None else None,
                )
            finally:
                if received is not None:
                    announce = await received.settle()
        except TransientError as error:
            if announce:  # the retry is a later attempt, which announces nothing
                await self._publish_received(job)
                announce = False
            delays = self._settings.broker.retry_delays_s
            await self._store.release(
                job.job_id, self.worker_id,
                due_in_s=delays[attempt - 1] if attempt <= len(delays) else None,
            )
            if await self._schedule_retry(message, job, attempt, error=error):
                return
            log.warning("job.failed.retries_exhausted", code=error.code, attempts=attempt)
            processed = Processed(Result.for_job(
                job, Outcome.FAILED, attempts=attempt, error=ErrorInfo.from_exception(error)
            ))
        except OurFault as error:
            log.error("job.failed.our_fault", code=error.code, reason=error.message)
            processed = Processed(Result.for_job(
                job, Outcome.FAILED, attempts=attempt, error=ErrorInfo.from_exception(error)
            ))
            await self._dead_letter(message, reason="our-fault", error=processed.result.error)
        except HubError as error:  # any other kind of ours: treat as our fault, never crash
            log.error("job.failed.unexpected", code=error.code)
            processed = Processed(Result.for_job(
                job, Outcome.FAILED, attempts=attempt, error=ErrorInfo.from_exception(error)
            ))
            await self._dead_letter(message, reason="unexpected", error=processed.result.error)
        except Exception as exc:  # a defect (ours or a library's): one final answer, no loop
            log.exception("job.failed.crashed", exception=type(exc).__name__)
            processed = Processed(Result.for_job(
                job, Outcome.FAILED, attempts=attempt, error=ErrorInfo(
                    "INTERNAL_ERROR", f"the hub failed on this job ({type(exc).__name__}); "
                    "an operator has it in the dead letters", False),
            ))
            await self._dead_letter(message, reason="crashed", error=processed.result.error)
        await self._finish_attempt(message, job, processed, attempt, journal,
                                   announce=announce)

    async def _finish_attempt(
        self, message: AbstractIncomingMessage, job: Job, processed: Processed, attempt: int,
        journal: Mapping[str, Any] | None, *, announce: bool,
    ) -> None:
        """The one path that ends an attempt: park the job, or store, publish and ack."""
        result = processed.result
        if processed.continuation is not None:
            await self._suspend(message, job, processed, first=not journal,
                                announce=announce)
            await self._ack(message)
            return
        await self._store.complete(job.job_id, self.worker_id, result.to_json())
        # Counted once stored: a redelivery replays the stored result and is not counted again.
        self._metrics.jobs.labels(type=job.type, outcome=result.outcome.value).inc()
        await self._publish_outcome(message, job, result, announce=announce)
        await self._ack(message)
        log.info("job.completed", outcome=result.outcome.value, attempts=attempt)

    async def _release_quietly(self, job_id: str) -> None:
        """Give a claim back after a failure; the lease ends it anyway if even this fails."""
        try:
            await self._store.release(job_id, self.worker_id)
        except Exception as exc:
            log.warning("job.release_failed", error=repr(exc)[:200])

    async def _suspend(
        self, message: MessageLike, job: Job, processed: Processed, *, first: bool,
        announce: bool = False, approved: bool = False,
    ) -> None:
        """Park a job: journal stored, front office told, next poll or an employee's task set.

        The caller acks the message afterwards.
        """
        assert processed.continuation is not None
        if announce:
            # Confirmed before the job can be resumed: an employee's action may follow at once.
            await self._publish_received(job)
        continuation = processed.continuation
        # A back office answers as soon as it has the request, and its first action can resume
        # the job the moment it is stored as waiting: the job's own "in-treatment" status goes
        # out before that, so the citizen profile gets it first. (A crash before the store
        # runs the job again; the same status then is the same event, pushed once.)
        early_status = first and continuation.journal.get("awaiting") in {"backoffice",
                                                                          "employee"}
        if early_status:
            _, topo = self._exchanges()
            await self._publish_status(topo, job, processed.result, approved=approved)
        journal = {**continuation.journal, "_message": StoredMessage.of(message).to_journal()}
        due_in_s = None
        if continuation.poll_after_s is not None:
            # The poll comes after the delay of the queue it goes to, not the one asked for.
            _, topo = self._exchanges()
            due_in_s, _ = topo.poll_queue_for(job.capability, continuation.poll_after_s)
        await self._store.suspend(
            job.job_id, self.worker_id, journal=journal, interim=processed.result.to_json(),
            due_in_s=due_in_s,
        )
        if first:
            await self._publish_outcome(message, job, processed.result, final=False,
                                        approved=approved, status=not early_status)
        if continuation.poll_after_s is not None:
            await self._schedule_poll(message, job, continuation.poll_after_s)
        elif continuation.journal.get("awaiting") == "approval":
            await self._forward_approval_task(job, processed.result)
        elif continuation.journal.get("awaiting") == "employee":
            await self._forward_approval_task(job, processed.result, employee_task=True)
        # Otherwise the job waits for an outside event (a back office's action).
        log.info("job.waiting", poll_after_s=continuation.poll_after_s, note=continuation.note)

    # -- publishing --------------------------------------------------------------------------

    async def _publish(
        self,
        exchange: AbstractExchange,
        routing_key: str,
        message: aio_pika.Message,
        *,
        mandatory: bool = True,
    ) -> None:
        """Publish and wait for the broker's confirm; every failure is a typed broker error."""
        try:
            async with asyncio.timeout(self._settings.broker.publish_timeout_s):
                await exchange.publish(message, routing_key=routing_key, mandatory=mandatory)
        except DeliveryError:
            raise
        except (TimeoutError, AMQPError, RuntimeError, OSError, ConnectionError) as exc:
            raise BrokerError(f"publish to {routing_key!r} not confirmed: {exc!r}") from exc

    def _exchanges(self) -> tuple[AbstractChannel, topology.Topology]:
        if self._channel is None or self._topology is None:
            raise BrokerError("no open channel")
        return self._channel, self._topology

    async def _publish_outcome(
        self, incoming: MessageLike, job: Job, result: Result, *, final: bool = True,
        announce: bool = False, approved: bool = False, status: bool = True,
        body: bytes | None = None,
    ) -> None:
        """The result and the job's status, both confirmed; ``announce``: "received" first;
        ``status`` False: the status went out already; ``body``: the result's stored bytes
        (a replay sends them as they are)."""
        channel, topo = self._exchanges()

        async def statuses() -> None:
            if announce:  # confirmed before the next one, so the outbox keeps their order
                await self._publish_received(job)
            if status:
                await self._publish_status(topo, job, result, approved=approved)

        tasks = []
        if incoming.reply_to:
            # The result first: the front office waits on it, the status pusher does not.
            tasks.append(self._publish_result(channel, incoming, result, body=body))
        tasks.append(statuses())
        await asyncio.gather(*tasks)
        if final:
            await self._store.mark_published(job.job_id)

    async def _publish_result(
        self, channel: AbstractChannel, incoming: MessageLike, result: Result,
        *, body: bytes | None = None,
    ) -> None:
        assert incoming.reply_to is not None
        reply = aio_pika.Message(
            body=body if body is not None else result.to_json(),
            content_type="application/json",
            correlation_id=incoming.correlation_id,
            message_id=result.job_id,
            type="loket.result.v1",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            headers={"outcome": result.outcome.value},
        )
        try:
            await self._publish(channel.default_exchange, incoming.reply_to, reply)
        except DeliveryError:
            # The front office's reply queue is gone. The result stays in the store and goes
            # to the dead letters, where an operator can see it; the job itself is done.
            log.error("result.unroutable", reply_to=incoming.reply_to)
            await self._dead_letter_body(
                reply.body, reason="unroutable-result", properties=reply,
                error=ErrorInfo("REPLY_QUEUE_MISSING",
                                f"no queue {incoming.reply_to[:200]!r} takes the result: it "
                                "stays in the store and here", False),
            )

    async def _publish_received(self, job: Job) -> None:
        _, topo = self._exchanges()
        await self._publish_status(topo, job, None)

    async def _publish_status(
        self, topo: topology.Topology, job: Job, result: Result | None, *, status: str = "",
        occurrence: str = "", approved: bool = False, extra: Mapping[str, Any] | None = None,
    ) -> None:
        """One status event per transition, confirmed; ``result`` None for ``received``.

        ``approved``: an employee accepted the request (so an applicant who did not log in
        securely may now see it in their profile). ``extra``: what an employee's action adds
        for the applicant (``applicant_message``, ``notify``, ``information_from``).
        """
        status = status or (result.outcome.value if result else "received")
        event_id = _event_id(job.job_id, status, occurrence)
        event = {
            "event_id": event_id,
            "job_id": job.job_id,
            "type": job.type,
            "kind": _kind_of(job),
            "tenant": job.tenant,
            "dossier_id": job.dossier_id,
            "product_id": job.product_id,
            "applicant": {
                "capacity": job.requester.capacity,
                "identifier": job.requester.identifier,
                "authenticated": job.requester.authenticated,
            },
            "approved": approved or bool(result and result.decided_by
                                         and result.decided_by.startswith("approved-by:")),
            "status": status,
            "error_code": result.error.code if result and result.error else None,
            "note": result.note if result else None,
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            **(extra or {}),
        }
        await self._publish(
            topo.status,
            f"{job.tenant}.{status}",
            aio_pika.Message(
                body=json.dumps(event).encode(),
                content_type="application/json",
                message_id=event_id,
                type="loket.status.v1",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
        )

    async def _schedule_retry(
        self,
        message: AbstractIncomingMessage,
        job: Job,
        attempt: int,
        *,
        error: HubError | None = None,
        same_attempt: bool = False,
    ) -> bool:
        """Republish to the retry queue for this attempt and ack. False when none is left."""
        channel, topo = self._exchanges()
        headers = dict(message.headers or {})
        if same_attempt:
            times_busy = int(str(headers.get(topology.BUSY_HEADER, 0)))
            queue: str | None = topo.busy_queue_for(
                job.capability, times_busy, self._settings.store.claim_lease_s)
            headers[topology.BUSY_HEADER] = times_busy + 1
        else:
            queue = topo.retry_queue_for(job.capability, attempt)
            headers.pop(topology.BUSY_HEADER, None)
        if queue is None:
            return False
        next_attempt = attempt if same_attempt else attempt + 1
        headers[topology.ATTEMPT_HEADER] = next_attempt
        if error is not None:
            headers[topology.ERROR_HEADER] = f"{error.code}: {error.message}"[:500]
        await self._publish(channel.default_exchange, queue, self._copy(message, headers))
        await self._ack(message)
        if error is not None:
            self._metrics.retries.labels(type=job.type, code=error.code).inc()
            log.info("job.retry_scheduled", code=error.code, next_attempt=next_attempt, queue=queue)
        return True

    async def _schedule_poll(self, message: MessageLike, job: Job, delay_s: float) -> None:
        """The next look at an asynchronous back end, through a delayed poll queue."""
        channel, topo = self._exchanges()
        delay, queue = topo.poll_queue_for(job.capability, delay_s)
        headers = dict(message.headers or {})
        headers[topology.CONTINUATION_HEADER] = "1"
        # Every poll has its own attempts at the back end.
        headers[topology.ATTEMPT_HEADER] = 1
        await self._publish(channel.default_exchange, queue, self._copy(message, headers))
        log.info("job.poll_scheduled", queue=queue, delay_s=delay)

    @staticmethod
    def _copy(message: MessageLike, headers: dict[str, Any]) -> aio_pika.Message:
        return aio_pika.Message(
            body=message.body,
            headers=headers,
            content_type=message.content_type,
            message_id=message.message_id,
            correlation_id=message.correlation_id,
            reply_to=message.reply_to,
            type=message.type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )

    # -- approvals -----------------------------------------------------------------------------

    async def _forward_approval_task(
        self, job: Job, result: Result, *, employee_task: bool = False
    ) -> None:
        """An employee's task in the back office: what is asked, by whom, and which rule.

        ``employee_task``: a request the municipality handles without a back-office application
        (the e-counter's task inbox): the employee answers with one of :data:`EMPLOYEE_ACTIONS`
        through the same decision contract, as often as needed until a final one.
        """
        _, topo = self._exchanges()
        decisions = " | ".join(EMPLOYEE_ACTIONS) if employee_task else "approve | refuse"
        answer: dict[str, Any] = {"job_id": job.job_id, "decision": decisions,
                                  "reason": "…", "employee": "…"}
        if employee_task:
            answer.update({
                "applicant_message": "… (optional: words for the applicant)",
                "information_from": "applicant | third-party (information-requested)",
                "notify_applicant": "true | false (optional e-mail)",
            })
        task: dict[str, Any] = {
            "task_id": job.job_id,
            "job_id": job.job_id,
            "type": job.type,
            "tenant": job.tenant,
            "dossier_id": job.dossier_id,
            "product_id": job.product_id,
            "parameters": job.parameters,
            "requester": {
                "capacity": job.requester.capacity,
                "identifier": job.requester.identifier,
                "authenticated": job.requester.authenticated,
                "acting_person": job.requester.acting_person,
                "name": job.requester.name,
            },
            "subject": {"kind": job.subject.kind, "identifier": job.subject.identifier},
            "purpose": job.purpose,
            "rule": result.error.details.get("rule") if result.error else None,
            "reason": result.note,
            "decide_with": {
                "exchange": topology.BACKOFFICE_EXCHANGE,
                "routing_key": f"decision.{job.tenant}",
                "body": answer,
                "sign": {"headers": ["x-loket-timestamp", "x-loket-signature"],
                         "with": f"HMAC-SHA256 of '<timestamp>.<body>' under {job.tenant}'s "
                                 "back-office secret"},
            },
        }
        if employee_task:
            task["task"] = "handle-request"
            task["actions"] = list(EMPLOYEE_ACTIONS)
        await self._publish(
            topo.backoffice,
            f"approval.{job.tenant}.{job.type}",
            aio_pika.Message(
                body=json.dumps(task).encode(), content_type="application/json",
                message_id=job.job_id,
                type="loket.employee-task.v1" if employee_task else "loket.approval-task.v1",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
        )

    async def _guarded(
        self, name: str, message: AbstractIncomingMessage,
        handle: Callable[[AbstractIncomingMessage], Awaitable[None]],
    ) -> None:
        """Run a side consumer's handler: never crash, never ack what was not handled."""
        task = asyncio.current_task()
        assert task is not None
        self._in_flight.add(task)
        try:
            await handle(message)
        except BrokerError as exc:
            log.warning(f"{name}.unacked", reason=str(exc))
            await self._nack_quietly(message)
        except TransientError as exc:
            # The job is back to waiting; the message comes again (bounded by the queue's
            # delivery limit, after which it is dead-lettered for an operator).
            log.warning(f"{name}.retry", code=exc.code)
            await self._nack_quietly(message)
        except Exception:
            log.exception(f"{name}.crashed")
            await self._nack_quietly(message)
        finally:
            self._in_flight.discard(task)

    async def _on_decision(self, message: AbstractIncomingMessage) -> None:
        await self._guarded("decision", message, self._decide)

    async def _resume(
        self, job_id: str, awaiting: frozenset[str]
    ) -> tuple[StoredMessage, Job, dict[str, Any]] | None:
        """Take a job that waits for one of ``awaiting``: its original message, job and journal.

        None (and the claim given back) when the job does not wait for that.
        """
        claim = await self._store.claim(
            job_id, self.worker_id, self._settings.store.claim_lease_s, continuation=True
        )
        if claim.state is ClaimState.BUSY:
            raise _StillRunning(job_id)
        journal = claim.journal or {}
        if claim.state is not ClaimState.ACQUIRED or journal.get("awaiting") not in awaiting:
            if claim.state is ClaimState.ACQUIRED:
                await self._store.release(job_id, self.worker_id)
            log.warning("resume.not_awaited", awaiting=sorted(awaiting),
                        state=claim.state.value)
            return None
        stored = journal["_message"]
        assert isinstance(stored, dict)
        original = StoredMessage.from_journal(stored)
        return original, decode_job(original.body, original.message_id), journal

    async def _signed(self, message: AbstractIncomingMessage, kind: str) -> str | None:
        """The tenant whose back-office secret signed this decision or action; None (and the
        message refused) when it is not signed as :mod:`hub.backoffice_auth` says."""
        headers = message.headers or {}
        routing_key = message.routing_key
        copied = headers.get(TENANT_HEADER)
        if tenant_of_routing_key(routing_key, kind) is None and isinstance(copied, str):
            # Our own delayed copy of an early action: it lost its routing key on the way.
            routing_key = f"{kind}.{copied}"
        try:
            return self._secrets.verify(message.body, headers, routing_key, kind)
        except MessageRejected as refused:
            await self._refuse_message(message, kind, refused)
            return None

    async def _refuse_message(self, message: AbstractIncomingMessage, kind: str,
                              refused: MessageRejected) -> None:
        log.warning(f"{kind}.refused", reason=refused.reason, detail=refused.message)
        self._metrics.refused_messages.labels(kind=kind, reason=refused.reason).inc()
        await self._dead_letter(message, reason=f"{kind}-{refused.reason}",
                                error=ErrorInfo(refused.code, refused.message, False))
        await self._ack(message)

    async def _applicable(self, message: AbstractIncomingMessage, kind: str, tenant: str,
                          fields: Mapping[str, Any], job: Job,
                          journal: Mapping[str, Any]) -> bool:
        """Whether a signed decision or action may change this job: signed for the job's own
        tenant, naming no other, and not applied to it before. The caller holds the claim and
        gives it back when this says no (the message is then refused, or acknowledged when it
        is a redelivery of one already applied)."""
        named = fields.get("tenant")
        if tenant != job.tenant or (named is not None and named != job.tenant):
            await self._refuse_message(message, kind, MessageRejected(
                "wrong-tenant", f"signed for {tenant!r}, the job belongs to another tenant"))
            return False
        if signature_key(message.headers or {}) in (journal.get("_applied") or ()):
            if message.redelivered:
                log.info(f"{kind}.already_applied")
                await self._ack(message)
            else:
                await self._refuse_message(message, kind, MessageRejected(
                    "replayed", "this signed message was applied to the job already"))
            return False
        return True

    @staticmethod
    def _applied(journal: Mapping[str, Any], message: AbstractIncomingMessage
                 ) -> dict[str, Any]:
        """The journal with this message remembered as applied (the last 100 are kept)."""
        applied = [*(journal.get("_applied") or ())][-99:]
        return {**journal, "_applied": [*applied, signature_key(message.headers or {})]}

    async def _decide(self, message: AbstractIncomingMessage) -> None:
        """An employee's decision: approve or refuse a parked job, or one of the four actions
        on a request the municipality handles without a back office (an employee task)."""
        tenant = await self._signed(message, "decision")
        if tenant is None:
            return
        try:
            decision = load_bounded(message.body)
            if not isinstance(decision, dict):
                raise ValueError("a decision is a JSON object")
            job_id = str(decision["job_id"])[:200]
            verdict = str(decision["decision"])[:100]
            if verdict not in {"approve", "refuse", *EMPLOYEE_ACTIONS}:
                raise ValueError(f"decision must be approve, refuse or one of "
                                 f"{', '.join(EMPLOYEE_ACTIONS)}, not {verdict!r}")
        except (InvalidInput, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("decision.unreadable", reason=str(exc)[:300])
            await self._dead_letter(message, reason="unreadable-decision", error=ErrorInfo(
                "INVALID_DECISION", str(exc)[:500], False))
            await self._ack(message)
            return
        awaiting = "approval" if verdict in {"approve", "refuse"} else "employee"
        with structlog.contextvars.bound_contextvars(job_id=job_id, worker=self.worker_id):
            try:
                resumed = await self._resume(job_id, frozenset({awaiting}))
            except _StillRunning:
                # A decision answers the task a parked job sent out: a running job has none.
                log.warning("resume.not_awaited", awaiting=awaiting, state="busy")
                resumed = None
            if resumed is None:
                await self._ack(message)
                return
            original, job, journal = resumed
            try:
                if not await self._applicable(message, "decision", tenant, decision, job,
                                              journal):
                    await self._store.release(job_id, self.worker_id)
                    return
                await self._apply_decision(message, original, job, journal, verdict,
                                           decision)
            except BaseException:
                await asyncio.shield(self._release_quietly(job_id))
                raise

    async def _apply_decision(
        self, message: AbstractIncomingMessage, original: StoredMessage, job: Job,
        journal: dict[str, Any], verdict: str, decision: Mapping[str, Any],
    ) -> None:
        employee = str(decision.get("employee") or "employee")[:200]
        if verdict in EMPLOYEE_ACTIONS:
            await self._relay(message, original, job, self._applied(journal, message), verdict,
                              decision, cancel_code="CANCELLED_BY_EMPLOYEE")
            return
        if verdict == "refuse":
            reason = str(decision.get("reason") or "refused by an employee")[:500]
            processed = Processed(Result.for_job(
                job, Outcome.REJECTED, attempts=1,
                error=ErrorInfo("REFUSED_BY_EMPLOYEE", reason, False,
                                {"employee": employee, "rule": journal.get("rule")}),
            ))
        else:
            approved = {"employee": employee, "rule": journal.get("rule")}
            processed = await self._pipeline.process(job, 1, {"approved": approved})
        log.info("decision.applied", decision=verdict, employee=employee)
        accepted = verdict == "approve"
        if processed.continuation is not None:
            await self._suspend(original, job, processed, first=True, approved=accepted)
        else:
            await self._store.complete(job.job_id, self.worker_id, processed.result.to_json())
            await self._publish_outcome(original, job, processed.result, approved=accepted)
        await self._ack(message)

    async def _keep_dead_letter(self, message: AbstractIncomingMessage) -> None:
        headers = dict(message.headers or {})
        reason = str(headers.get("x-loket-dead-reason")
                     or headers.get("x-first-death-reason") or "dead-lettered")[:100]
        error = headers.get(topology.ERROR_HEADER)
        if "x-loket-dead-reason" not in headers:
            # Dead-lettered by RabbitMQ itself (a message that reached the queue's delivery
            # limit): it carries none of our headers, so they are written here, and a job
            # among them still gets its one final answer.
            queue = str(headers.get("x-first-death-queue") or "?")[:200]
            failure = ErrorInfo("DELIVERY_LIMIT", f"RabbitMQ dead-lettered it from {queue} "
                                f"({reason}): no worker could finish it", False)
            headers["x-loket-dead-reason"] = reason
            headers[topology.ERROR_HEADER] = error = json.dumps(failure.to_dict())
            if queue.startswith("jobs."):
                await self._answer_dead_job(message, failure)
        try:
            # Whatever a message carries, its letter can be stored (no NUL, no lone surrogate
            # in a text column); the body is kept as it came.
            def text(value: object) -> str | None:
                return None if value is None else store_safe_text(str(value))[:2000]

            await self._store.add_dead_letter(DeadLetter(
                id=None, received_at=dt.datetime.now(dt.UTC), reason=text(reason) or "?",
                error=text(error), message_id=text(message.message_id),
                correlation_id=text(message.correlation_id), reply_to=text(message.reply_to),
                headers=json.dumps(headers, default=str), body=message.body,
            ))
            await self._ack(message)
        except Exception:
            log.exception("dead_letter.keep_failed")
            await self._nack_quietly(message)

    async def _answer_dead_job(self, message: AbstractIncomingMessage,
                               failure: ErrorInfo) -> None:
        """Give a job RabbitMQ gave up on its final answer (``failed``), unless it has one."""
        try:
            job = decode_job(message.body, message.message_id)
        except InvalidInput:
            return  # an unreadable job never reaches the delivery limit: it is refused first
        if not message.reply_to:
            return
        try:
            claim = await self._store.claim(
                job.job_id, self.worker_id, self._settings.store.claim_lease_s,
                fingerprint=job.fingerprint)
            if claim.state is ClaimState.ACQUIRED:
                result = Result.for_job(job, Outcome.FAILED, attempts=1, error=failure)
                await self._store.complete(job.job_id, self.worker_id, result.to_json())
                self._metrics.jobs.labels(type=job.type, outcome=result.outcome.value).inc()
                await self._publish_outcome(message, job, result)
            elif claim.state is ClaimState.DONE and not claim.published and claim.result:
                await self._publish_outcome(message, job, Result.from_json(claim.result),
                                            body=claim.result)
        except Exception as exc:  # the dead letter is kept whatever happens here
            await self._release_quietly(job.job_id)
            log.warning("dead_letter.answer_failed", job_id=job.job_id, error=repr(exc)[:200])

    # -- statuses to the citizen profile ------------------------------------------------------

    async def _on_status_event(self, message: AbstractIncomingMessage) -> None:
        await self._guarded("status", message, self._push_status)

    async def _push_status(self, message: AbstractIncomingMessage) -> None:
        assert self._pusher is not None
        # The lane is taken before the first suspension, so lanes fill in delivery order.
        try:
            async with self._status_lanes.turn(_dossier_of(message.body)):
                outcome = await self._pusher.handle(message.body)
                if not outcome.pushed:
                    await self._dead_letter(message, reason=outcome.reason, error=outcome.error)
                await self._ack(message)
        except LaneBroken:
            # An earlier status of this dossier went back to the queue: follow it, so the
            # broker hands both out again in their order.
            log.info("status.requeued_behind_earlier")
            await self._nack_quietly(message)

    # -- back-office actions on forwarded requests ---------------------------------------------

    _FINAL_ACTIONS: ClassVar[frozenset[str]] = frozenset(
        {"handled-outside", "completed", "cancelled"}
    )
    _ACTION_STATUS: ClassVar[dict[str, str]] = {
        "received": "backoffice-received",
        "handled-outside": "backoffice-handled-outside",
        "information-requested": "backoffice-information-needed",
        "completed": "backoffice-completed",
        "cancelled": "backoffice-cancelled",
    }

    async def _on_action(self, message: AbstractIncomingMessage) -> None:
        await self._guarded("action", message, self._relay_action)

    async def _action_later(self, message: AbstractIncomingMessage, tenant: str) -> None:
        """The action's job is still in its attempt (the back office answered before the job
        was parked): bring the action back after a short delay. After two leases (time for a
        dead worker's lease to end and the job to be run again and parked) it goes to the dead
        letters, where an operator can replay it."""
        headers = dict(message.headers or {})
        tries = int(str(headers.get(_ACTION_TRIES_HEADER, 0))) + 1
        if tries * topology.ACTION_RETRY_DELAY_S > 2 * self._settings.store.claim_lease_s:
            log.error("action.job_still_running", tries=tries)
            await self._dead_letter(message, reason="action-job-busy", error=ErrorInfo(
                "JOB_STILL_RUNNING", "the job never came to wait for its back office", True))
            await self._ack(message)
            return
        headers[_ACTION_TRIES_HEADER] = tries
        headers[TENANT_HEADER] = tenant  # the copy comes back without its routing key
        log.info("action.early", tries=tries)
        channel, _ = self._exchanges()
        await self._publish(channel.default_exchange, topology.ACTION_RETRY_QUEUE, aio_pika.Message(
            body=message.body, content_type=message.content_type,
            message_id=message.message_id, headers=headers,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        ))
        await self._ack(message)

    async def _relay_action(self, message: AbstractIncomingMessage) -> None:
        """One back-office action: a result for the front office and a status for the citizen."""
        tenant = await self._signed(message, "action")
        if tenant is None:
            return
        try:
            action = load_bounded(message.body)
            if not isinstance(action, dict):
                raise ValueError("an action is a JSON object")
            job_id = str(action["job_id"])[:200]
            kind = str(action["action"])[:100]
            if kind not in self._ACTION_STATUS:
                raise KeyError(kind)
        except (InvalidInput, ValueError, KeyError, TypeError) as exc:
            await self._dead_letter(message, reason="unreadable-action",
                                    error=ErrorInfo("INVALID_ACTION", repr(exc)[:500], False))
            await self._ack(message)
            return
        with structlog.contextvars.bound_contextvars(job_id=job_id, worker=self.worker_id):
            try:
                resumed = await self._resume(job_id, frozenset({"backoffice"}))
            except _StillRunning:
                await self._action_later(message, tenant)
                return
            if resumed is None:
                await self._ack(message)
                return
            original, job, journal = resumed
            try:
                if not await self._applicable(message, "action", tenant, action, job, journal):
                    await self._store.release(job_id, self.worker_id)
                    return
                await self._relay(message, original, job, self._applied(journal, message),
                                  kind, action, cancel_code="CANCELLED_BY_BACK_OFFICE")
            except BaseException:
                await asyncio.shield(self._release_quietly(job_id))
                raise

    def _action_status(self, kind: str, fields: Mapping[str, Any]) -> str:
        """The citizen's status for an action: information asked of someone else is not the
        applicant's to act on."""
        if kind == "information-requested" and \
                str(fields.get("information_from") or "applicant") != "applicant":
            return "backoffice-information-requested-elsewhere"
        return self._ACTION_STATUS[kind]

    async def _relay(
        self, message: AbstractIncomingMessage, original: StoredMessage, job: Job,
        journal: dict[str, Any], kind: str, fields: Mapping[str, Any], *, cancel_code: str,
    ) -> None:
        """Relay one action on a parked request (from its back office, or from an employee
        when there is none): a result for the front office, a status for the applicant; the
        job stays parked until a final action. The caller holds the job's claim."""
        status = self._action_status(kind, fields)
        data = {k: fields[k] for k in ("action", "decision", "message", "information_from",
                                       "employee", "at") if fields.get(k) is not None}
        data.setdefault("action", kind)
        note = str(fields.get("message") or f"{kind} ({fields.get('employee') or 'back office'})")
        if kind == "cancelled":
            result = Result.for_job(job, Outcome.REJECTED, attempts=1, data=data, note=note,
                                    error=ErrorInfo(cancel_code, note, False))
        elif kind in self._FINAL_ACTIONS:
            result = Result.for_job(job, Outcome.DELIVERED, attempts=1, data=data, note=note)
        else:
            result = Result.for_job(job, Outcome.IN_TREATMENT, attempts=1, data=data,
                                    note=note)
        # For the applicant only what is meant for them: never the internal note.
        extra: dict[str, Any] = {}
        if isinstance(fields.get("applicant_message"), str) and fields["applicant_message"]:
            extra["applicant_message"] = fields["applicant_message"][:200]
        if isinstance(fields.get("notify_applicant"), bool):
            extra["notify"] = fields["notify_applicant"]
        if kind == "information-requested":
            extra["information_from"] = str(fields.get("information_from") or "applicant")
        channel, topo = self._exchanges()
        if result.outcome.final:
            await self._store.complete(job.job_id, self.worker_id, result.to_json())
            self._metrics.jobs.labels(type=job.type, outcome=result.outcome.value).inc()
        else:
            await self._store.suspend(job.job_id, self.worker_id, journal=dict(journal),
                                      interim=result.to_json())
        tasks = [self._publish_status(topo, job, result, status=status,
                                      occurrence=_occurrence_of(message), extra=extra)]
        if original.reply_to:
            tasks.append(self._publish_result(channel, original, result))
        await asyncio.gather(*tasks)
        if result.outcome.final:
            await self._store.mark_published(job.job_id)
        log.info("action.relayed", action=kind, status=status)
        await self._ack(message)

    # -- refusals and dead letters -----------------------------------------------------------

    async def _refusal(self, key: str, build: Callable[[], Result]) -> bytes:
        """The bytes of a refusal that no job owns (an unreadable body, a job id taken by
        another request): made once per ``key`` and kept, so the same message sent again gets
        the same bytes. ``key`` holds a "/", which no job id has."""
        claim = await self._store.claim(key, self.worker_id, self._settings.store.claim_lease_s)
        if claim.state is ClaimState.DONE and claim.result is not None:
            return claim.result
        body = build().to_json()
        if claim.state is ClaimState.ACQUIRED:
            await self._store.complete(key, self.worker_id, body)
            await self._store.mark_published(key)
        return body

    async def _refuse_unreadable(
        self, message: AbstractIncomingMessage, error: InvalidInput
    ) -> None:
        log.info("job.refused", code=error.code, reason=error.message[:300])
        if not message.reply_to:
            await self._dead_letter(message, reason="unreadable",
                                    error=ErrorInfo.from_exception(error))
            await self._ack(message)
            return
        peeked = peek_job_fields(message.body)

        def build() -> Result:
            return Result(
                job_id=peeked.get("job_id") or (message.message_id or "")[:200] or None,
                outcome=Outcome.REJECTED,
                type=peeked.get("type"),
                tenant=peeked.get("tenant"),
                dossier_id=peeked.get("dossier_id"),
                error=ErrorInfo.from_exception(error),
                attempts=1,
            )

        digest = hashlib.sha256(
            (message.message_id or "").encode("utf-8", "replace") + b"\0" + message.body
        ).hexdigest()
        body = await self._refusal(f"refused/{digest}", build)
        channel, _ = self._exchanges()
        await self._publish_result(channel, message, build(), body=body)
        await self._ack(message)

    async def _refuse_without_reply_to(self, message: AbstractIncomingMessage, job: Job) -> None:
        """A job nobody could receive the answer of: never run, kept for an operator."""
        log.warning("job.refused_without_reply_to")
        await self._dead_letter(message, reason="no-reply-to", error=ErrorInfo(
            "REPLY_TO_MISSING", "the job has no reply_to: nobody could receive its result, so "
            "no back end was consulted; publish it again with a reply_to", False))
        await self._ack(message)

    async def _refuse_conflict(self, message: AbstractIncomingMessage, job: Job) -> None:
        """The job id belongs to another request: refused, and nothing of that one is sent."""
        log.warning("job.id_conflict")
        self._metrics.job_id_conflicts.labels(tenant=job.tenant).inc()
        error = ErrorInfo(
            "JOB_ID_CONFLICT", "this job id was used for another request (another tenant, "
            "type, requester, subject, product or parameters); give every job its own id",
            False)
        await self._audit_event(job, "job-id-conflict", "refused:JOB_ID_CONFLICT", None)

        def build() -> Result:
            return Result.for_job(job, Outcome.REJECTED, attempts=1, error=error)

        body = await self._refusal(f"conflict/{job.job_id}/{job.fingerprint}", build)
        assert message.reply_to is not None
        channel, _ = self._exchanges()
        await self._publish_result(channel, message, build(), body=body)
        await self._ack(message)

    async def _refuse_expired(self, message: AbstractIncomingMessage, job: Job) -> None:
        """The job was answered, and its documents are past their retention: none are sent,
        no back end is consulted again."""
        days = self._settings.documents.retention_days
        log.info("job.result_expired", retention_days=days)
        self._metrics.expired.labels(type=job.type).inc()
        await self._audit_event(job, "replay", "refused:DOCUMENT_EXPIRED", None)
        result = Result.for_job(job, Outcome.REJECTED, attempts=1, error=ErrorInfo(
            "DOCUMENT_EXPIRED", f"this job was answered and its documents were removed after "
            f"{days} days, as the e-counter promises; ask again with a new job", False,
            {"retention_days": days}))
        assert message.reply_to is not None
        channel, _ = self._exchanges()
        await self._publish_result(channel, message, result)
        await self._ack(message)

    async def _audit_event(self, job: Job, what: str, outcome: str,
                           result: Result | None) -> None:
        """An audit record of what the hub itself did with a job's data (a replay of its
        documents, a refused reuse of its id): who asked, about whom, when, with what outcome.
        It sits beside the consultations, with ``service`` ``loket-hub:<what>``."""
        now = dt.datetime.now(dt.UTC)
        reference = str(uuid.uuid4())
        await self._store.consultation_started(Consultation(
            reference=reference, job_id=job.job_id, attempt=0, tenant=job.tenant,
            service=f"loket-hub:{what}", service_version="1",
            client_identification=self.worker_id,
            requester_capacity=job.requester.capacity,
            requester_identifier=job.requester.identifier,
            acting_person=job.requester.acting_person,
            subject_identifier=job.subject.identifier,
            purpose=(job.purpose or f"{what} of job {job.job_id}")[:200], started_at=now,
            decided_by=(result.decided_by or "") if result else "",
        ))
        documents = ",".join(d.sha256[:16] for d in result.documents) if result else None
        await self._store.consultation_finished(reference, outcome=outcome,
                                                reply_reference=documents, duration_ms=0.0)

    async def _dead_letter(
        self, message: MessageLike, *, reason: str, error: ErrorInfo | None
    ) -> None:
        await self._dead_letter_body(message.body, reason=reason, properties=message, error=error)

    async def _dead_letter_body(
        self,
        body: bytes,
        *,
        reason: str,
        properties: aio_pika.Message | MessageLike,
        error: ErrorInfo | None = None,
    ) -> None:
        _, topo = self._exchanges()
        self._metrics.dead_letters.labels(reason=reason).inc()
        headers = dict(properties.headers or {})
        headers["x-loket-dead-reason"] = reason
        headers["x-loket-worker"] = self.worker_id
        # Every dead letter says why, in words and as a code (an operator filters on both).
        error = error or ErrorInfo(reason.upper().replace("-", "_"), reason, False)
        headers[topology.ERROR_HEADER] = json.dumps(error.to_dict())[:2000]
        await self._publish(
            topo.dead,
            "",
            aio_pika.Message(
                body=body,
                headers=headers,
                content_type=properties.content_type,
                message_id=properties.message_id,
                correlation_id=properties.correlation_id,
                reply_to=properties.reply_to,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
        )

    async def _ack(self, message: AbstractIncomingMessage) -> None:
        try:
            await message.ack()
        except (AMQPError, RuntimeError, OSError, ConnectionError) as exc:
            # The channel this message came on is gone; the broker will redeliver it.
            raise BrokerError(f"ack failed: {exc!r}") from exc

    async def _nack_quietly(self, message: AbstractIncomingMessage) -> None:
        # When the channel is gone the broker requeues unacked messages by itself.
        with contextlib.suppress(AMQPError, RuntimeError, OSError, ConnectionError):
            await message.nack(requeue=True)
