"""The register of requests: what the store keeps of each job it was given, for staff to search.

Nothing here needs the workers to write more: the first claim of a job carries its message (for
recovery), and the register's columns of ``job_outcomes`` are read from it then; every result
the store is given says its outcome. The applicant's INSZ is kept masked only.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from hub.contract_decoding import load_bounded
from hub.errors import InvalidInput
from hub.identifiers import mask_insz
from hub.store.queries import RequestRecord

__all__ = ["Registered", "outcome_of", "registered", "request_record"]

_MAX_MESSAGE = 4 * 1024 * 1024
# A result's JSON starts with job id, type, tenant, dossier and outcome (Result.to_dict), and a
# quote inside a JSON string is always escaped, so the first match is the result's own outcome.
_OUTCOME = re.compile(rb'"outcome"\s*:\s*"([a-z-]{1,40})"')
_HEAD = 8192


@dataclass(frozen=True)
class Registered:
    job_type: str
    product_id: int | None
    tenant: str
    dossier_id: str | None
    applicant: str | None

    def values(self) -> tuple[object, ...]:
        return (self.job_type, self.product_id, self.tenant, self.dossier_id, self.applicant)


def _text(data: dict[str, Any], key: str, limit: int = 200) -> str | None:
    value = data.get(key)
    return value[:limit] if isinstance(value, str) else None


def registered(message: bytes | None) -> Registered | None:
    """The register's fields of a job from the message the store keeps of it (see
    ``hub.runtime.inbound.recovery_record``); None for anything that is not a job."""
    if not message or len(message) > _MAX_MESSAGE:
        return None
    try:
        stored = json.loads(message)
        body = stored.get("body") if isinstance(stored, dict) else None
        job = load_bounded(body.encode(), max_depth=64) if isinstance(body, str) else None
    except (InvalidInput, ValueError, RecursionError):
        return None
    if not isinstance(job, dict):
        return None
    job_type, tenant = _text(job, "type"), _text(job, "tenant")
    if job_type is None or tenant is None:
        return None
    product = job.get("product_id")
    subject = job.get("subject")
    identifier = _text(subject, "identifier") if isinstance(subject, dict) else None
    return Registered(
        job_type, product if isinstance(product, int) and abs(product) < 2**62 else None,
        tenant, _text(job, "dossier_id"),
        mask_insz(identifier) if identifier is not None else None)


def outcome_of(result: bytes | None) -> str | None:
    """The outcome a result (or an interim result) reports."""
    if not result:
        return None
    found = _OUTCOME.search(result, 0, _HEAD)
    return found.group(1).decode() if found else None


def _moment(value: object) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromtimestamp(float(value), dt.UTC)  # type: ignore[arg-type]


def request_record(row: tuple[Any, ...]) -> RequestRecord:
    """A row of ``sql.REQUEST_COLUMNS`` (times as unix seconds or as datetimes)."""
    (job_id, job_type, product_id, tenant, dossier_id, applicant, state, outcome, status,
     created_at, updated_at, completed_at) = row
    received = _moment(created_at)
    assert received is not None
    return RequestRecord(job_id, job_type, product_id, tenant, dossier_id, applicant, state,
                         outcome, status, received, _moment(updated_at), _moment(completed_at))
