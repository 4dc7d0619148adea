"""The result a front office receives: the types of message contract v1 that both sides share.

Standard library only, so a front office installs the client (``pip install ./loket_hub``)
without the hub. The hub re-exports these from :mod:`hub.contract`. The JSON Schemas in
``hub/schemas/`` are the normative text; ``docs/contract.md`` explains them.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, Protocol

__all__ = [
    "CONTRACT_VERSION",
    "Document",
    "ErrorInfo",
    "JobIdentity",
    "Outcome",
    "Result",
    "TypedError",
]

CONTRACT_VERSION = 1


class Outcome(StrEnum):
    DELIVERED = "delivered"
    AWAITING_APPROVAL = "awaiting-approval"
    IN_TREATMENT = "in-treatment"
    REJECTED = "rejected"
    FAILED = "failed"

    @property
    def final(self) -> bool:
        """Whether more results may follow for the same job (in treatment, awaiting approval)."""
        return self not in {Outcome.IN_TREATMENT, Outcome.AWAITING_APPROVAL}


class TypedError(Protocol):
    """What :meth:`ErrorInfo.from_exception` reads of an error (the hub's ``HubError``)."""

    @property
    def code(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def retryable(self) -> bool: ...
    @property
    def details(self) -> Any: ...


class JobIdentity(Protocol):
    """What :meth:`Result.for_job` reads of a job (the hub's ``Job``)."""

    @property
    def job_id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def tenant(self) -> str: ...
    @property
    def dossier_id(self) -> str: ...


@dataclass(frozen=True)
class ErrorInfo:
    code: str
    message: str
    retryable: bool
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_exception(cls, error: TypedError) -> ErrorInfo:
        return cls(error.code, error.message, error.retryable, dict(error.details))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "retryable": self.retryable,
        }
        if self.details:
            data["details"] = self.details
        return data


@dataclass(frozen=True)
class Document:
    kind: str
    media_type: str
    file_name: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "media_type": self.media_type,
            "file_name": self.file_name,
            "sha256": self.sha256,
            "content_base64": base64.b64encode(self.content).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        """Raises ValueError when the content is no base64 or does not match its sha256."""
        try:
            content = base64.b64decode(data["content_base64"], validate=True)
        except binascii.Error as exc:
            raise ValueError(f"document {data['file_name']} is not base64: {exc}") from exc
        if hashlib.sha256(content).hexdigest() != data["sha256"]:
            raise ValueError(f"document {data['file_name']} does not match its sha256")
        return cls(data["kind"], data["media_type"], data["file_name"], content)


@dataclass(frozen=True)
class Result:
    """What the hub replies. Serialised with :meth:`to_json`, parsed with :meth:`from_json`."""

    job_id: str | None
    outcome: Outcome
    type: str | None = None
    tenant: str | None = None
    dossier_id: str | None = None
    error: ErrorInfo | None = None
    documents: tuple[Document, ...] = ()
    attempts: int = 1
    completed_at: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
    )
    backend_reference: str | None = None
    note: str | None = None
    decided_by: str | None = None
    data: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "contract_version": CONTRACT_VERSION,
            "job_id": self.job_id,
            "type": self.type,
            "tenant": self.tenant,
            "dossier_id": self.dossier_id,
            "outcome": self.outcome.value,
            "error": self.error.to_dict() if self.error else None,
            "documents": [d.to_dict() for d in self.documents],
            "attempts": self.attempts,
            "completed_at": self.completed_at,
            "backend_reference": self.backend_reference,
            "note": self.note,
            "decided_by": self.decided_by,
            "data": self.data,
        }

    def to_json(self) -> bytes:
        return self._encoded

    @cached_property
    def _encoded(self) -> bytes:
        # Once per result: the store and the reply both take these bytes, and with the
        # documents inline (base64) encoding costs about 0.45 ms.
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, body: bytes | str) -> Result:
        """Parse a result; raises ValueError (JSON, a document's sha256 or base64), KeyError
        or TypeError for a body that is not one."""
        data = json.loads(body)
        error = data.get("error")
        return cls(
            job_id=data.get("job_id"),
            outcome=Outcome(data["outcome"]),
            type=data.get("type"),
            tenant=data.get("tenant"),
            dossier_id=data.get("dossier_id"),
            error=ErrorInfo(
                error["code"], error["message"], error["retryable"], error.get("details", {})
            )
            if error
            else None,
            documents=tuple(Document.from_dict(d) for d in data.get("documents", [])),
            attempts=data.get("attempts", 1),
            completed_at=data["completed_at"],
            backend_reference=data.get("backend_reference"),
            note=data.get("note"),
            decided_by=data.get("decided_by"),
            data=data.get("data"),
        )

    @classmethod
    def for_job(
        cls,
        job: JobIdentity,
        outcome: Outcome,
        *,
        attempts: int,
        error: ErrorInfo | None = None,
        documents: tuple[Document, ...] = (),
        backend_reference: str | None = None,
        note: str | None = None,
        decided_by: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> Result:
        return cls(
            job_id=job.job_id,
            outcome=outcome,
            type=job.type,
            tenant=job.tenant,
            dossier_id=job.dossier_id,
            error=error,
            documents=documents,
            attempts=attempts,
            backend_reference=backend_reference,
            note=note,
            decided_by=decided_by,
            data=data,
        )
