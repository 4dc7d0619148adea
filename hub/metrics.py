"""Prometheus metrics of one worker process, on their own registry.

Names follow Prometheus conventions (``_total`` counters, ``_seconds`` histograms). The admin
server exposes them at ``/metrics``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["HubMetrics"]


class HubMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.jobs = Counter(
            "loket_jobs_total", "Jobs finished, by type and outcome",
            ["type", "outcome"], registry=self.registry,
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
