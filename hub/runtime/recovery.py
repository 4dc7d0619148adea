"""Jobs the broker lost, published again from the store.

The broker is trusted with a job between our steps (in a work queue, a retry or poll queue, a
worker's hands); if it loses one there (RabbitMQ 3.10 left retries stuck in a delay queue after
a restart), the store still knows the job and its message.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import structlog

from hub.config import Settings
from hub.contract_decoding import decode_job
from hub.errors import BrokerError, InvalidInput
from hub.metrics import HubMetrics
from hub.runtime.inbound import StoredMessage
from hub.runtime.publisher import Publisher
from hub.runtime.transport import Unroutable
from hub.store import OutcomeStore

__all__ = ["Recovery"]

log = structlog.get_logger(__name__)


class Recovery:
    def __init__(self, settings: Settings, *, store: OutcomeStore, publisher: Publisher,
                 metrics: HubMetrics) -> None:
        self._settings = settings
        self._store = store
        self._publisher = publisher
        self._metrics = metrics

    async def recover_overdue(self) -> int:
        """Publish again the jobs that should have moved and did not; how many."""
        settings = self._settings.store
        taken = await self._store.take_overdue(
            settings.recovery_grace_s, hold_s=settings.recovery_grace_s + settings.claim_lease_s)
        for job_id, state, record in taken:
            data = json.loads(record)
            stored = StoredMessage.from_journal(data)
            try:
                job = decode_job(stored.body, stored.message_id)
            except InvalidInput as error:
                log.error("job.recovery_unreadable", job_id=job_id, code=error.code)
                continue
            attempt = await self._publisher.recovered(
                stored, job, attempt=int(data.get("attempt", 1)), waiting=state == "waiting")
            self._metrics.recovered.labels(type=job.type).inc()
            log.warning("job.recovered", job_id=job_id, attempt=attempt)
        return len(taken)

    async def run_forever(self, connected: Callable[[], bool]) -> None:
        """:meth:`recover_overdue` every ``store.recovery_interval_s`` while ``connected()``."""
        interval = self._settings.store.recovery_interval_s
        if interval <= 0:
            return
        while True:
            await asyncio.sleep(interval)
            if not connected():
                continue
            try:
                await self.recover_overdue()
            except (BrokerError, Unroutable) as exc:
                log.warning("job.recovery_deferred", reason=str(exc))
            except Exception:
                log.exception("job.recovery_failed")
