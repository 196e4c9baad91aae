"""Prometheus metrics of ``trackcodec serve`` (prometheus-client).

With one worker the metrics live in a registry of the app. With several
workers, ``PROMETHEUS_MULTIPROC_DIR`` is set by the runner before any worker
starts, every worker writes its values there, and ``/metrics`` (answered by
whichever worker the kernel hands the connection) adds them all up.
"""

from __future__ import annotations

import os
from typing import Any

from trackcodec._deps import require

__all__ = ["CONTENT_TYPE", "MULTIPROC_ENV", "Metrics"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Latency buckets (seconds) around the goal of the server: p99 under 20 ms.
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """The server's counters, gauges and histograms, in one or many processes."""

    def __init__(self) -> None:
        prom = require(
            "prometheus_client", package="prometheus-client", extra="server", feature="metrics"
        )
        self._prom = prom
        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        # Multiprocess mode: values go to files, a registry is built per scrape.
        self.registry: Any = None if self.multiprocess else prom.CollectorRegistry()
        reg = self.registry
        self.requests = prom.Counter(
            "trackcodec_requests",
            "Tracking requests answered, by route (open, click) and outcome "
            "(ok, invalid_token, method_not_allowed, overloaded, store_error).",
            ["route", "outcome"],
            registry=reg,
        )
        self.invalid_tokens = prom.Counter(
            "trackcodec_invalid_tokens",
            "Tracking requests with a token that was refused, by reason (error class).",
            ["reason"],
            registry=reg,
        )
        self.duration = prom.Histogram(
            "trackcodec_request_duration_seconds",
            "Time from the request head to the response, commit wait included.",
            ["route"],
            buckets=_BUCKETS,
            registry=reg,
        )
        self.committed = prom.Counter(
            "trackcodec_events_committed",
            "Events committed to the event store.",
            registry=reg,
        )
        self.store_failures = prom.Counter(
            "trackcodec_event_store_failures",
            "Events whose commit failed (their requests were answered 503).",
            registry=reg,
        )
        gauge_kw: dict[str, Any] = {"registry": reg}
        if self.multiprocess:
            gauge_kw["multiprocess_mode"] = "livemax"
        self.lag = prom.Gauge(
            "trackcodec_event_store_lag_seconds",
            "Seconds the oldest event waiting for a commit has waited (max over workers).",
            **gauge_kw,
        )
        if self.multiprocess:
            gauge_kw["multiprocess_mode"] = "livesum"
        self.pending = prom.Gauge(
            "trackcodec_event_store_pending",
            "Events queued or being committed (sum over workers).",
            **gauge_kw,
        )
        self.delivery_retries = prom.Counter(
            "trackcodec_webhook_delivery_retries",
            "Webhook deliveries retried by this server's delivery worker.",
            registry=reg,
        )

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric (all workers)."""
        prom = self._prom
        if self.multiprocess:
            from prometheus_client import multiprocess

            registry = prom.CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return bytes(prom.generate_latest(registry))
        return bytes(prom.generate_latest(self.registry))
