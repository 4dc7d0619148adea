"""The hub's messages besides jobs and results, typed: status events, employees' tasks, and the
decisions and actions that come back from employees and back offices.

Each has its encoding next to it, as :mod:`hub.contract` has for jobs and results: the worker
builds them, the status pusher, the admin and the back offices read them, and nobody parses a
dict by hand. Decoding is bounded like a job's (:func:`hub.contract.load_bounded`) and raises
:class:`UnreadableMessage` with what is wrong.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from hub.contract import Job, Result
from hub.contract_decoding import load_bounded
from hub.errors import InvalidInput

__all__ = [
    "BACKOFFICE_ACTIONS",
    "EMPLOYEE_ACTIONS",
    "Action",
    "Applicant",
    "ApprovalTask",
    "Decision",
    "StatusEvent",
    "UnreadableMessage",
    "event_id",
    "kind_of",
]

EMPLOYEE_ACTIONS = ("handled-outside", "information-requested", "completed", "cancelled")
"""What an employee does with a request handled without a back office (the e-counter's four
actions: handle outside the system, ask for more information, complete, cancel)."""

BACKOFFICE_ACTIONS = ("received", *EMPLOYEE_ACTIONS)
"""What a back office tells of a request forwarded to it."""

FINAL_ACTIONS = frozenset({"handled-outside", "completed", "cancelled"})


class UnreadableMessage(ValueError):
    """A decision, action or status event that is not what its contract says."""


def event_id(job_id: str, status: str, occurrence: str = "") -> str:
    """A status event's id, derived, so a status published twice (a redelivery, a replay) is
    one transition for the service; ``occurrence`` (the action or decision that caused it)
    tells apart a status that rightly happens twice, such as a second request for
    information."""
    suffix = f":{occurrence}" if occurrence else ""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"loket-hub:{job_id}:{status}{suffix}"))


def kind_of(job: Job) -> str | None:
    """The kind of a job within its type (attest, act, model, product), for the catalogue."""
    for key in ("attest", "act", "model", "product"):
        value = job.parameters.get(key)
        if isinstance(value, str):
            return value
    return None


def _object(body: bytes, what: str) -> dict[str, Any]:
    try:
        data = load_bounded(body)
    except InvalidInput as error:
        raise UnreadableMessage(f"{what}: {error.message}") from error
    if not isinstance(data, dict):
        raise UnreadableMessage(f"a {what} is a JSON object")
    return data


def _text(data: Mapping[str, Any], key: str, limit: int = 500) -> str | None:
    value = data.get(key)
    return None if value is None else str(value)[:limit]


@dataclass(frozen=True)
class Applicant:
    capacity: str
    identifier: str
    authenticated: bool


@dataclass(frozen=True)
class StatusEvent:
    """One transition of a job, for the citizen profile (``loket.status.v1``)."""

    event_id: str
    job_id: str
    type: str
    kind: str | None
    tenant: str
    dossier_id: str
    product_id: int | None
    applicant: Applicant
    approved: bool
    status: str
    error_code: str | None
    note: str | None
    at: str
    applicant_message: str | None = None
    notify: bool | None = None
    information_from: str | None = None

    MESSAGE_TYPE = "loket.status.v1"

    @classmethod
    def of(cls, job: Job, result: Result | None, *, status: str = "", occurrence: str = "",
           approved: bool = False, applicant_message: str | None = None,
           notify: bool | None = None, information_from: str | None = None) -> StatusEvent:
        """The event of ``job`` reaching ``status`` (by default its result's outcome, or
        ``received`` when there is no result yet). ``approved``: an employee accepted the
        request (so an applicant who did not log in securely may now see it)."""
        status = status or (result.outcome.value if result else "received")
        return cls(
            event_id=event_id(job.job_id, status, occurrence),
            job_id=job.job_id, type=job.type, kind=kind_of(job), tenant=job.tenant,
            dossier_id=job.dossier_id, product_id=job.product_id,
            applicant=Applicant(job.requester.capacity, job.requester.identifier,
                                job.requester.authenticated),
            approved=approved or bool(result and result.decided_by
                                      and result.decided_by.startswith("approved-by:")),
            status=status,
            error_code=result.error.code if result and result.error else None,
            note=result.note if result else None,
            at=dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            applicant_message=applicant_message, notify=notify,
            information_from=information_from,
        )

    @property
    def routing_key(self) -> str:
        return f"{self.tenant}.{self.status}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for optional in ("applicant_message", "notify", "information_from"):
            if data[optional] is None:
                del data[optional]
        return data

    def encode(self) -> bytes:
        return json.dumps(self.to_dict()).encode()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StatusEvent:
        try:
            applicant = data["applicant"]
            if not isinstance(applicant, Mapping):
                raise UnreadableMessage("applicant is an object")
            product = data.get("product_id")
            notify = data.get("notify")
            return cls(
                event_id=str(data["event_id"]), job_id=str(data["job_id"]),
                type=str(data["type"]),
                kind=None if data.get("kind") is None else str(data["kind"]),
                tenant=str(data["tenant"]), dossier_id=str(data["dossier_id"]),
                product_id=None if product is None else int(product),
                applicant=Applicant(str(applicant["capacity"]), str(applicant["identifier"]),
                                    applicant.get("authenticated") is not False),
                approved=data.get("approved") is True, status=str(data["status"]),
                error_code=_text(data, "error_code", 100), note=_text(data, "note", 2000),
                at=str(data["at"]),
                applicant_message=_text(data, "applicant_message", 200),
                notify=notify if isinstance(notify, bool) else None,
                information_from=_text(data, "information_from", 100),
            )
        except KeyError as missing:
            raise UnreadableMessage(f"a status event has {missing}") from missing
        except (TypeError, ValueError) as exc:
            if isinstance(exc, UnreadableMessage):
                raise
            raise UnreadableMessage(f"{type(exc).__name__}: {exc}") from exc

    @classmethod
    def decode(cls, body: bytes) -> StatusEvent:
        return cls.from_dict(_object(body, "status event"))


@dataclass(frozen=True)
class ApprovalTask:
    """An employee's task in the back office (``loket.approval-task.v1``), or, for a request
    the municipality handles without a back-office application, a task to handle it
    (``loket.employee-task.v1``: answered with one of :data:`EMPLOYEE_ACTIONS` through the
    same decision contract, as often as needed until a final one)."""

    job: Job
    rule: str | None
    reason: str | None
    employee_task: bool = False

    @property
    def message_type(self) -> str:
        return "loket.employee-task.v1" if self.employee_task else "loket.approval-task.v1"

    @property
    def routing_key(self) -> str:
        return f"approval.{self.job.tenant}.{self.job.type}"

    def to_dict(self, *, exchange: str) -> dict[str, Any]:
        job = self.job
        verdicts = " | ".join(EMPLOYEE_ACTIONS) if self.employee_task else "approve | refuse"
        answer: dict[str, Any] = {"job_id": job.job_id, "decision": verdicts,
                                  "reason": "…", "employee": "…"}
        if self.employee_task:
            answer.update({
                "applicant_message": "… (optional: words for the applicant)",
                "information_from": "applicant | third-party (information-requested)",
                "notify_applicant": "true | false (optional e-mail)",
            })
        task: dict[str, Any] = {
            "task_id": job.job_id, "job_id": job.job_id, "type": job.type,
            "tenant": job.tenant, "dossier_id": job.dossier_id, "product_id": job.product_id,
            "parameters": job.parameters,
            "requester": {
                "capacity": job.requester.capacity, "identifier": job.requester.identifier,
                "authenticated": job.requester.authenticated,
                "acting_person": job.requester.acting_person, "name": job.requester.name,
            },
            "subject": {"kind": job.subject.kind, "identifier": job.subject.identifier},
            "purpose": job.purpose, "rule": self.rule, "reason": self.reason,
            "decide_with": {
                "exchange": exchange,
                "routing_key": f"decision.{job.tenant}",
                "body": answer,
                "sign": {"headers": ["x-loket-timestamp", "x-loket-signature"],
                         "with": f"HMAC-SHA256 of '<timestamp>.<body>' under {job.tenant}'s "
                                 "back-office secret"},
            },
        }
        if self.employee_task:
            task["task"] = "handle-request"
            task["actions"] = list(EMPLOYEE_ACTIONS)
        return task

    def encode(self, *, exchange: str) -> bytes:
        return json.dumps(self.to_dict(exchange=exchange)).encode()


@dataclass(frozen=True)
class _FromBackoffice:
    """What decisions and actions share: the job they are about and what comes with them."""

    job_id: str
    tenant: str | None = None
    employee: str | None = None
    message: str | None = None
    reason: str | None = None
    information_from: str | None = None
    applicant_message: str | None = None
    notify_applicant: bool | None = None
    at: str | None = None

    @staticmethod
    def _common(data: Mapping[str, Any]) -> dict[str, Any]:
        if "job_id" not in data:
            raise UnreadableMessage("it names no job_id")
        notify = data.get("notify_applicant")
        message = data.get("applicant_message")
        return {
            "job_id": str(data["job_id"])[:200],
            "tenant": _text(data, "tenant", 100),
            "employee": _text(data, "employee", 200),
            "message": _text(data, "message", 2000),
            "reason": _text(data, "reason", 500),
            "information_from": _text(data, "information_from", 100),
            "applicant_message": message[:200] if isinstance(message, str) and message
            else None,
            "notify_applicant": notify if isinstance(notify, bool) else None,
            "at": _text(data, "at", 100),
        }

    @property
    def asks_information_elsewhere(self) -> bool:
        return (self.information_from or "applicant") != "applicant"


@dataclass(frozen=True)
class Decision(_FromBackoffice):
    """An employee's answer to a task: ``approve`` or ``refuse`` an approval task, or one of
    :data:`EMPLOYEE_ACTIONS` on an employee task."""

    decision: str = ""

    @property
    def awaiting(self) -> str:
        """What the job must wait for to take this decision."""
        return "approval" if self.decision in {"approve", "refuse"} else "employee"

    @classmethod
    def decode(cls, body: bytes) -> Decision:
        data = _object(body, "decision")
        if "decision" not in data:
            raise UnreadableMessage("a decision names its decision")
        verdict = str(data["decision"])[:100]
        if verdict not in {"approve", "refuse", *EMPLOYEE_ACTIONS}:
            raise UnreadableMessage(f"decision must be approve, refuse or one of "
                                    f"{', '.join(EMPLOYEE_ACTIONS)}, not {verdict!r}")
        return cls(decision=verdict, **cls._common(data))


@dataclass(frozen=True)
class Action(_FromBackoffice):
    """A back office's progress on a request forwarded to it: one of
    :data:`BACKOFFICE_ACTIONS`."""

    action: str = ""
    decision: str | None = None

    @property
    def final(self) -> bool:
        return self.action in FINAL_ACTIONS

    @classmethod
    def decode(cls, body: bytes) -> Action:
        data = _object(body, "action")
        if "action" not in data:
            raise UnreadableMessage("an action names its action")
        kind = str(data["action"])[:100]
        if kind not in BACKOFFICE_ACTIONS:
            raise UnreadableMessage(f"action must be one of {', '.join(BACKOFFICE_ACTIONS)}, "
                                    f"not {kind!r}")
        return cls(action=kind, decision=_text(data, "decision", 100), **cls._common(data))
