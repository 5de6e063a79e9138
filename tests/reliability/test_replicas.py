"""Several sidecar replicas on one PostgreSQL registry (issue 18): they share a burst with nothing lost and
nothing twice, a replica SIGKILLed mid-burst leaves no work behind, and the scheduler's jobs run once per
period across replicas, not once per replica.

Real `edc-bridge serve` processes (tests/reliability/replicas.py), one SoftHSM test token reached by each,
a real SMTP server and a Moodle-like server. Skipped without PostgreSQL (EDC_TEST_DATABASE_URL, else
var/test-postgres/url from scripts/start-test-postgres.sh). bench/replicas.py measures the same at size.
"""
from __future__ import annotations

import threading
import time

import pytest

from bridge.registry import lock_timing
from delivery.sinks import FakeMoodle, MailSink

from .replicas import LockSampler, RemoteToken, Replicas, Schema, duplicates, events_for, lost, postgres_url

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
def schema():
    url = postgres_url()
    if not url:
        pytest.skip("needs PostgreSQL: set EDC_TEST_DATABASE_URL or start scripts/start-test-postgres.sh")
    made = Schema(url)
    yield made
    made.drop()


@pytest.fixture
def sinks():
    mail, moodle = MailSink(keep_messages=False).start(), FakeMoodle().start()
    yield mail, moodle
    mail.stop()
    moodle.stop()


@pytest.fixture
def replicas(request, tmp_path, schema, ec_token, sinks):
    """`replicas(n)`: n running replicas of one registry, stopped at the end."""
    made: list[Replicas] = []

    def start(n: int, **extra: str) -> Replicas:
        group = Replicas(tmp_path, schema, ec_token.directory, n, *sinks, **extra)
        made.append(group)
        group.start()
        return group

    yield start
    for group in made:
        group.stop()


@pytest.fixture
def remote_token(tmp_path, ec_token):
    if RemoteToken.client_module() is None:
        pytest.skip("needs p11-kit (its server and client module): apt-get install p11-kit")
    token = RemoteToken(ec_token, tmp_path).start()
    yield token
    token.stop()


def test_three_replicas_share_a_burst_with_nothing_lost_or_twice(replicas, schema, sinks, remote_token):
    """The three reach the one token through p11-kit's remote protocol, as replicas on three machines
    reach a network HSM."""
    group = replicas(3, **remote_token.env())
    events = events_for(150)
    group.begin_watching()
    sampler = LockSampler(schema.engine).start()
    group.send(events, senders=12, timeout=60)
    delivered = group.wait_delivered(len(events), timeout=60)
    sampler.stop()
    group.end_watching()
    assert delivered, f"not everything delivered: {group.outcome()}\n{group.logs()}"
    time.sleep(1)  # a second mail, were one sent, would arrive now
    outcome = group.outcome()
    assert duplicates(outcome) == 0 and lost(outcome) == 0, outcome
    assert outcome["credentials"] == len(events)
    for sidecar in group.sidecars:  # they sealed through p11-kit's client, never with the token's own library
        maps = open(f"/proc/{sidecar.proc.pid}/maps").read()
        assert "p11-kit-client.so" in maps and "libsofthsm2.so" not in maps
    by_replica = group.issued_by_replica()
    assert all(n > 0 for n in by_replica), f"a replica took no part: {by_replica}"
    busy = group.counter("edc_worker_busy_seconds")
    statements = group.counter("edc_registry_lock_statement_seconds", (",issue}", ",deliver}"))
    waiting_kinds = [kind for kind in lock_timing.KINDS if lock_timing.can_wait(kind)]
    can_wait = group.counter("edc_registry_lock_statement_seconds",
                             tuple(f"{{{kind},{role}}}" for kind in waiting_kinds for role in ("issue", "deliver")))
    print(f"\n150 events over 3 replicas (one token over p11-kit remote), issued {by_replica}; worker time {busy:.1f} s, in lock-taking statements "
          f"{statements:.2f} s ({100 * statements / busy:.1f} %), {can_wait:.2f} s of it in those that can wait "
          f"({100 * can_wait / busy:.1f} %), PostgreSQL saw waits of {sampler.waited():.2f} s "
          f"({sampler.by_event()})")
    # What PostgreSQL itself saw waiting on a lock, any statement of any replica, against the workers' time.
    assert sampler.waited() < 0.05 * busy, sampler.by_event()


def test_a_replica_killed_mid_burst_leaves_no_work_behind(replicas, sinks):
    """The default lease is 120 s: finishing well within it means the survivors took the dead one's
    claims back through its liveness lock, not by waiting the lease out."""
    mail, _ = sinks
    group = replicas(2)
    events = events_for(200)
    held: list[int] = []

    def killer() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if len(mail.records) >= 0.25 * len(events):
                claims = group.claims_of(1)
                if claims:  # kill it while it holds work, or the test proves nothing
                    held.append(claims)
                    group.kill(1)
                    return
            time.sleep(0.01)

    chaos = threading.Thread(target=killer)
    chaos.start()
    group.send(events, senders=8, timeout=60)
    chaos.join()
    assert held, "the replica was never caught holding work"
    killed_at = time.monotonic()
    assert group.wait_delivered(len(events), timeout=45), f"{group.outcome()}\n{group.logs()}"
    recovered_in = time.monotonic() - killed_at
    time.sleep(1)
    outcome = group.outcome()
    assert duplicates(outcome) == 0 and lost(outcome) == 0, outcome
    assert group.schema.scalar("SELECT count(*) FROM sidecar_processes") == 1  # the dead one is known as dead
    print(f"\nkilled holding {held[0]} claims; everything delivered {recovered_in:.1f} s later; {outcome}")


def _liveness(schema: Schema) -> tuple[int, int, str]:
    return schema.rows("SELECT period, runs, last_run_by FROM scheduled_jobs WHERE job = 'liveness'")[0]


def test_scheduled_jobs_run_once_per_period_across_replicas(replicas, schema):
    group = replicas(2)
    time.sleep(1.5)
    period0, runs0, _ = _liveness(schema)
    time.sleep(6)
    period1, runs1, runner = _liveness(schema)
    periods, runs = period1 - period0, runs1 - runs0
    # Once per period: never more runs than periods (two replicas each running it would make about twice
    # as many), and none of them skipped but for scheduling jitter on this busy machine.
    assert periods - 2 <= runs <= periods, (periods, runs)

    # The replica that ran it last dies: the other runs the next periods, with no election to wait for.
    pids = [str(s.proc.pid) for s in group.sidecars]
    victim = pids.index(runner.split(":")[1])
    group.kill(victim)
    time.sleep(1.5)
    period2, runs2, _ = _liveness(schema)
    time.sleep(4)
    period3, runs3, runner3 = _liveness(schema)
    assert runner3.split(":")[1] == pids[1 - victim]
    assert period3 - period2 - 2 <= runs3 - runs2 <= period3 - period2, (period3 - period2, runs3 - runs2)
    jobs = dict(schema.rows("SELECT job, runs FROM scheduled_jobs"))
    assert {"liveness", "recovery", "programmes", "audit-link", "seal-expiry-check"} <= set(jobs), jobs
    assert jobs["seal-expiry-check"] == 1, jobs  # at start: one replica checked the seal, not each
