"""The store port and its value types."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

__all__ = ["Claim", "ClaimState", "OutcomeStore"]


class ClaimState(StrEnum):
    ACQUIRED = "acquired"  # this worker owns the job now and may call the back end
    DONE = "done"  # a result exists: replay it, never call the back end again
    BUSY = "busy"  # another worker owns it and its lease has not expired


@dataclass(frozen=True)
class Claim:
    state: ClaimState
    result: bytes | None = None
    published: bool = False


class OutcomeStore(Protocol):
    """Per job id: who works on it (a lease), and the final result once there is one."""

    async def open(self) -> None:
        """Connect and create the tables if needed."""

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Raise if the store cannot be reached (readiness)."""

    async def claim(self, job_id: str, owner: str, lease_s: float) -> Claim:
        """Take the job for ``owner`` unless it is done or leased by another owner."""

    async def release(self, job_id: str, owner: str) -> None:
        """Give the job up after a transient failure, so the next attempt can claim it."""

    async def complete(self, job_id: str, owner: str, result: bytes) -> None:
        """Store the final result; from now on every claim answers DONE with it."""

    async def mark_published(self, job_id: str) -> None:
        """Record that the broker confirmed the result for this job."""

    async def result(self, job_id: str) -> bytes | None:
        """The stored result, if any."""
