"""The ports of the hub core: what it needs from adapters, stores and the clock.

Adapters and other collaborators arrive through constructors; the core imports no adapter.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from hub.config import TenantSettings
from hub.contract import Job

_REFERENCE_NAMESPACE = uuid.UUID("6c6f6b65-7468-7562-2d72-656665726e63")

__all__ = [
    "Adapter",
    "AdapterAnswer",
    "AuditTrail",
    "BackendDocument",
    "CallContext",
    "CertificateModel",
    "Clock",
    "Consultation",
    "Continuation",
    "SystemClock",
    "new_run",
]


@dataclass(frozen=True)
class CertificateModel:
    """What a certificate says, independent of its rendering (XML now, PDF later).

    ``facts`` is a tree of mappings, lists and scalars: a key names an element; a list value
    repeats that element once per item.
    """

    kind: str
    title: str
    language: str
    subject_identifier: str
    facts: Mapping[str, Any]


@dataclass(frozen=True)
class BackendDocument:
    """A document the back end made itself (a sealed act, an extract): sealed, not re-rendered."""

    kind: str
    file_name: str
    content: bytes
    media_type: str = "application/pdf"


@dataclass(frozen=True)
class AdapterAnswer:
    """The final answer for a job: a certificate to render, or the back end's own document."""

    certificate: CertificateModel | None = None
    backend_document: BackendDocument | None = None
    backend_reference: str | None = None
    warnings: tuple[str, ...] = field(default=())
    # The answer of a request/reply job (prefill values, a link), returned as result data.
    data: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Continuation:
    """The back end is still working (an asynchronous service): ask again later.

    ``journal`` is what the adapter needs to resume (JSON-serialisable, stored with the job); the
    hub tells the front office ``in-treatment`` with ``note`` and schedules the next poll after
    about ``poll_after_s`` through its delayed queues.
    """

    journal: Mapping[str, Any]
    # None: nothing to poll; the job waits for an event (an employee's decision).
    poll_after_s: float | None
    note: str
    backend_reference: str | None = None


@dataclass(frozen=True)
class Consultation:
    """One call to a government back end, as the audit records it (references, never data)."""

    reference: str  # the request reference we sent (MAGDA Referte); unique
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
    decided_by: str = ""  # the policy rule that let this consultation happen
    job_type: str = ""  # the type of the job it serves


class AuditTrail(Protocol):
    """Append-only record of consultations: written before the call, completed once after."""

    async def consultation_started(self, consultation: Consultation) -> None:
        """Record the call before it is made; a repeat of the same reference is ignored.

        Never fails on the text it is given: what a store cannot hold (a lone surrogate,
        NUL) is stored replaced (U+FFFD)."""

    async def consultation_finished(
        self, reference: str, *, outcome: str, reply_reference: str | None, duration_ms: float
    ) -> None:
        """Complete the record (only the first completion counts)."""


async def _nothing_to_announce() -> None:
    return None


class BackgroundWrites:
    """Writes a job attempt lets run while it goes on: the audit's completion records, which
    are written while the documents are made. Whoever runs the attempt settles them before
    its outcome counts, so a stored result always has its audit complete."""

    def __init__(self) -> None:
        self._writes: list[asyncio.Future[None]] = []

    def start(self, write: Awaitable[None]) -> None:
        self._writes.append(asyncio.ensure_future(write))

    async def settle(self) -> None:
        """Wait for every write started so far; the first failure is raised."""
        writes, self._writes = self._writes, []
        if writes:
            # Shielded: a cancelled attempt still finishes the writes it started.
            done = await asyncio.shield(asyncio.gather(*writes, return_exceptions=True))
            for outcome in done:
                if isinstance(outcome, BaseException):
                    raise outcome


def new_run() -> str:
    """A fresh identity for one run of a job attempt (see :attr:`CallContext.run`)."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class CallContext:
    job: Job
    tenant: TenantSettings
    attempt: int
    audit: AuditTrail
    # What an earlier step of this job left (see Continuation); empty on the first run.
    journal: Mapping[str, Any] = field(default_factory=dict)
    # The policy rule that allowed the job (``self``, ``listed-right:…``, ``approved-by:…``).
    decided_by: str = ""
    background: BackgroundWrites = field(default_factory=BackgroundWrites)
    # Publishes the job's "received" status now, if it is still due (see the worker). An
    # adapter that hands the job to an outside party calls it first: that party's answers
    # must follow "received".
    announce: Callable[[], Awaitable[None]] = field(default=_nothing_to_announce)
    # This run of the attempt: a worker that dies mid-attempt leaves the attempt number
    # unchanged, so the attempt alone does not tell its runs apart (see :meth:`reference`).
    run: str = field(default_factory=new_run)

    def reference(self, service: str, step: str = "query") -> str:
        """The request reference for one call of this run of the job attempt.

        Each run has its own: a run that died left its consultation records behind (closed
        as ``abandoned`` by recovery), and a re-run of the same attempt must never write its
        outcome into them. Within one run the same call has the same reference. Nothing
        finds an earlier run's request by it: the criminal record finds its extract by the
        job id (``Referentie``) and the number in the journal.
        """
        name = f"{self.job.job_id}|{self.attempt}|{self.run}|{service}|{step}"
        return str(uuid.uuid5(_REFERENCE_NAMESPACE, name))

    def consultation(
        self, *, reference: str, service: str, version: str, client_identification: str,
        purpose: str,
    ) -> Consultation:
        job = self.job
        return Consultation(
            reference=reference,
            job_id=job.job_id,
            attempt=self.attempt,
            tenant=job.tenant,
            service=service,
            service_version=version,
            client_identification=client_identification,
            requester_capacity=job.requester.capacity,
            requester_identifier=job.requester.identifier,
            acting_person=job.requester.acting_person,
            subject_identifier=job.subject.identifier,
            purpose=purpose,
            started_at=dt.datetime.now(dt.UTC),
            decided_by=self.decided_by,
            job_type=job.type,
        )


@runtime_checkable
class Adapter(Protocol):
    """One back end. Registered by job type in :class:`hub.registry.AdapterRegistry`."""

    name: str
    job_types: frozenset[str]

    async def start(self) -> None:
        """Load WSDLs, keys and sessions. Called once before consuming."""

    async def close(self) -> None: ...

    def check_config(self) -> list[str]:
        """Problems an operator must fix before start-up (empty when fine)."""

    async def handle(self, context: CallContext) -> AdapterAnswer | Continuation:
        """Consult the back end. Raises :mod:`hub.errors` exceptions only."""


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)
