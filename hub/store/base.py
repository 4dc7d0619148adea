"""The store port and its value types."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from hub.ports import Consultation
from hub.store.queries import AuditQuery, Page, RequestQuery, RequestRecord, SavedFilter

__all__ = [
    "ABANDONED",
    "AuditRecord",
    "Claim",
    "ClaimState",
    "DeadLetter",
    "OutcomeStore",
    "StatusPush",
    "store_safe_text",
]

AUDIT_COLUMNS = (
    "reference", "job_id", "attempt", "tenant", "service", "service_version",
    "client_identification", "requester_capacity", "requester_identifier", "acting_person",
    "subject_identifier", "purpose", "started_at", "decided_by", "job_type", "finished_at",
    "outcome", "reply_reference", "duration_ms",
)
STARTED_COLUMNS = 15  # the columns written before the call
# The outcome of a consultation whose run died before it recorded one (see
# OutcomeStore.abandon_open_consultations): the call may or may not have reached the back end.
ABANDONED = "abandoned"

# What no store can hold as text: lone surrogates (not encodable as UTF-8, so SQLite's driver
# raises) and NUL (PostgreSQL refuses it in text).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def store_safe_text(value: str) -> str:
    """``value`` with every character a store cannot hold as text replaced by U+FFFD.

    The audit is written from what a job carries; no string may make that write fail.
    """
    return _UNSTORABLE.sub("\ufffd", value)


def _safe(value: object) -> object:
    return store_safe_text(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class AuditRecord:
    """One consultation as stored; ``outcome`` is None while the call had no answer."""

    reference: str
    job_id: str
    attempt: int
    tenant: str
    service: str
    service_version: str
    client_identification: str
    requester_capacity: str
    requester_identifier: str
    acting_person: str | None
    subject_identifier: str
    purpose: str
    started_at: dt.datetime
    decided_by: str | None
    job_type: str | None  # None for a record written before the audit held it
    finished_at: dt.datetime | None
    outcome: str | None
    reply_reference: str | None
    duration_ms: float | None


@dataclass(frozen=True)
class DeadLetter:
    """A message the hub could not handle, kept for an operator to inspect, replay or discard."""

    id: int | None
    received_at: dt.datetime
    reason: str
    error: str | None
    message_id: str | None
    correlation_id: str | None
    reply_to: str | None
    headers: str  # JSON
    body: bytes
    state: str = "new"  # new | replayed | discarded
    handled_by: str | None = None


@dataclass(frozen=True)
class StatusPush:
    upload_id: str
    job_id: str
    dossier_id: str
    tenant: str
    status: str
    pushed_at: dt.datetime
    result: str | None = None  # accepted | refused, once DOSIS processed it (read back)
    reason: str | None = None


def consultation_row(c: Consultation) -> tuple[object, ...]:
    """The columns written before the call, every text store-safe (:func:`store_safe_text`)."""
    return tuple(_safe(value) for value in (
        c.reference, c.job_id, c.attempt, c.tenant, c.service, c.service_version,
        c.client_identification, c.requester_capacity, c.requester_identifier, c.acting_person,
        c.subject_identifier, c.purpose, c.started_at.astimezone(dt.UTC), c.decided_by,
        c.job_type,
    ))


class ClaimState(StrEnum):
    ACQUIRED = "acquired"  # this worker owns the job now and may call the back end
    DONE = "done"  # a result exists: replay it, never call the back end again
    BUSY = "busy"  # another worker owns it and its lease has not expired
    WAITING = "waiting"  # an asynchronous back end works on it; ``result`` is the interim one
    CONFLICT = "conflict"  # the job id is taken by another request (another fingerprint)
    EXPIRED = "expired"  # done, but its result and documents are past their retention


@dataclass(frozen=True)
class Claim:
    state: ClaimState
    result: bytes | None = None
    published: bool = False
    journal: dict[str, object] | None = None


class OutcomeStore(Protocol):
    """Per job id: who works on it (a lease), and the final result once there is one."""

    async def open(self) -> None:
        """Connect and create the tables if needed."""

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Raise if the store cannot be reached (readiness)."""

    async def claim(
        self, job_id: str, owner: str, lease_s: float, *, continuation: bool = False,
        message: bytes | None = None, fingerprint: str | None = None,
        expired_before: float | None = None,
    ) -> Claim:
        """Take the job for ``owner`` unless it is done or leased by another owner.

        A job waiting on an asynchronous back end is taken only by its own ``continuation``
        (the scheduled poll); anything else gets ``WAITING`` and the interim result.
        ``message`` (the job's message, as the worker keeps it) is stored with the claim, so
        the job can be published again if the broker loses it (:meth:`take_overdue`).

        ``fingerprint`` (what was asked, :attr:`hub.contract.Job.fingerprint`) is bound
        to the job id by its first claim; a claim with another one gets ``CONFLICT`` and
        nothing of the stored job. ``expired_before`` (unix seconds): a done job created
        before it gets ``EXPIRED``, and its result is purged on the spot.
        """

    async def release(self, job_id: str, owner: str, *, due_in_s: float | None = None) -> None:
        """Give the job up after a transient failure, so the next attempt can claim it;
        ``due_in_s``: when that attempt is expected (its retry delay)."""

    async def take_overdue(self, grace_s: float, hold_s: float, limit: int = 100
                           ) -> list[tuple[str, str, bytes]]:
        """Jobs that should have moved ``grace_s`` ago and did not: a lease that ran out with
        no worker taking the job over, a retry or a poll that never came back. Each is held
        for ``hold_s`` (so one worker republishes it once) and returned as (job id, state,
        message)."""

    async def suspend(
        self, job_id: str, owner: str, *, journal: dict[str, object], interim: bytes,
        due_in_s: float | None = None,
    ) -> None:
        """Park the job until its next poll, with what the adapter needs to resume;
        ``due_in_s``: when that poll is expected (None: it waits for an outside event)."""

    async def complete(self, job_id: str, owner: str, result: bytes) -> None:
        """Store the final result; from now on every claim answers DONE with it."""

    async def mark_published(self, job_id: str) -> None:
        """Record that the broker confirmed the result for this job."""

    async def result(self, job_id: str) -> bytes | None:
        """The stored result, if any (None once purged)."""

    # -- retention and maintenance -----------------------------------------------------------

    async def purge_results(self, created_before: float) -> int:
        """Remove the result (documents), message, journal and interim result of every done
        job created before ``created_before`` (unix seconds); the row stays as a tombstone
        (its fingerprint and state), so the job id is still known. Returns how many."""

    async def forget_jobs(self, created_before: float) -> int:
        """Delete the tombstones of jobs created before ``created_before``; returns how many."""

    async def purge_dead_letters(self, received_before: dt.datetime) -> int:
        """Delete dead letters (they hold job bodies) received before; returns how many."""

    async def take_lease(self, name: str, owner: str, ttl_s: float) -> bool:
        """Hold the named task for ``ttl_s`` unless another owner holds it (one worker at a
        time runs a scheduled task); True when ``owner`` holds it now."""

    # -- audit of consultations (the AuditTrail port) ----------------------------------------

    async def consultation_started(self, consultation: Consultation) -> None:
        """Record a call before it is made (a repeat of its reference is ignored); any text is
        stored store-safe (:func:`store_safe_text`), never refused."""

    async def consultation_finished(
        self, reference: str, *, outcome: str, reply_reference: str | None, duration_ms: float
    ) -> None:
        """Complete an open record; a record that has an outcome never changes again."""

    async def abandon_open_consultations(self, job_id: str) -> int:
        """Close the job's records that have no outcome as ``abandoned`` (finished now):
        their runs died. Called by the run that holds the job's claim, before it consults
        anything (no other run of the job can be live then). Returns how many."""

    async def abandon_stale_consultations(self, started_before: dt.datetime) -> int:
        """Close every record without an outcome started before ``started_before`` as
        ``abandoned`` (its run cannot be live any more). Returns how many."""

    async def audit_records(
        self, *, job_id: str | None = None, tenant: str | None = None, limit: int = 1000
    ) -> list[AuditRecord]:
        """Newest first."""

    async def search_audit(self, query: AuditQuery) -> Page[AuditRecord]:
        """One page of the records that match, newest first, and how many match in all."""

    async def search_requests(self, query: RequestQuery) -> Page[RequestRecord]:
        """One page of the request register (the jobs the hub received), newest first."""

    async def save_filter(self, saved: SavedFilter) -> int:
        """Store a search under its owner and name (replacing one of the same name); its id."""

    async def saved_filters(self, kind: str, operator: str) -> list[SavedFilter]:
        """The operator's own searches of ``kind`` and those others shared, by name."""

    async def delete_filter(self, filter_id: int, owner: str) -> bool:
        """Delete the owner's saved search; False when ``owner`` has none with that id."""

    async def purge_audit(self, older_than: dt.datetime) -> int:
        """Delete records started before ``older_than`` (retention); returns how many."""

    # -- status pushes to the citizen profile ------------------------------------------------

    async def record_push(self, push: StatusPush) -> None:
        """An upload DOSIS accepted (200); its processing result is not known yet."""

    async def pending_pushes(self, limit: int = 100) -> list[StatusPush]:
        """Accepted uploads whose result has not been read back yet, oldest first."""

    async def push(self, upload_id: str) -> StatusPush | None:
        """The upload with this UploadId, if it was accepted."""

    async def set_push_result(self, upload_id: str, result: str, reason: str | None) -> None: ...

    async def pushes(self, *, dossier_id: str | None = None, result: str | None = None,
                     limit: int = 1000) -> list[StatusPush]:
        """Pushes in the order they were made."""

    # -- dead letters ------------------------------------------------------------------------

    async def add_dead_letter(self, letter: DeadLetter) -> int: ...

    async def dead_letters(self, *, state: str | None = None, reason: str | None = None,
                           message_id: str | None = None, before_id: int | None = None,
                           limit: int = 500) -> list[DeadLetter]:
        """Newest first; ``before_id``: only older ones (the next page)."""

    async def count_dead_letters(self, *, state: str | None = None,
                                 reason: str | None = None) -> int: ...

    async def dead_letter(self, letter_id: int) -> DeadLetter | None: ...

    async def mark_dead_letter(self, letter_id: int, state: str, operator: str) -> None: ...

    async def forget_outcome(self, job_id: str) -> None:
        """Drop a job's stored outcome so a replay runs it anew (operators only)."""
