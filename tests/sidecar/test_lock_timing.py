"""The lock-statement timer on a real PostgreSQL: which statements can wait, and that a wait is counted.

bench/replicas.py judges the replicas' lock wait by the statements that *can* wait (`FOR UPDATE`, blocking
advisory locks) and reports SKIP LOCKED claims and `pg_try_advisory_*` calls apart, as never waiting.
These tests hold a lock in one connection and show both halves on the server itself: the blocking kinds
wait for it and are timed with the wait, the other kinds return at once.
"""
from __future__ import annotations

import threading
import time
import uuid

import pytest
from sqlalchemy import create_engine, text

from bridge.registry.lock_timing import KINDS, NEVER_WAIT, LockTimer, can_wait, kind_of
from sidecar.conftest import _with_schema, postgres_url

HOLD = 0.4  # seconds the other transaction keeps its lock


@pytest.fixture
def engine():
    url = postgres_url()
    if not url:
        pytest.skip("needs PostgreSQL: EDC_TEST_DATABASE_URL or var/test-postgres/url (scripts/start-test-postgres.sh)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    eng = create_engine(_with_schema(url, schema))
    with eng.begin() as conn:
        conn.execute(text("CREATE TABLE items (id integer PRIMARY KEY)"))
        conn.execute(text("INSERT INTO items VALUES (1), (2)"))
    try:
        yield eng
    finally:
        eng.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _held(engine, statement: str, params: dict, ready: threading.Event) -> None:
    """Take a lock in a transaction of its own, keep it HOLD seconds, then commit."""
    with engine.begin() as conn:
        conn.execute(text(statement), params)
        ready.set()
        time.sleep(HOLD)


def _while_held(engine, holder: str, statement: str) -> tuple[dict, bool, LockTimer]:
    """Run `statement` in a worker-named thread while another transaction holds the lock `holder` takes:
    (its rows and elapsed seconds, whether the lock was still held when it returned, the engine's timer)."""
    timer = LockTimer.attach(engine)
    ready, out = threading.Event(), {}
    other = threading.Thread(target=_held, args=(engine, holder, {"i": 1}, ready))
    other.start()
    assert ready.wait(5)

    def run() -> None:
        started = time.perf_counter()
        with engine.begin() as conn:
            out["rows"] = conn.execute(text(statement), {"i": 1}).all()
        out["elapsed"] = time.perf_counter() - started

    worker = threading.Thread(target=run, name="edc-issue-0")  # counted as the worker's (role_of)
    worker.start()
    worker.join(10)
    still_held = other.is_alive()
    other.join(10)
    return out, still_held, timer


@pytest.mark.parametrize("statement, kind", [
    ("SELECT id FROM items WHERE id = :i FOR UPDATE", "row_lock"),
    ("SELECT id FROM items WHERE id = :i FOR NO KEY UPDATE", "row_lock"),
    ("SELECT id FROM items WHERE id = :i FOR UPDATE SKIP LOCKED", "skip_locked"),
    ("SELECT pg_advisory_xact_lock(:i)", "advisory"),
    ("SELECT pg_try_advisory_xact_lock(:i, hashtext(current_schema()))", "advisory_try"),
    ("SELECT id FROM items WHERE id = :i", None),
    ("UPDATE items SET id = id WHERE id = :i", None),
])
def test_statements_are_sorted_by_whether_they_can_wait(statement, kind):
    assert kind_of(statement) == kind
    if kind is not None:
        assert kind in KINDS
        assert can_wait(kind) is (kind not in NEVER_WAIT)
        assert can_wait(kind) is (kind in ("row_lock", "advisory"))


@pytest.mark.parametrize("holder, waiter, kind", [
    ("SELECT id FROM items WHERE id = :i FOR UPDATE", "SELECT id FROM items WHERE id = :i FOR UPDATE", "row_lock"),
    ("SELECT pg_advisory_xact_lock(:i)", "SELECT pg_advisory_xact_lock(:i)", "advisory"),
])
def test_a_statement_that_can_wait_is_timed_with_its_wait(engine, holder, waiter, kind):
    out, _, timer = _while_held(engine, holder, waiter)
    seconds, statements = timer.totals()[(kind, "issue")]
    assert statements == 1
    assert out["elapsed"] >= HOLD * 0.6  # it really waited for the other transaction...
    assert seconds >= HOLD * 0.6  # ...and the timer counted that wait


@pytest.mark.parametrize("holder, tried, kind, answer", [
    ("SELECT id FROM items WHERE id = :i FOR UPDATE", "SELECT id FROM items WHERE id = :i FOR UPDATE SKIP LOCKED",
     "skip_locked", []),
    ("SELECT pg_advisory_xact_lock(:i, hashtext(current_schema()))",
     "SELECT pg_try_advisory_xact_lock(:i, hashtext(current_schema()))", "advisory_try", [(False,)]),
])
def test_the_kinds_that_never_wait_return_at_once_while_the_lock_is_held(engine, holder, tried, kind, answer):
    out, still_held, timer = _while_held(engine, holder, tried)
    assert still_held, "the holder let go before the statement ran: this proves nothing"
    assert [tuple(row) for row in out["rows"]] == answer  # skipped the locked row / said "not free"
    assert out["elapsed"] < HOLD / 2
    seconds, statements = timer.totals()[(kind, "issue")]
    assert statements == 1 and seconds < HOLD / 2
