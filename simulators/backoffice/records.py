"""Forwarded requests as the back office receives them, and what it refused."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Forwarded", "IntakeError", "ReceivedRequest", "RequestLog", "parse_forwarded"]

# The tenant becomes a routing-key word (action.<tenant>): no dots, no wildcards.
_TENANT = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class IntakeError(ValueError):
    """A forwarded request the back office cannot take; ``reason`` is a stable word."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Forwarded:
    """A forwarded request: its ids, the tenant, and the whole body as sent."""

    request_id: str
    job_id: str
    tenant: str
    payload: dict[str, Any]


def parse_forwarded(body: bytes) -> Forwarded:
    """The request in ``body``: a JSON object with ``request_id``, ``job_id`` and ``tenant``.

    Everything else (the contact details, the register consent, …) is recorded as given.
    """
    try:
        payload = json.loads(body)
    except ValueError as exc:  # bad JSON or bad UTF-8
        raise IntakeError("bad-json", f"the body is no JSON document: {exc}") from exc
    if not isinstance(payload, dict):
        raise IntakeError("bad-request", "the body must be a JSON object")
    missing = [name for name in ("request_id", "job_id", "tenant")
               if not isinstance(payload.get(name), str) or not payload[name].strip()]
    if missing:
        raise IntakeError("bad-request", f"missing or empty: {', '.join(missing)}")
    if not _TENANT.match(payload["tenant"]):
        raise IntakeError("bad-request", "tenant must be a slug (a-z, 0-9, -)")
    return Forwarded(payload["request_id"], payload["job_id"], payload["tenant"], payload)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


@dataclass
class ReceivedRequest:
    """A request taken in; a redelivery of the same ``request_id`` only counts up."""

    request: Forwarded
    channel: str
    received_at: str = field(default_factory=_now)
    deliveries: int = 1
    signed_at: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The request as ``GET /_control/requests`` shows it."""
        return {
            "request_id": self.request.request_id,
            "job_id": self.request.job_id,
            "tenant": self.request.tenant,
            "channel": self.channel,
            "received_at": self.received_at,
            "deliveries": self.deliveries,
            "signed_at": self.signed_at,
            "body": self.request.payload,
        }


@dataclass
class RequestLog:
    """Received requests in arrival order (by ``request_id``) and refused attempts."""

    requests: dict[str, ReceivedRequest] = field(default_factory=dict)
    refusals: list[dict[str, Any]] = field(default_factory=list)

    def take(
        self, request: Forwarded, channel: str, signed_at: int | None = None
    ) -> tuple[ReceivedRequest, bool]:
        """Record ``request``; True when it is new (a retry of the hub is not a new case)."""
        known = self.requests.get(request.request_id)
        if known is not None:
            known.deliveries += 1
            return known, False
        received = ReceivedRequest(request, channel, signed_at=signed_at)
        self.requests[request.request_id] = received
        return received, True

    def refuse(self, channel: str, reason: str, message: str) -> None:
        """Record a refused attempt."""
        self.refusals.append(
            {"channel": channel, "reason": reason, "message": message, "at": _now()}
        )

    def clear(self) -> dict[str, int]:
        """Forget everything; return how much there was."""
        counts = {"requests": len(self.requests), "refusals": len(self.refusals)}
        self.requests.clear()
        self.refusals.clear()
        return counts
