"""The service's figures for Prometheus: updates handled and how long they took, deliveries, reminders,
the outbox's depth and the process's memory and CPU, each in the registry of one Runtime (never
prometheus_client's global one, so tests and two runtimes in one process count apart). The web server's
/metrics renders them.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

# Seconds: a reply is expected within a second; an export may take several.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The counters, histogram and gauge one running service updates where it already knows the figure."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)  # process_resident_memory_bytes, CPU seconds, open files
        self.updates = Counter(
            "thidua_updates",
            "Updates handled, by channel and outcome (ok, error)",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "thidua_update_seconds",
            "Time to answer one update, its database transaction included",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.deliveries = Counter(
            "thidua_deliveries",
            "Outbox messages recorded, by channel and result (sent, retry, uncertain, unreachable, failed)",
            ["channel", "result"],
            registry=self.registry,
        )
        self.reminders_sent = Counter(
            "thidua_reminders_sent",
            "Reminder sendings that went out (queued to their members)",
            registry=self.registry,
        )
        self.reminders_missed = Counter(
            "thidua_reminders_missed",
            "Reminder sendings missed (the service was down past the grace period) and reported",
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "thidua_outbox_pending",
            "Outbox messages waiting to be sent, read from the database at each scrape",
            registry=self.registry,
        )
        # The labelled series an update counts in, kept: ``labels()`` looks them up under a lock each time.
        self._updates_by: dict[tuple[str, str], Counter] = {}
        self._latency_by: dict[str, Histogram] = {}

    def update_answered(self, channel: str, outcome: str, seconds: float) -> None:
        """Count one update of ``channel`` by its outcome (ok, error), with the seconds it took."""
        counted = self._updates_by.get((channel, outcome))
        if counted is None:
            counted = self._updates_by[(channel, outcome)] = self.updates.labels(channel, outcome)
        counted.inc()
        timed = self._latency_by.get(channel)
        if timed is None:
            timed = self._latency_by[channel] = self.latency.labels(channel)
        timed.observe(seconds)
