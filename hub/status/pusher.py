"""The status pusher: status events from the ordered outbox to DOSIS, and their read-back.

Order per dossier is kept because the outbox queue has a single active consumer (whichever worker
holds it) and the worker hands the events of one dossier to the pusher one after another
(:class:`hub.status.lanes.DossierLanes`): a status is pushed only after the earlier ones of its
dossier were accepted, while other dossiers move on. While DOSIS is down the pusher waits and
retries the status (backing off) rather than moving it to a delay queue, which would let a later
status of the same dossier overtake it; after ``max_attempts`` the event goes to the dead letters
with its reason, where an operator can replay it.

What goes to a profile: only dossiers, and only for an applicant who logged in securely or whose
request an employee accepted (:func:`hub.status.mapping.not_for_profile`); other events are
acknowledged and logged (``status.not_for_profile``).

Every status event is its own upload with its own UploadId (derived from the event id, which the
worker makes unique per transition); a redelivered event has the same UploadId, and one already
accepted is not pushed again (``status.already_pushed``).

Read-back: every accepted upload stays pending until DOSIS has processed it (404 until then);
``Succes`` settles it as ``accepted``, ``Succes: false`` as ``refused`` with DOSIS's reasons
(``Fout``, ``Fouten``), surfaced as the log event ``status.refused_by_service``, the metric
``loket_status_readback_total{result}`` and the admin API (``/api/status-pushes``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

from hub.breaker import BreakerOpen
from hub.config import StatusSettings, TenantSettings
from hub.contract import ErrorInfo
from hub.errors import HubError, TransientError
from hub.messages import StatusEvent, UnreadableMessage
from hub.metrics import HubMetrics
from hub.status.dosis import DosisClient
from hub.status.mapping import (
    Catalogue,
    StatusTable,
    StatusTexts,
    dossier_payload,
    load_catalogue,
    load_status_texts,
    not_for_profile,
    notification_bundle,
    upload_id_for,
)
from hub.store import OutcomeStore
from hub.store.base import StatusPush

__all__ = ["ACCEPTED", "REFUSED", "UNCONFIRMED", "PushOutcome", "StatusPusher",
           "refusal_reason"]

log = structlog.get_logger(__name__)

ACCEPTED = "accepted"
REFUSED = "refused"
UNCONFIRMED = "unconfirmed"


@dataclass(frozen=True)
class PushOutcome:
    """Settled (pushed, already pushed or not for a profile), or to be dead-lettered with a
    reason and the error."""

    pushed: bool
    reason: str = ""
    error: ErrorInfo | None = None


def refusal_reason(result: dict[str, Any]) -> str:
    """DOSIS's reasons for a refused upload in one line: ``Fout`` and every ``Fouten`` entry."""
    parts = [str(result["Fout"])] if result.get("Fout") else []
    for fault in result.get("Fouten") or []:
        if isinstance(fault, dict) and fault.get("Omschrijving"):
            line = fault.get("LijnNummer")
            parts.append(f"{fault['Omschrijving']}" + (f" (lijn {line})" if line else ""))
    return "; ".join(dict.fromkeys(parts)) or "refused without a reason"


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
        texts: StatusTexts | None = None,
        catalogue: Catalogue | None = None,
    ) -> None:
        self._metrics = metrics
        self._settings = settings
        self._client = client
        self._store = store
        self._tenants = tenants
        self._table = table
        self._texts = texts or load_status_texts()
        self._catalogue = catalogue or load_catalogue()

    async def _retrying(self, call: Callable[[], Awaitable[Any]]) -> Any:
        """``call`` until it succeeds, a permanent error, or ``max_attempts`` calls failed.

        A call refused by DOSIS's open breaker never reached DOSIS: it waits like a failure
        but does not use up an attempt, so an outage longer than the attempts' backoff
        still ends in delivery once the breaker lets a trial through.
        """
        failed_calls = 0

        def exhausted(_: RetryCallState) -> bool:
            return failed_calls >= self._settings.max_attempts

        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(TransientError),
            stop=exhausted,
            wait=wait_exponential(
                multiplier=self._settings.backoff_initial_s, max=self._settings.backoff_max_s
            ),
            reraise=True,
        ):
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    log.warning("status.push.retrying", attempt=attempt.retry_state.attempt_number)
                try:
                    return await call()
                except BreakerOpen:
                    raise
                except TransientError:
                    failed_calls += 1
                    raise
        raise AssertionError("unreachable")

    async def handle(self, body: bytes) -> PushOutcome:
        """Push one status event (and its notification). Never raises for a bad event."""
        try:
            event = StatusEvent.decode(body)
        except UnreadableMessage as exc:
            return PushOutcome(False, "status-unreadable",
                               ErrorInfo("STATUS_UNREADABLE", f"UnreadableMessage: {exc}", False))
        tenant = self._tenants.get(event.tenant)
        if tenant is None:
            # A job for a municipality this hub does not serve was refused (UNKNOWN_TENANT);
            # its status has no dossier manager or source to go to: no profile shows it.
            log.info("status.not_for_profile", reason="unknown-tenant", job_id=event.job_id,
                     job_type=event.type)
            if self._metrics is not None:
                self._metrics.status_pushes.labels(result="unknown-tenant").inc()
            return PushOutcome(True, "unknown-tenant")
        status = event.status
        upload_id = upload_id_for(event.event_id)
        flemish = self._table.statuses.get(status)
        if flemish is None:
            return PushOutcome(False, "status-unmapped", ErrorInfo(
                "STATUS_UNMAPPED", f"status {status!r} has no Flemish phase and code", False))
        with structlog.contextvars.bound_contextvars(
            job_id=event.job_id, dossier_id=event.dossier_id, status=status
        ):
            skip = not_for_profile(event, self._catalogue)
            if skip is not None:
                log.info("status.not_for_profile", reason=skip, job_type=event.type)
                return PushOutcome(True, skip)
            if await self._store.push(upload_id) is not None:
                log.info("status.already_pushed", upload_id=upload_id)
                return PushOutcome(True, "already-pushed")
            try:
                payload = dossier_payload(
                    event, tenant, flemish, texts=self._texts, catalogue=self._catalogue,
                    identification_keys=self._settings.identification_keys,
                    zone=self._settings.local_timezone,
                )
            except (ValueError, KeyError, TypeError) as exc:
                return PushOutcome(False, "status-unreadable", ErrorInfo(
                    "STATUS_UNREADABLE", f"{type(exc).__name__}: {exc}", False))
            try:
                await self._retrying(lambda: self._client.push_dossier(payload))
            except HubError as error:
                return self._failed(error)
            await self._store.record_push(StatusPush(
                upload_id=upload_id, job_id=event.job_id,
                dossier_id=event.dossier_id, tenant=tenant.slug, status=status,
                pushed_at=dt.datetime.now(dt.UTC),
            ))
            log.info("status.pushed", fase=flemish.fase, code=flemish.code, upload_id=upload_id)
            if self._metrics is not None:
                self._metrics.status_pushes.labels(result=ACCEPTED).inc()
                changed = dt.datetime.fromisoformat(event.at)
                lag = (dt.datetime.now(dt.UTC) - changed).total_seconds()
                self._metrics.status_push_lag.observe(max(lag, 0.0))
            if self._notifies(tenant, status, event.notify):
                try:
                    await self._retrying(lambda: self._client.push_notification(
                        notification_bundle(event, tenant, flemish)))
                except HubError as error:
                    # The status itself is in the profile; a lost notification must not send
                    # it again. Logged and counted, not dead-lettered.
                    log.error("status.notification.failed", code=error.code)
                    if self._metrics is not None:
                        self._metrics.status_pushes.labels(result="notification-failed").inc()
        return PushOutcome(True)

    def _notifies(self, tenant: TenantSettings, status: str, asked: Any) -> bool:
        return (self._settings.notifications_enabled and tenant.notifications
                and self._table.notifies(status, asked if isinstance(asked, bool) else None))

    def _failed(self, error: HubError) -> PushOutcome:
        reason = "status-undeliverable" if error.retryable else "status-refused"
        log.error("status.push.failed", code=error.code, reason=reason, message=error.message)
        if self._metrics is not None:
            self._metrics.status_pushes.labels(result=reason).inc()
        return PushOutcome(False, reason, ErrorInfo.from_exception(error))

    async def reconcile_once(self) -> int:
        """Read back the results of accepted uploads; a refusal is surfaced, not forgotten.

        Returns how many uploads were settled; one DOSIS has not processed yet (404) stays
        pending and is read again next time, until ``readback_give_up_s`` after its push: then
        it is settled as ``unconfirmed`` (log ``status.readback_gave_up``), for an operator.
        """
        settled = 0
        now = dt.datetime.now(dt.UTC)
        for push in await self._store.pending_pushes(limit=500):
            try:
                result = await self._client.upload_result(push.upload_id)
            except HubError as error:
                log.warning("status.reconcile.unavailable", code=error.code)
                return settled
            if result is None:
                age = (now - push.pushed_at).total_seconds()
                if age < self._settings.readback_give_up_s:
                    continue
                reason = f"DOSIS did not process the upload within {age:.0f} s"
                await self._store.set_push_result(push.upload_id, UNCONFIRMED, reason)
                log.error("status.readback_gave_up", job_id=push.job_id,
                          dossier_id=push.dossier_id, status=push.status,
                          upload_id=push.upload_id)
                if self._metrics is not None:
                    self._metrics.status_readback.labels(result=UNCONFIRMED).inc()
                settled += 1
                continue
            if result["Succes"]:
                await self._store.set_push_result(push.upload_id, ACCEPTED, None)
                outcome = ACCEPTED
            else:
                reason = refusal_reason(result)
                await self._store.set_push_result(push.upload_id, REFUSED, reason)
                outcome = REFUSED
                log.error("status.refused_by_service", job_id=push.job_id,
                          dossier_id=push.dossier_id, status=push.status,
                          upload_id=push.upload_id, reason=reason)
            if self._metrics is not None:
                self._metrics.status_readback.labels(result=outcome).inc()
            settled += 1
        return settled

    async def reconcile_forever(self) -> None:
        while True:
            await asyncio.sleep(self._settings.reconcile_interval_s)
            try:
                await self.reconcile_once()
            except Exception:
                log.exception("status.reconcile.crashed")
