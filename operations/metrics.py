"""Render /metrics: the processes' counters (statusmsg.metrics) plus the queue gauges read from the database."""

import os

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

import statusmsg.metrics  # noqa: F401 - registers the counters before the first scrape

from .status import queue


class QueueCollector(Collector):
    """statusmsg_tasks_pending and statusmsg_tasks_running, counted at scrape time from the rows."""

    def collect(self):
        figures = queue()
        yield GaugeMetricFamily("statusmsg_tasks_pending", "Tasks waiting for a worker", value=figures["pending"])
        yield GaugeMetricFamily("statusmsg_tasks_running", "Tasks a worker is running", value=figures["running"])


def render() -> bytes:
    """Return the exposition text of every metric."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry = _single_process_registry()
    registry.register(QueueCollector())
    return generate_latest(registry)


def _single_process_registry() -> CollectorRegistry:
    # The default registry holds this process's counters; wrap it so the queue collector,
    # added per scrape, is not registered on the global one again and again.
    registry = CollectorRegistry()
    registry.register(_Forward(REGISTRY))
    return registry


class _Forward(Collector):
    def __init__(self, source: CollectorRegistry):
        self.source = source

    def collect(self):
        yield from self.source.collect()
