"""Searches of the store: the audit of consultations and the register of requests.

A search is a value (:class:`AuditQuery`, :class:`RequestQuery`); every filter is optional and
all given ones must hold. Results come newest first, a page at a time: a page carries the total
that match and, when more follow, a cursor (:func:`encode_cursor`) for the next page. Paging by
cursor (keyset: the last row's time and key) costs the same on page 1 and page 10,000.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = [
    "AuditQuery",
    "BadCursor",
    "Cursor",
    "Page",
    "RequestQuery",
    "RequestRecord",
    "SavedFilter",
    "decode_cursor",
    "encode_cursor",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Cursor:
    """Where the previous page ended: its last row's time, exactly as the store holds it (ISO
    text or unix seconds, as text), and its key (a reference, a job id)."""

    at: str
    key: str


class BadCursor(ValueError):
    """A cursor that this store did not hand out."""


def encode_cursor(cursor: Cursor) -> str:
    raw = json.dumps([cursor.at, cursor.key]).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(text: str) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        at, key = json.loads(raw)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise BadCursor("not a cursor this server gave") from exc
    if not isinstance(key, str) or not isinstance(at, str):
        raise BadCursor("not a cursor this server gave")
    return Cursor(at, key)


@dataclass(frozen=True)
class AuditQuery:
    """Consultations started in ``[since, until)``; text filters match exactly but ``purpose``
    (contains, any case) and ``outcome`` (starts with). ``requester`` matches the requester or
    the person acting for them; ``reference`` our MAGDA reference or MAGDA's reply reference;
    ``subject`` is compared as stored (the normalised INSZ)."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    job_type: str | None = None
    tenant: str | None = None
    service: str | None = None
    requester: str | None = None
    subject: str | None = None
    purpose: str | None = None
    reference: str | None = None
    outcome: str | None = None
    limit: int = 100
    after: Cursor | None = None
    with_total: bool = True  # an export reads page after page and needs no count


@dataclass(frozen=True)
class RequestQuery:
    """Requests (jobs) received in ``[since, until)``; every text filter matches exactly."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    job_type: str | None = None
    product_id: int | None = None
    tenant: str | None = None
    dossier_id: str | None = None
    outcome: str | None = None
    state: str | None = None
    limit: int = 100
    after: Cursor | None = None
    with_total: bool = True


@dataclass(frozen=True)
class RequestRecord:
    """One request the hub handled, as the register shows it (the applicant masked)."""

    job_id: str
    job_type: str
    product_id: int | None
    tenant: str
    dossier_id: str | None
    applicant: str | None  # masked INSZ
    state: str  # in-progress | released | waiting | done
    outcome: str | None  # the last result's outcome (delivered, rejected, in-treatment …)
    status: str | None  # the last status pushed to the citizen profile
    received_at: dt.datetime
    updated_at: dt.datetime | None
    completed_at: dt.datetime | None


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    total: int | None  # None when the query did not ask for it
    next: Cursor | None = None


@dataclass(frozen=True)
class SavedFilter:
    """A search saved under a name by its owner; a shared one is listed to every operator."""

    kind: str  # audit | requests
    name: str
    owner: str
    shared: bool
    filters: dict[str, str] = field(default_factory=dict)
    id: int | None = None
    saved_at: dt.datetime | None = None
