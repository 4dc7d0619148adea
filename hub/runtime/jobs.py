"""The handler of the work queues (``jobs.<capability>``): one delivery of a job.

decode → claim the job id → run the pipeline → finish (store, count, publish with confirms,
mark published) → acknowledge. Acknowledged only after the broker confirmed everything it
caused; anything else leaves it unacknowledged, so the broker redelivers it and the stored
result is replayed (never a second back-end call).

Retries never sleep here: a transient failure republishes the job to the delayed retry queue
of its attempt (TTL, dead-lettered back to the work queue) and acknowledges the original.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import time
import uuid
from collections.abc import Awaitable, Callable

import structlog

from hub.config import Settings
from hub.contract import ErrorInfo, Job, Outcome, Result
from hub.contract_decoding import decode_job, peek_job_fields
from hub.errors import HubError, InvalidInput, OurFault, TransientError
from hub.metrics import HubMetrics
from hub.pipeline import Pipeline, Processed
from hub.ports import Consultation
from hub.runtime.finish import Finisher, job_type_label
from hub.runtime.inbound import (
    Delivery,
    attempt_of,
    is_continuation,
    is_internal_copy,
    misrouting,
    recovery_record,
)
from hub.runtime.publisher import Publisher
from hub.runtime.settle import ACK, DeadLetter, Settlement
from hub.store import Claim, ClaimState, OutcomeStore

__all__ = ["JobHandler", "audit_event"]

log = structlog.get_logger(__name__)


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


async def audit_event(store: OutcomeStore, job: Job, what: str, outcome: str,
                      result: Result | None, *, worker_id: str) -> None:
    """An audit record of what the hub itself did with a job's data (a replay of its
    documents, a refused reuse of its id): who asked, about whom, when, with what outcome.
    It sits beside the consultations, with ``service`` ``loket-hub:<what>``."""
    now = dt.datetime.now(dt.UTC)
    reference = str(uuid.uuid4())
    await store.consultation_started(Consultation(
        reference=reference, job_id=job.job_id, attempt=0, tenant=job.tenant,
        service=f"loket-hub:{what}", service_version="1",
        client_identification=worker_id,
        requester_capacity=job.requester.capacity,
        requester_identifier=job.requester.identifier,
        acting_person=job.requester.acting_person,
        subject_identifier=job.subject.identifier,
        purpose=(job.purpose or f"{what} of job {job.job_id}")[:200], started_at=now,
        decided_by=(result.decided_by or "") if result else "",
    ))
    documents = ",".join(d.sha256[:16] for d in result.documents) if result else None
    await store.consultation_finished(reference, outcome=outcome, reply_reference=documents,
                                      duration_ms=0.0)


class _Ending:
    """How one delivery ended, for its duration's labels; "error" until it says otherwise."""

    __slots__ = ("job_type", "outcome")

    def __init__(self) -> None:
        self.job_type: str | None = None
        self.outcome = "error"


