"""Retention, on a schedule: what the hub keeps of people is removed when its time is over.

Every worker runs :meth:`Maintenance.run_forever`; a lease in the store lets one worker at a
time do a round (the others skip it), so several workers neither race nor repeat the work. A
round, in order:

- **results and documents** of jobs created more than ``documents.retention_days`` ago (92: the
  e-counter promises a document for three months): result, message, journal and interim
  result removed; the row stays as a tombstone, so a replay is told ``DOCUMENT_EXPIRED`` and
  the job id keeps its fingerprint;
- **tombstones** and **audit records** older than ``audit.retention_years`` (10);
- **dead letters** older than ``store.dead_letter_retention_days`` (they hold job messages);
- **consultation records** of runs that died and whose job was not taken up again: closed as
  ``abandoned`` (a job taken up again closes its own when a worker claims it).

A round also runs when a worker starts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass

import structlog

from hub.config import Settings
from hub.metrics import HubMetrics
from hub.store import OutcomeStore

__all__ = ["Maintenance", "RoundReport"]

log = structlog.get_logger(__name__)

LEASE = "retention"


@dataclass(frozen=True)
class RoundReport:
    """What one round removed (all zero when another worker held the lease)."""

    ran: bool
    results: int = 0
    tombstones: int = 0
    audit: int = 0
    dead_letters: int = 0
    abandoned: int = 0


class Maintenance:
    def __init__(self, settings: Settings, store: OutcomeStore, owner: str,
                 metrics: HubMetrics | None = None) -> None:
        self._settings = settings
        self._store = store
        self._owner = owner
        self._metrics = metrics

    async def run_once(self, *, now: float | None = None) -> RoundReport:
        """One round, if this worker gets the lease; ``now`` (unix seconds) for tests."""
        interval = self._settings.store.maintenance_interval_s
        if not await self._store.take_lease(LEASE, self._owner, max(interval, 60.0)):
            return RoundReport(ran=False)
        current = time.time() if now is None else now
        at = dt.datetime.fromtimestamp(current, dt.UTC)
        days = self._settings.documents.retention_days
        results = await self._store.purge_results(current - days * 86400.0) if days > 0 else 0
        audit_days = round(365.25 * self._settings.audit.retention_years)
        tombstones = await self._store.forget_jobs(current - audit_days * 86400.0)
        audit = await self._store.purge_audit(at - dt.timedelta(days=audit_days))
        letter_days = self._settings.store.dead_letter_retention_days
        letters = (await self._store.purge_dead_letters(at - dt.timedelta(days=letter_days))
                   if letter_days > 0 else 0)
        # A run still open after two leases died without its job being taken up again.
        stale = 2 * self._settings.store.claim_lease_s + max(
            (b.total_timeout_s for b in self._settings.backends.values()), default=45.0)
        abandoned = await self._store.abandon_stale_consultations(
            at - dt.timedelta(seconds=stale))
        report = RoundReport(True, results, tombstones, audit, letters, abandoned)
        for what, count in (("results", results), ("tombstones", tombstones),
                            ("audit", audit), ("dead-letters", letters),
                            ("abandoned-consultations", abandoned)):
            if count and self._metrics is not None:
                self._metrics.purged.labels(what=what).inc(count)
        if results or tombstones or audit or letters or abandoned:
            log.info("retention.purged", results=results, tombstones=tombstones,
                     audit_records=audit, dead_letters=letters, abandoned=abandoned,
                     retention_days=days)
        return report

    async def run_forever(self) -> None:
        """A round every ``store.maintenance_interval_s`` (0: never), after the one the
        worker runs at start."""
        interval = self._settings.store.maintenance_interval_s
        if interval <= 0:
            return
        while True:
            await asyncio.sleep(interval)
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                # Never fatal: the next round tries again.
                log.exception("retention.failed")
