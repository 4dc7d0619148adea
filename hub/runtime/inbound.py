"""What the runtime reads of a message: a delivery, or one rebuilt from a job's journal."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from hub import topology
from hub.contract import Job

__all__ = ["Delivery", "MessageLike", "StoredMessage", "attempt_of", "dossier_of", "misrouting",
           "occurrence_of", "recovery_record"]


class MessageLike(Protocol):
    """The properties of a message the handlers read."""

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


class Delivery(MessageLike, Protocol):
    """A message as the broker delivered it (what a handler gets)."""

    @property
    def redelivered(self) -> bool | None: ...
    @property
    def routing_key(self) -> str | None: ...
    @property
    def exchange(self) -> str | None: ...


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


def occurrence_of(message: MessageLike) -> str:
    """What identifies an action or decision message: its message id, else its body."""
    if message.message_id:
        return f"id:{message.message_id}"
    return "body:" + hashlib.sha256(message.body).hexdigest()[:32]


def recovery_record(message: MessageLike, attempt: int) -> bytes:
    """What the store keeps of a job's message, to publish it again if the broker loses it."""
    return json.dumps({**StoredMessage.of(message).to_journal(), "attempt": attempt}).encode()


def dossier_of(body: bytes) -> str:
    """The lane of a status event: its dossier (an unreadable event gets a lane of its own)."""
    try:
        event = json.loads(body)
        return str(event.get("dossier_id") or event.get("job_id") or "")
    except (ValueError, AttributeError):
        return ""


def attempt_of(headers: Mapping[str, Any] | None) -> int:
    """The job's attempt a copy carries (1 for a front office's message)."""
    try:
        return max(1, int((headers or {}).get(topology.ATTEMPT_HEADER, 1)))
    except (TypeError, ValueError):
        return 1


def is_continuation(headers: Mapping[str, Any] | None) -> bool:
    """A scheduled poll (or a recovered copy of one) of a job that waits."""
    return str((headers or {}).get(topology.CONTINUATION_HEADER, "")) == "1"


def misrouting(message: Delivery, job: Job) -> str | None:
    """Why a front office's job came with a routing key its ``type`` disagrees with, or None.

    On ``loket.jobs`` the routing key is the job type (the queue is chosen by it); straight to
    a queue through the default exchange, it is that type's work queue. Our own copies (they
    carry the attempt header) go through delay queues and are not checked."""
    if is_internal_copy(message.headers):
        return None
    job_type = job.type
    if message.exchange == topology.JOBS_EXCHANGE and message.routing_key != job_type:
        return (f"published with routing key {str(message.routing_key)[:100]!r} on "
                f"{topology.JOBS_EXCHANGE}, but its type is {job_type!r}: publish it with the "
                "routing key equal to the type")
    expected = topology.work_queue_name(job.capability)
    if message.exchange == "" and message.routing_key != expected:
        return (f"published to queue {str(message.routing_key)[:100]!r}, but a "
                f"{job_type!r} job belongs in {expected!r}")
    return None


def is_internal_copy(headers: Mapping[str, Any] | None) -> bool:
    """One of our own copies (a retry, a busy look, a recovery): not a front office asking."""
    return topology.ATTEMPT_HEADER in (headers or {})
