"""How long this process spends in the statements that take locks in the registry (PostgreSQL).

Replicas on one registry share work through locks: claims (`SELECT … FOR UPDATE SKIP LOCKED`), the
rows a batch re-checks before storing (`SELECT … FOR UPDATE`) and the audit chain's linker
(`pg_try_advisory_xact_lock`, one linker at a time across every process). Two of those never wait, by
PostgreSQL's definition: SKIP LOCKED passes over a row it cannot lock at once, and a `pg_try_advisory_*`
call answers false instead of queueing (PostgreSQL manual, "The Locking Clause" and "Advisory Lock
Functions"). Only the others, `FOR UPDATE` without SKIP LOCKED and the blocking `pg_advisory_*lock`,
can wait for a lock another replica holds. So the wall time of exactly those, summed, is an upper bound
of the time this process waited on locks (it includes the statements' own work and round trips); the
statements that never wait are timed too, and reported apart, so nobody has to take the split on trust.

What it does not see: a lock wait inside an ordinary statement (an INSERT waiting for a concurrent one
with the same unique key, an UPDATE of a row another transaction holds). The benchmark (bench/replicas.py)
therefore also samples PostgreSQL's own view (pg_stat_activity, wait_event_type 'Lock'), which sees
every wait of every statement, and prints both.
"""
from __future__ import annotations

import threading
import time
import weakref
from collections import defaultdict

from sqlalchemy import event
from sqlalchemy.engine import Engine

_KEY = "edc_lock_statement"
_TIMERS: "weakref.WeakKeyDictionary[Engine, LockTimer]" = weakref.WeakKeyDictionary()


# Every kind kind_of names, and those that cannot wait for a lock: the statement skips what is locked, or
# the call answers false.
KINDS = ("row_lock", "advisory", "skip_locked", "advisory_try")
NEVER_WAIT = frozenset({"skip_locked", "advisory_try"})


def kind_of(statement: str) -> str | None:
    """Which lock a statement takes on purpose (None: none). Plain substring tests: this runs for every
    statement, and SQLAlchemy writes these clauses in capitals."""
    if "FOR UPDATE" in statement or "FOR NO KEY UPDATE" in statement:
        return "skip_locked" if "SKIP LOCKED" in statement else "row_lock"
    if "advisory" in statement and "_lock(" in statement:
        return "advisory_try" if "pg_try_advisory" in statement else "advisory"
    return None


def can_wait(kind: str) -> bool:
    """Whether a statement of this kind may wait for a lock held elsewhere (see the module's docstring)."""
    return kind not in NEVER_WAIT


def role_of(thread_name: str) -> str:
    """Whose time it is: the worker's issuing and delivery threads (bridge/worker/service.py), else the
    intake, API and scheduler threads ("other"): the worker's share is judged against its own busy time."""
    if thread_name.startswith("edc-issue"):
        return "issue"
    if thread_name.startswith("edc-deliver"):
        return "deliver"
    return "other"


class LockTimer:
    """Seconds and count of lock-taking statements, by kind, since this process started (thread-safe)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self.seconds: dict[tuple[str, str], float] = defaultdict(float)
        self.statements: dict[tuple[str, str], int] = defaultdict(int)

    @classmethod
    def attach(cls, engine: Engine) -> "LockTimer":
        """One timer per engine: attaching twice returns the first."""
        timer = _TIMERS.get(engine)
        if timer is None:
            timer = _TIMERS[engine] = cls()
            event.listen(engine, "before_cursor_execute", timer._before)
            event.listen(engine, "after_cursor_execute", timer._after)
        return timer

    def totals(self) -> dict[tuple[str, str], tuple[float, int]]:
        """(kind, thread role) -> (seconds, statements)."""
        with self._mutex:
            return {kind: (self.seconds[kind], self.statements[kind]) for kind in self.statements}

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        kind = kind_of(statement)
        if kind is not None:
            conn.info[_KEY] = (kind, time.perf_counter())
        elif _KEY in conn.info:  # left by a lock statement that raised: not this statement's time
            del conn.info[_KEY]

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        started = conn.info.pop(_KEY, None)
        if started is None:
            return
        kind, at = started
        elapsed = time.perf_counter() - at
        key = (kind, role_of(threading.current_thread().name))
        with self._mutex:
            self.seconds[key] += elapsed
            self.statements[key] += 1
