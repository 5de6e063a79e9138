"""Issue 18: each period of a scheduled job runs once across replicas (bridge/registry/job_runs.py).

Two registry handles stand for two replicas (on PostgreSQL two connection pools; the real processes
are in tests/reliability/test_replicas.py). Many threads claim the same periods at once: one claim per
period wins, an earlier period is never run again, and the counter says how often the job ran.
"""
from __future__ import annotations

import threading

from bridge.registry import Registry, job_runs


def test_one_claim_per_period_among_many_at_once(database_url):
    first = Registry(database_url)
    second = Registry(database_url, migrate=False)
    try:
        won: list[tuple[int, str]] = []
        lock = threading.Lock()

        def replica(registry: Registry, name: str, period: int, ready: threading.Barrier) -> None:
            ready.wait()
            if job_runs.claim(registry, "liveness", period, name):
                with lock:
                    won.append((period, name))

        for period in (100, 101, 102):
            ready = threading.Barrier(6)
            threads = [threading.Thread(target=replica, args=(registry, f"{tag}-{i}", period, ready))
                       for i in range(3) for tag, registry in (("a", first), ("b", second))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert sorted(p for p, _ in won) == [100, 101, 102], won  # each period once, none missed
        assert not job_runs.claim(second, "liveness", 101, "late")  # an earlier period never runs again
        assert not job_runs.claim(first, "liveness", 102, "late")
        assert job_runs.claim(first, "liveness", 103, "next")
        assert job_runs.runs(second)["liveness"] == (103, 4, "next")
        assert job_runs.claim(second, "nonces", 7, "b")  # another job has its own periods
        assert job_runs.runs(first)["nonces"] == (7, 1, "b")
    finally:
        first.dispose()
        second.dispose()


def test_the_grid_is_shared():
    assert job_runs.period_of(5, 1_000_004.9) == job_runs.period_of(5, 1_000_000.0) == 200_000
    assert job_runs.period_of(5, 1_000_005.0) == 200_001


def test_the_migration_creates_what_the_model_describes(database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bridge.registry.models import Base

    registry = Registry(database_url)
    try:
        with registry.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        registry.dispose()
    assert [d for d in differences if "scheduled_jobs" in repr(d) or "audit_pending" in repr(d)] == []