class JobHandler:
    def __init__(self, settings: Settings, *, pipeline: Pipeline, store: OutcomeStore,
                 publisher: Publisher, finisher: Finisher, metrics: HubMetrics,
                 worker_id: str) -> None:
        self._settings = settings
        self._pipeline = pipeline
        self._store = store
        self._publisher = publisher
        self._finisher = finisher
        self._metrics = metrics
        self._worker_id = worker_id

    def _expired_before(self) -> float | None:
        """Results of jobs created before this (unix seconds) are past their retention."""
        days = self._settings.documents.retention_days
        return None if days <= 0 else time.time() - days * 86400.0

    async def handle(self, message: Delivery) -> Settlement:
        """One delivery of a job, timed: ``loket_job_duration_seconds`` by type and by how
        the delivery ended (the result's outcome, or retry, waiting, busy, replayed, error)."""
        started = time.monotonic()
        ending = _Ending()
        try:
            return await self._handle(message, ending)
        finally:
            self._metrics.job_duration.labels(
                type=job_type_label(ending.job_type, self._pipeline.job_types),
                outcome=ending.outcome,
            ).observe(time.monotonic() - started)

    async def _handle(self, message: Delivery, ending: _Ending) -> Settlement:
        attempt = attempt_of(message.headers)
        try:
            job = decode_job(message.body, message.message_id)
        except InvalidInput as error:
            ending.outcome = Outcome.REJECTED.value
            return await self._refuse_unreadable(message, error, ending)
        ending.job_type = job.type
        structlog.contextvars.bind_contextvars(tenant=job.tenant, job_type=job.type)
        if not message.reply_to:
            # Nobody could receive the result: refused before any back end is consulted.
            log.warning("job.refused_without_reply_to")
            ending.outcome = Outcome.REJECTED.value
            return DeadLetter("no-reply-to", ErrorInfo(
                "REPLY_TO_MISSING", "the job has no reply_to: nobody could receive its "
                "result, so no back end was consulted; publish it again with a reply_to",
                False))
        problem = misrouting(message, job)
        if problem is not None:
            ending.outcome = Outcome.REJECTED.value
            return await self._refuse_misrouted(message, job, problem)
        continuation = is_continuation(message.headers)
        claim = await self._store.claim(
            job.job_id, self._worker_id, self._settings.store.claim_lease_s,
            continuation=continuation, message=recovery_record(message, attempt),
            fingerprint=job.fingerprint, expired_before=self._expired_before(),
        )
        if claim.state is not ClaimState.ACQUIRED:
            return await self._not_acquired(message, job, attempt, claim, ending)
        try:
            # This worker holds the claim: no other run of the job is alive, so a consultation
            # record still open is a dead run's, closed now as abandoned.
            abandoned = await self._store.abandon_open_consultations(job.job_id)
            if abandoned:
                log.warning("audit.abandoned_runs_closed", records=abandoned)
            return await self._attempt(message, job, attempt, claim.journal, continuation,
                                       ending)
        except BaseException:
            # Whatever stopped the attempt (the store, the broker, a defect, a shutdown), the
            # claim goes back at once: the redelivery finds the job free, never "busy" until
            # the lease ends. What was stored stays (a stored result is replayed, never remade;
            # a release after the result was stored changes nothing).
            await asyncio.shield(self._finisher.release_quietly(job.job_id))
            raise

    async def _not_acquired(self, message: Delivery, job: Job, attempt: int, claim: Claim,
                            ending: _Ending) -> Settlement:
        """The claim went to no one, or to another worker, or the job is answered already."""
        if claim.state is ClaimState.CONFLICT:
            ending.outcome = Outcome.REJECTED.value
            return await self._refuse_conflict(message, job)
        if claim.state is ClaimState.EXPIRED:
            ending.outcome = Outcome.REJECTED.value
            return await self._refuse_expired(message, job)
        if claim.state is ClaimState.DONE:
            assert claim.result is not None
            ending.outcome = "replayed"
            return await self._replay(message, job, claim.result, published=claim.published)
        if claim.state is ClaimState.WAITING:
            # The job waits on an asynchronous back end: answer with where it stands. A
            # redelivery may mean the poll was never scheduled, so schedule one (polls are
            # idempotent: the journal says where to resume).
            ending.outcome = "waiting"
            if claim.result is not None:
                await self._publisher.result(message, Result.from_json(claim.result))
            if message.redelivered:
                await self._publisher.poll(message, job, self._settings.broker.poll_delays_s[0])
            return ACK
        # BUSY: another worker has it: look again later (see Routes.busy_queue_for).
        log.info("job.busy_elsewhere")
        ending.outcome = "busy"
        await self._publisher.busy(message, job, attempt)
        return ACK

    async def _replay(self, message: Delivery, job: Job, stored: bytes, *,
                      published: bool) -> Settlement:
        # Our own copies (retries, "busy elsewhere") carry the attempt header: like a
        # redelivery they are not a front office asking again. A broker restart can leave
        # two copies of one job alive (the copy was confirmed, the original's ack lost).
        asked_again = not (message.redelivered or is_internal_copy(message.headers))
        if not asked_again and published:
            log.info("job.already_answered")
            return ACK
        log.info("job.replayed")
        if asked_again:
            # The same request asked again: its documents go out once more, and the audit
            # says to whom and when.
            await audit_event(self._store, job, "replay", "replayed", Result.from_json(stored),
                              worker_id=self._worker_id)
            self._metrics.replays.labels(type=job.type).inc()
        # Never confirmed: "received" may have gone down with the rest (it can travel with the
        # final status). Sent again it is the same event, which DOSIS takes once (idempotent
        # by upload id). The stored bytes go out as they are.
        await self._finisher.publish_stored(message, job, stored, announce=not published)
        return ACK

    async def _attempt(self, message: Delivery, job: Job, attempt: int,
                       journal: dict[str, object] | None, continuation: bool,
                       ending: _Ending) -> Settlement:
        """One attempt of a job this worker holds the claim of."""
        received: _Announcement | None = None
        if attempt == 1 and not journal and not continuation:
            received = _Announcement(functools.partial(self._publisher.received, job),
                                     self._settings.status.received_after_s)
        # True while "received" is still to be published: it then goes right before the
        # job's next status, on whichever way the job leaves.
        announce = False
        dead: DeadLetter | None = None
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
                await self._publisher.received(job)
                announce = False
            if await self._retry_later(message, job, attempt, error):
                ending.outcome = "retry"
                return ACK
            processed = self._failed(job, attempt, ErrorInfo.from_exception(error))
        except OurFault as error:
            log.error("job.failed.our_fault", code=error.code, reason=error.message)
            processed = self._failed(job, attempt, ErrorInfo.from_exception(error))
            dead = DeadLetter("our-fault", processed.result.error)
        except HubError as error:  # any other kind of ours: treat as our fault, never crash
            log.error("job.failed.unexpected", code=error.code)
            processed = self._failed(job, attempt, ErrorInfo.from_exception(error))
            dead = DeadLetter("unexpected", processed.result.error)
        except Exception as exc:  # a defect (ours or a library's): one final answer, no loop
            log.exception("job.failed.crashed", exception=type(exc).__name__)
            processed = self._failed(job, attempt, ErrorInfo(
                "INTERNAL_ERROR", f"the hub failed on this job ({type(exc).__name__}); "
                "an operator has it in the dead letters", False))
            dead = DeadLetter("crashed", processed.result.error)
        if dead is not None:
            # The operator's copy goes first; the job's own answer follows.
            await self._publisher.dead_letter(message, reason=dead.reason, error=dead.error)
        if processed.continuation is not None:
            await self._finisher.park(message, job, processed, first=not journal,
                                      announce=announce)
            ending.outcome = "waiting"
            return ACK
        await self._finisher.finish(message, job, processed.result, announce=announce)
        ending.outcome = processed.result.outcome.value
        log.info("job.completed", outcome=processed.result.outcome.value, attempts=attempt)
        return ACK

    async def _retry_later(self, message: Delivery, job: Job, attempt: int,
                           error: TransientError) -> bool:
        """Give the claim back and schedule the next attempt; False when none is left."""
        delays = self._settings.broker.retry_delays_s
        await self._store.release(
            job.job_id, self._worker_id,
            due_in_s=delays[attempt - 1] if attempt <= len(delays) else None,
        )
        queue = await self._publisher.retry(message, job, attempt, error)
        if queue is None:
            log.warning("job.failed.retries_exhausted", code=error.code, attempts=attempt)
            return False
        self._metrics.retries.labels(type=job.type, code=error.code).inc()
        log.info("job.retry_scheduled", code=error.code, next_attempt=attempt + 1, queue=queue)
        return True

    @staticmethod
    def _failed(job: Job, attempt: int, error: ErrorInfo) -> Processed:
        return Processed(Result.for_job(job, Outcome.FAILED, attempts=attempt, error=error))

    # -- refusals ----------------------------------------------------------------------------

    async def _refuse_unreadable(self, message: Delivery, error: InvalidInput,
                                 ending: _Ending) -> Settlement:
        log.info("job.refused", code=error.code, reason=error.message[:300])
        if not message.reply_to:
            return DeadLetter("unreadable", ErrorInfo.from_exception(error))
        peeked = peek_job_fields(message.body)
        ending.job_type = peeked.get("type")

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
        await self._finisher.refuse(
            message, f"refused/{digest}", build,
            job_type=job_type_label(peeked.get("type"), self._pipeline.job_types))
        return ACK

    async def _refuse_misrouted(self, message: Delivery, job: Job, problem: str) -> Settlement:
        """The routing key says another type than the body: which one was meant is unknown,
        so neither is done. Refused once per message (the job id stays free for a job sent
        the right way)."""
        log.warning("job.misrouted", routing_key=str(message.routing_key)[:100])
        error = ErrorInfo("ROUTING_KEY_MISMATCH", problem, False,
                          {"routing_key": str(message.routing_key)[:200], "type": job.type})

        def build() -> Result:
            return Result.for_job(job, Outcome.REJECTED, attempts=1, error=error)

        digest = hashlib.sha256(
            str(message.routing_key).encode("utf-8", "replace") + b"\0" + message.body
        ).hexdigest()
        await self._finisher.refuse(message, f"misrouted/{digest}", build, job_type=job.type)
        return ACK

    async def _refuse_conflict(self, message: Delivery, job: Job) -> Settlement:
        """The job id belongs to another request: refused, and nothing of that one is sent."""
        log.warning("job.id_conflict")
        self._metrics.job_id_conflicts.labels(tenant=job.tenant).inc()
        error = ErrorInfo(
            "JOB_ID_CONFLICT", "this job id was used for another request (another tenant, "
            "type, requester, subject, product or parameters); give every job its own id",
            False)
        await audit_event(self._store, job, "job-id-conflict", "refused:JOB_ID_CONFLICT", None,
                          worker_id=self._worker_id)

        def build() -> Result:
            return Result.for_job(job, Outcome.REJECTED, attempts=1, error=error)

        await self._finisher.refuse(message, f"conflict/{job.job_id}/{job.fingerprint}", build,
                                    job_type=job.type)
        return ACK

    async def _refuse_expired(self, message: Delivery, job: Job) -> Settlement:
        """The job was answered, and its documents are past their retention: none are sent,
        no back end is consulted again."""
        days = self._settings.documents.retention_days
        log.info("job.result_expired", retention_days=days)
        self._metrics.expired.labels(type=job.type).inc()
        await audit_event(self._store, job, "replay", "refused:DOCUMENT_EXPIRED", None,
                          worker_id=self._worker_id)
        result = Result.for_job(job, Outcome.REJECTED, attempts=1, error=ErrorInfo(
            "DOCUMENT_EXPIRED", f"this job was answered and its documents were removed after "
            f"{days} days, as the e-counter promises; ask again with a new job", False,
            {"retention_days": days}))
        await self._publisher.result(message, result)
        return ACK

