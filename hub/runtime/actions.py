"""The handler of ``backoffice.actions``: a back office's progress on a forwarded request.

Each action becomes a result for the front office and a status for the citizen; the job stays
parked until a final one. An action that arrives while its job is still in its attempt (the
back office answered before the job was parked) comes back after a short delay.
"""

from __future__ import annotations

import asyncio

import structlog

from hub import topology
from hub.config import Settings
from hub.contract import ErrorInfo
from hub.messages import Action, UnreadableMessage
from hub.runtime.inbound import Delivery
from hub.runtime.parked import ParkedJobs, StillRunning
from hub.runtime.publisher import Publisher, action_tries
from hub.runtime.settle import ACK, DeadLetter, Settlement

__all__ = ["ActionHandler"]

log = structlog.get_logger(__name__)


class ActionHandler:
    def __init__(self, settings: Settings, *, parked: ParkedJobs, publisher: Publisher,
                 worker_id: str) -> None:
        self._settings = settings
        self._parked = parked
        self._publisher = publisher
        self._worker_id = worker_id

    async def handle(self, message: Delivery) -> Settlement:
        tenant = self._parked.signed(message, "action")
        if isinstance(tenant, DeadLetter):
            return tenant
        try:
            action = Action.decode(message.body)
        except UnreadableMessage as exc:
            return DeadLetter("unreadable-action",
                              ErrorInfo("INVALID_ACTION", str(exc)[:500], False))
        job_id = action.job_id
        with structlog.contextvars.bound_contextvars(job_id=job_id, worker=self._worker_id):
            try:
                resumed = await self._parked.resume(job_id, frozenset({"backoffice"}))
            except StillRunning:
                return await self._later(message, tenant)
            if resumed is None:
                return ACK
            original, job, journal = resumed
            try:
                refusal = self._parked.applicable(message, "action", tenant, action.tenant,
                                                  job, journal)
                if refusal is not None:
                    await self._parked.release(job_id)
                    return refusal
                return await self._parked.relay(
                    message, original, job, self._parked.applied(journal, message),
                    action.action, action, cancel_code="CANCELLED_BY_BACK_OFFICE")
            except BaseException:
                await asyncio.shield(self._parked.release_quietly(job_id))
                raise

    async def _later(self, message: Delivery, tenant: str) -> Settlement:
        """Bring the action back after a short delay. After two leases (time for a dead
        worker's lease to end and the job to be run again and parked) it goes to the dead
        letters, where an operator can replay it."""
        tries = action_tries(message.headers) + 1
        if tries * topology.ACTION_RETRY_DELAY_S > 2 * self._settings.store.claim_lease_s:
            log.error("action.job_still_running", tries=tries)
            return DeadLetter("action-job-busy", ErrorInfo(
                "JOB_STILL_RUNNING", "the job never came to wait for its back office", True))
        log.info("action.early", tries=tries)
        await self._publisher.action_later(message, tenant, tries)
        return ACK
