"""Issue 18: the work of a sidecar process that died is taken back at once, not after its lease.

A real second process holds its liveness lock and claims; it is SIGKILLed; the survivor takes its claims
back within a second although their lease has two minutes to run. Nothing is taken while it lives.
"""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time

from sqlalchemy import select

from bridge import worker
from bridge.registry.liveness import Liveness
from bridge.registry.models import Delivery, Issuance, SidecarProcess, utcnow
from bridge.worker.recovery import take_back_from_the_dead
from tests.sidecar.conftest import make_event, pilot_spec, post_event, put_spec

HOLDER = textwrap.dedent("""
    import sys, time
    from bridge.registry import Registry
    from bridge.registry.liveness import Liveness
    registry = Registry(sys.argv[1], migrate=False)
    liveness = Liveness(registry)  # kept: the lock lives as long as the object
    liveness.hold(sys.argv[2])
    print("holding", flush=True)
    time.sleep(600)
""")


def start_holder(database_url: str, process_id: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, database_url, process_id], stdout=subprocess.PIPE,
                            text=True, start_new_session=True)
    assert proc.stdout.readline().strip() == "holding"
    return proc


def claim_as(ctx, process_id: str) -> tuple[str, int]:
    """One issuance sealing and one delivery under a 2-minute lease, both claimed by `process_id`."""
    [issuance] = worker.claim_issuances(ctx, f"{process_id}/0", 1)
    with ctx.registry.transaction() as session:
        delivery = session.execute(select(Delivery).order_by(Delivery.id)).scalars().first()
        delivery.claimed_by, delivery.claimed_until = process_id, utcnow() + dt.timedelta(minutes=2)
        return issuance, delivery.id


def test_a_killed_process_loses_its_claims_at_once_and_a_living_one_keeps_them(client, ctx, database_url):
    put_spec(client, 1, pilot_spec())
    post_event(client, make_event())
    assert worker.drain(ctx) == 1  # one credential with its deliveries, to have a delivery row to claim
    post_event(client, make_event(learner=dict(make_event()["learner"], id=99, email="b@example.edu")))
    ctx.liveness = Liveness(ctx.registry)
    holder = start_holder(database_url, "other-host:4242:abcdef")
    try:
        issuance, delivery = claim_as(ctx, "other-host:4242:abcdef")
        assert take_back_from_the_dead(ctx) == 0  # alive: its claims are its own
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait(10)
        started = time.monotonic()
        taken = 0
        while taken == 0 and time.monotonic() - started < 5:
            taken = take_back_from_the_dead(ctx)  # PostgreSQL ends the dead session within moments
            time.sleep(0.05)
        assert taken == 2
        with ctx.registry.transaction() as session:
            assert session.get(Issuance, issuance).status == "queued"
            assert session.get(Delivery, delivery).claimed_until is None
            assert session.get(SidecarProcess, "other-host:4242:abcdef") is None  # reported once
        assert take_back_from_the_dead(ctx) == 0
    finally:
        if holder.poll() is None:
            os.killpg(holder.pid, signal.SIGKILL)


def test_an_owner_that_never_registered_waits_for_its_lease(client, ctx):
    """Worker ids from before this mechanism (or a test's 'drain') are not declared dead by it."""
    put_spec(client, 1, pilot_spec())
    post_event(client, make_event())
    ctx.liveness = Liveness(ctx.registry)
    [issuance] = worker.claim_issuances(ctx, "old-sidecar:1:000000/0", 1)
    assert take_back_from_the_dead(ctx) == 0
    with ctx.registry.transaction() as session:
        assert session.get(Issuance, issuance).status == "sealing"


def test_a_worker_holds_its_liveness_while_running_and_lets_go_on_a_clean_stop(settings, channels):
    from bridge.app import create_app

    app = create_app(settings, channels=channels)
    ctx = app.extensions["edc"]
    runner = worker.Worker(ctx, scheduling=False)
    runner.start()
    try:
        with ctx.registry.transaction() as session:
            assert session.get(SidecarProcess, ctx.worker_id) is not None
        assert Liveness(ctx.registry).dead({ctx.worker_id}) == set()  # a second look from this process too
    finally:
        runner.stop()
    with ctx.registry.transaction() as session:
        assert session.get(SidecarProcess, ctx.worker_id) is None


def test_a_worker_whose_claim_was_taken_back_sends_nothing_and_records_nothing(client, ctx):
    """The hand-over (just before the final "." of DATA) is also the ownership check: a worker that lost
    its claim (lease ran out, or taken for dead) while it was composing never sends a second copy, and
    its bookkeeping does not overwrite the new holder's claim."""
    from bridge.delivery.email import EmailChannel, parse_smtp_url
    from bridge.worker import delivering
    from tests.delivery.sinks import MailSink

    sink = MailSink().start()
    try:
        ctx.channels = {"email": EmailChannel(parse_smtp_url(sink.url), "credentials@edc.example.edu", timeout=5)}
        put_spec(client, 1, pilot_spec())
        post_event(client, make_event())
        worker.process_issuances(ctx, worker.claim_issuances(ctx, "w/0", 1), "w/0")
        [delivery] = delivering._claim_deliveries(ctx, 1, None)
        with ctx.registry.transaction() as session:  # meanwhile another process took it over
            row = session.get(Delivery, delivery)
            row.claimed_by, row.claimed_until = "other-host:1:aaaaaa", utcnow() + dt.timedelta(minutes=2)
        [(_, error)] = results = delivering._attempt_all(ctx, [delivery])
        assert error is not None and "taken back" in str(error)
        delivering._record_attempts(ctx, results)
        assert sink.records == []
        with ctx.registry.transaction() as session:
            row = session.get(Delivery, delivery)
            assert (row.state, row.attempts, row.claimed_by) == ("pending", 0, "other-host:1:aaaaaa")
    finally:
        sink.stop()
