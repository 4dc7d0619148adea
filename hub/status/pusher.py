"""The status pusher: status events from the ordered outbox to DOSIS.

Order per dossier is kept because the outbox queue has a single active consumer (whichever worker
holds it) and the worker hands the events of one dossier to the pusher one after another
(:class:`hub.status.lanes.DossierLanes`): a status is pushed only after the earlier ones of its
dossier were accepted, while other dossiers move on. While DOSIS is down the pusher waits and
retries the status (backing off) rather than moving it to a delay queue, which would let a later
status of the same dossier overtake it; after ``max_attempts`` the event goes to the dead letters,
where an operator can replay it. The UploadId is derived from job and status, so DOSIS sees a
retried or replayed push as the same upload: at most once per transition.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from hub.config import StatusSettings, TenantSettings
from hub.contract import ErrorInfo
from hub.errors import HubError, TransientError
from hub.metrics import HubMetrics
from hub.status.dosis import DosisClient
from hub.status.mapping import StatusTable, dossier_payload, notification_bundle
from hub.store import OutcomeStore
from hub.store.base import StatusPush

__all__ = ["PushOutcome", "StatusPusher"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class PushOutcome:
    """Pushed, or to be dead-lettered with a reason and the error."""

    pushed: bool
    reason: str = ""
    error: ErrorInfo | None = None


class StatusPusher:
    def __init__(
        self,
        settings: StatusSettings,
        *,
        client: DosisClient,
        store: OutcomeStore,
        tenants: dict[str, TenantSettings],
        table: StatusTable,
        metrics: HubMetrics | None = None,
    ) -> None:
        self._metrics = metrics
        self._settings = settings
        self._client = client
        self._store = store
        self._tenants = tenants
        self._table = table

    async def _retrying(self, call: Callable[[], Awaitable[None]]) -> None:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(TransientError),
            stop=stop_after_attempt(self._settings.max_attempts),
            wait=wait_exponential(
                multiplier=self._settings.backoff_initial_s, max=self._settings.backoff_max_s
            ),
            reraise=True,
        ):
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    log.warning("status.push.retrying", attempt=attempt.retry_state.attempt_number)
                await call()

    async def handle(self, body: bytes) -> PushOutcome:
        """Push one status event (and its notification). Never raises for a bad event."""
        try:
            event: dict[str, Any] = json.loads(body)
            tenant = self._tenants[event["tenant"]]
            status = str(event["status"])
        except (ValueError, KeyError, TypeError) as exc:
            problem = f"{type(exc).__name__}: {exc}"
            return PushOutcome(False, "status-unreadable",
                               ErrorInfo("STATUS_UNREADABLE", problem, False))
        flemish = self._table.statuses.get(status)
        if flemish is None:
            return PushOutcome(False, "status-unmapped", ErrorInfo(
                "STATUS_UNMAPPED", f"status {status!r} has no Flemish phase and code", False))
        with structlog.contextvars.bound_contextvars(
            job_id=event.get("job_id"), dossier_id=event.get("dossier_id"), status=status
        ):
            try:
                await self._retrying(
                    lambda: self._client.push_dossier(dossier_payload(event, tenant, flemish))
                )
                if tenant.notifications and status in self._table.notify:
                    await self._retrying(lambda: self._client.push_notification(
                        notification_bundle(event, tenant, flemish)))
            except HubError as error:
                reason = "status-undeliverable" if error.retryable else "status-refused"
                log.error("status.push.failed", code=error.code, reason=reason)
                return PushOutcome(False, reason, ErrorInfo.from_exception(error))
            await self._store.record_push(StatusPush(
                upload_id=event["event_id"], job_id=event["job_id"],
                dossier_id=event["dossier_id"], tenant=tenant.slug, status=status,
                pushed_at=dt.datetime.now(dt.UTC),
            ))
            log.info("status.pushed", fase=flemish.fase, code=flemish.code)
            if self._metrics is not None:
                self._metrics.status_pushes.labels(result="accepted").inc()
                changed = dt.datetime.fromisoformat(str(event["at"]))
                lag = (dt.datetime.now(dt.UTC) - changed).total_seconds()
                self._metrics.status_push_lag.observe(max(lag, 0.0))
        return PushOutcome(True)

    async def reconcile_once(self) -> int:
        """Read back the results of accepted uploads; a refusal is surfaced, not forgotten."""
        settled = 0
        for push in await self._store.pending_pushes():
            try:
                result = await self._client.upload_result(push.upload_id)
            except HubError as error:
                log.warning("status.reconcile.unavailable", code=error.code)
                return settled
            state = (result or {}).get("Status")
            if state not in {"Verwerkt", "Geweigerd"}:
                continue
            reason = (result or {}).get("Reden")
            await self._store.set_push_result(push.upload_id, str(state), reason)
            settled += 1
            if state == "Geweigerd":
                # Operators see these through the admin API (pushes with result Geweigerd).
                log.error("status.refused_by_service", job_id=push.job_id,
                          dossier_id=push.dossier_id, status=push.status, reason=reason)
        return settled

    async def reconcile_forever(self) -> None:
        while True:
            await asyncio.sleep(self._settings.reconcile_interval_s)
            try:
                await self.reconcile_once()
            except Exception:
                log.exception("status.reconcile.crashed")
