"""Each period of a scheduled job runs once across every sidecar replica of one registry.

Every replica runs the same APScheduler jobs (bridge/worker/service.py) on the same grid: a job of
interval s fires at the multiples of s since the epoch. Before running, a replica claims the current
period with one compare-and-set on the job's row of `scheduled_jobs`:

    UPDATE scheduled_jobs SET period = :p, runs = runs + 1, ... WHERE job = :job AND period < :p

The database makes the update atomic (a row lock on PostgreSQL, the write lock on SQLite), so exactly
one replica sees one row changed and runs the job; the others see none and skip. `period` only grows,
so no period runs twice, and nobody has to be the leader: when a replica dies the next period is
claimed by whichever replica is alive, with no election and no takeover delay. Clocks of the replicas'
machines must agree to well under an interval (NTP), as the leases already need.

Why not a leader lock: a leader that stalls (a long job, a paused VM) stops every job until it is
noticed; a period claimed per job keeps the others running. A job that runs longer than its interval
may overlap its next period on another replica; the jobs are written for that already (claims with
SKIP LOCKED, row locks on what they change), as two replicas' workers run the same code paths.
"""
from __future__ import annotations

import time
from sqlalchemy import select, update

from bridge.registry.db import Registry, insert_on_conflict
from bridge.registry.models import ScheduledJob, utcnow


def period_of(interval_seconds: float, now: float | None = None) -> int:
    """The period a moment falls in: whole intervals since the epoch (the grid every replica shares)."""
    return int((time.time() if now is None else now) // interval_seconds)


def claim(registry: Registry, job: str, period: int, runner: str) -> bool:
    """True for the one caller that moves `job` to `period` first; every other caller, and any later
    call for the same or an earlier period, gets False. A job's first run adds its row."""
    values = {"period": period, "last_run_by": runner[:128], "last_run_at": utcnow()}
    with registry.transaction() as session:
        changed = session.execute(
            update(ScheduledJob).where(ScheduledJob.job == job, ScheduledJob.period < period)
            .values(runs=ScheduledJob.runs + 1, **values).execution_options(synchronize_session=False)).rowcount
        if changed:
            return True
        # No row moved: either another replica has this period, or the job never ran (no row yet). Two
        # first runs at once both try the insert; the second waits for the first and then does nothing.
        insert = insert_on_conflict(registry.dialect)
        added = session.execute(insert(ScheduledJob).values(job=job, runs=1, **values)
                                .on_conflict_do_nothing(index_elements=["job"]).returning(ScheduledJob.job))
        return added.first() is not None  # a row count is not reported for an insert here (psycopg: -1)


def runs(registry: Registry) -> dict[str, tuple[int, int, str | None]]:
    """job -> (last period, runs, last run by): what operators and the tests read."""
    with registry.reading() as session:
        return {row.job: (row.period, row.runs, row.last_run_by)
                for row in session.execute(select(ScheduledJob)).scalars()}
