"""Prometheus metrics of one worker process, on their own registry.

Names follow Prometheus conventions (``_total`` counters, ``_seconds`` histograms). The admin
server exposes them at ``/metrics``.
"""

from __future__ import annotations

import asyncio

import structlog
from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)

__all__ = ["HubMetrics", "watch_event_loop"]

log = structlog.get_logger(__name__)


class HubMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # The process (CPU, memory, open files), the platform (Python version) and the
        # garbage collector, as prometheus_client's default registry has them.
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            self.registry.register(collector)
        self.jobs = Counter(
            "loket_jobs_total", "Jobs finished, by type and outcome",
            ["type", "outcome"], registry=self.registry,
        )
        self.job_duration = Histogram(
            "loket_job_duration_seconds",
            "One delivery of a job in the worker, from its arrival to its settlement, by type "
            "and by how it ended: the result's outcome (delivered, rejected, failed, "
            "in-treatment...), or retry, waiting, busy, replayed, error",
            ["type", "outcome"], registry=self.registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
        )
        self.retries = Counter(
            "loket_retries_total", "Jobs sent to a delayed retry queue", ["type", "code"],
            registry=self.registry,
        )
        self.recovered = Counter(
            "loket_jobs_recovered_total",
            "Jobs published again from the store because the broker no longer had them",
            ["type"], registry=self.registry,
        )
        self.dead_letters = Counter(
            "loket_dead_letters_total", "Messages sent to the dead letters", ["reason"],
            registry=self.registry,
        )
        self.job_id_conflicts = Counter(
            "loket_job_id_conflicts_total",
            "Jobs refused because their job id belongs to another request", ["tenant"],
            registry=self.registry,
        )
        self.replays = Counter(
            "loket_results_replayed_total",
            "Stored results sent again to the same request (same job id and fingerprint)",
            ["type"], registry=self.registry,
        )
        self.expired = Counter(
            "loket_results_expired_total",
            "Replays refused because the job's documents were past their retention", ["type"],
            registry=self.registry,
        )
        self.refused_messages = Counter(
            "loket_backoffice_messages_refused_total",
            "Decisions and actions refused: unsigned, bad signature, stale, wrong tenant, "
            "replayed", ["kind", "reason"], registry=self.registry,
        )
        self.purged = Counter(
            "loket_retention_purged_total",
            "What retention removed: results, tombstones, audit records, dead letters",
            ["what"], registry=self.registry,
        )
        self.in_flight = Gauge(
            "loket_jobs_in_flight", "Jobs being worked on now", registry=self.registry
        )
        self.backend_latency = Histogram(
            "loket_backend_call_seconds", "Back-end calls, by service and outcome",
            ["service", "outcome"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.breaker_state = Gauge(
            "loket_breaker_open", "1 while a back end's circuit breaker is open (0.5 half-open)",
            ["backend"], registry=self.registry,
        )
        self.status_push_lag = Histogram(
            "loket_status_push_lag_seconds", "From a status change to DOSIS accepting it",
            registry=self.registry,
            buckets=(0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800),
        )
        self.status_pushes = Counter(
            "loket_status_pushes_total", "Statuses pushed to the citizen profile", ["result"],
            registry=self.registry,
        )
        self.status_readback = Counter(
            "loket_status_readback_total",
            "Uploads DOSIS processed, read back: accepted or refused (with DOSIS's reasons)",
            ["result"], registry=self.registry,
        )
        self.event_loop_lag = Gauge(
            "loket_event_loop_lag_seconds",
            "How late the event loop woke for a timer, last sample (one a second): what "
            "blocks the loop delays every job and health check by as much",
            registry=self.registry,
        )
        self.event_loop_lag_max = Gauge(
            "loket_event_loop_lag_max_seconds", "The largest lag sampled since the start",
            registry=self.registry,
        )
        self.queue_messages = Gauge(
            "loket_queue_messages",
            "Messages ready in each queue of the topology (work, retry, poll, outbox, dead "
            "letters, back office), read from the broker at scrape time",
            ["queue", "kind"], registry=self.registry,
        )
        self.queue_consumers = Gauge(
            "loket_queue_consumers", "Consumers of each queue of the topology, at scrape time",
            ["queue", "kind"], registry=self.registry,
        )
        self.queue_depth_up = Gauge(
            "loket_queue_depth_up", "1 when the last scrape could read the queue depths",
            registry=self.registry,
        )


async def watch_event_loop(metrics: HubMetrics, *, interval_s: float = 1.0) -> None:
    """Sample the loop's lag for ever: sleep ``interval_s`` and measure how much later than
    asked the loop woke (the time a blocking call held it). Logs a lag over one second."""
    loop = asyncio.get_running_loop()
    worst = 0.0
    while True:
        asked = loop.time() + interval_s
        await asyncio.sleep(interval_s)
        lag = max(loop.time() - asked, 0.0)
        metrics.event_loop_lag.set(lag)
        worst = max(worst, lag)
        metrics.event_loop_lag_max.set(worst)
        if lag > 1.0:
            log.warning("event_loop.blocked", lag_s=round(lag, 3))
