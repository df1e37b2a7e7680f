"""Prometheus metrics, in a registry of the app's own (several apps may share a process).

Requests and latency per route template (never the raw path, so unknown URLs cannot
grow the label set), jobs and fits by outcome, and queue depth read from the
database at scrape time (so every replica reports the shared queue).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["Metrics"]

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _QueueCollector(Collector):
    """``flopwise_queue_depth{kind,status}`` from a callable, cached for a second."""

    def __init__(self, depth: Callable[[], dict[tuple[str, str], int]]) -> None:
        self._depth = depth
        self._cache: tuple[float, dict[tuple[str, str], int]] = (0.0, {})

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "flopwise_queue_depth", "Jobs queued or running, by kind", labels=["kind", "status"]
        )

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield self._family()  # without querying the database at registration

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = self._family()
        stamp, values = self._cache
        if time.monotonic() - stamp > 1.0:
            try:
                values = self._depth()
                self._cache = (time.monotonic(), values)
            except Exception:  # keep the last figures rather than fail the scrape
                log.exception("reading the queue depth failed")
        for kind in ("refit", "calibration"):
            for status in ("queued", "running"):
                family.add_metric([kind, status], values.get((kind, status), 0))
        yield family


class Metrics:
    """The service's metrics."""

    def __init__(self, queue_depth: Callable[[], dict[tuple[str, str], int]] | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "flopwise_http_requests",
            "HTTP requests by route template, method and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "flopwise_http_request_duration_seconds",
            "HTTP request latency by route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.jobs = Counter(
            "flopwise_jobs",
            "Job attempts by kind and outcome",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.fits = Counter(
            "flopwise_fits",
            "Refits: published (a new law version) or failed (after its last attempt)",
            ["outcome"],
            registry=self.registry,
        )
        self.runs_ingested = Counter(
            "flopwise_runs_ingested", "Observations newly stored", registry=self.registry
        )
        self.laws_loaded = Gauge(
            "flopwise_laws_loaded",
            "Law ids answers can use in this process",
            registry=self.registry,
        )
        if queue_depth is not None:
            self.registry.register(_QueueCollector(queue_depth))
