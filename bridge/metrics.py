"""Prometheus metrics, one registry per app (so tests can build several apps in one process).

Counters count what this process did; the per-state totals of deliveries and issuances are read
from the registry at scrape time, so every replica reports the shared truth.
"""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, GCCollector, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import func, select

from bridge.registry.lock_timing import LockTimer
from bridge.registry.models import Delivery, Issuance


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        GCCollector(registry=self.registry)  # python_gc_*: the collector runs once started (bridge/startup.py)
        self.events_accepted = Counter("edc_events_accepted", "Intake events stored (new ones, not duplicates)",
                                       ["type"], registry=self.registry)
        self.events_duplicate = Counter("edc_events_duplicate", "Intake events that repeated a stored one",
                                        registry=self.registry)
        self.requests_refused = Counter("edc_intake_refused", "Intake requests refused", ["reason"],
                                        registry=self.registry)
        self.staff_auth_refused = Counter("edc_staff_auth_refused", "Staff logins and Bearer tokens refused "
                                          "(reason: wrong, throttled)", ["reason"], registry=self.registry)
        self.credentials_issued = Counter("edc_credentials_issued", "Credentials sealed and stored",
                                          registry=self.registry)
        self.issue_failures = Counter("edc_issue_failures", "Sealing attempts that failed", ["cause"],
                                      registry=self.registry)
        self.seal_seconds = Histogram("edc_seal_seconds", "Time to build, check and seal one credential",
                                      buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
                                      registry=self.registry)
        self.delivery_attempts = Counter("edc_delivery_attempts", "Delivery attempts", ["channel", "outcome"],
                                         registry=self.registry)
        self.worker_busy_seconds = Counter("edc_worker_busy_seconds", "Wall time worker threads spent on work "
                                           "they had claimed (loop: issue, deliver)", ["loop"], registry=self.registry)

    def watch_registry(self, registry) -> None:
        self.registry.register(_RegistryStates(registry))
        if registry.dialect == "postgresql":  # replicas share a PostgreSQL registry; SQLite has one writer
            self.registry.register(_LockTime(LockTimer.attach(registry.engine)))


class _LockTime:
    """edc_registry_lock_statement_seconds/_total{kind,thread}: time in the statements that take locks. The
    kinds that can wait (row_lock, advisory) bound the time spent waiting on locks from above; skip_locked
    and advisory_try never wait (bridge/registry/lock_timing.py)."""

    def __init__(self, timer: LockTimer) -> None:
        self._timer = timer

    def describe(self):
        return []

    def collect(self):
        seconds = CounterMetricFamily("edc_registry_lock_statement_seconds", "Wall time in registry statements "
                                      "that take locks (claims, row re-checks, the audit chain's lock), by "
                                      "thread (issue, deliver: the worker; other)", labels=["kind", "thread"])
        count = CounterMetricFamily("edc_registry_lock_statements", "Registry statements that take locks",
                                    labels=["kind", "thread"])
        for (kind, role), (spent, n) in sorted(self._timer.totals().items()):
            seconds.add_metric([kind, role], spent)
            count.add_metric([kind, role], n)
        yield seconds
        yield count


class _RegistryStates:
    def __init__(self, registry) -> None:
        self._registry = registry

    def describe(self):
        return []

    def collect(self):
        deliveries = GaugeMetricFamily("edc_deliveries", "Deliveries by channel and state", labels=["channel", "state"])
        issuances = GaugeMetricFamily("edc_issuances", "Issuances by status", labels=["status"])
        try:
            with self._registry.reading() as session:
                for channel, state, n in session.execute(
                        select(Delivery.channel, Delivery.state, func.count()).group_by(Delivery.channel, Delivery.state)):
                    deliveries.add_metric([channel, state], n)
                for status, n in session.execute(select(Issuance.status, func.count()).group_by(Issuance.status)):
                    issuances.add_metric([status], n)
        except Exception:  # noqa: BLE001 - a scrape must not fail because the database blinked
            pass
        yield deliveries
        yield issuances
