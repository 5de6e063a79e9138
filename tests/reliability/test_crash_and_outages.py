"""Nothing lost, nothing twice: a real sidecar process killed with SIGKILL mid-burst, and outages of SMTP and Moodle.

What counts is judged from outside: every event that got a 202 must end with exactly one credential
in the registry, exactly one mail accepted by the SMTP server and exactly one file stored by Moodle.
See tests/reliability/README.md for why email can be exactly-once here and where that stops.
"""
from __future__ import annotations

import collections
import hashlib
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from delivery.sinks import FakeMoodle, MailSink, free_port

from .harness import Sidecar, pilot_course, make_event, registry_rows, sidecar_env

BURST = int(os.environ.get("EDC_RELIABILITY_EVENTS", "2000"))
KILLS = min(6, int(os.environ.get("EDC_RELIABILITY_KILLS", "6")))
COURSE_ID = 12
FAST = {"EDC_LEASE_SECONDS": "3", "EDC_RETRY_BASE_SECONDS": "0.3", "EDC_RETRY_MAX_SECONDS": "2",
        "EDC_MAX_DELIVERY_ATTEMPTS": "1000", "EDC_WORKERS": "2",
        "EDC_WORKER_PROCESSES": os.environ.get("EDC_RELIABILITY_PROCESSES", "0")}


@pytest.fixture
def sinks():
    mail = MailSink(keep_messages=False).start()
    moodle = FakeMoodle().start()
    yield mail, moodle
    mail.stop()
    moodle.stop()


@pytest.fixture
def sidecar(tmp_path, ec_token, sinks):
    mail, moodle = sinks
    env = sidecar_env(tmp_path, ec_token.directory, mail.url, moodle.url, moodle.token, **FAST)
    process = Sidecar(tmp_path, free_port(), env)
    process.start()
    response = process.put_specification(COURSE_ID, pilot_course("data101"))
    assert response.status_code in (200, 201), response.text
    yield process
    process.stop()


class Intake:
    """Moodle's side: send each event until it is acknowledged, as the plugin's adhoc task retries."""

    def __init__(self, sidecar: Sidecar) -> None:
        self.sidecar = sidecar
        self.acked: dict[str, str] = {}  # event_id -> issuance_id
        self.refusals: collections.Counter[str] = collections.Counter()
        self.conflicts: list[str] = []
        self._lock = threading.Lock()
        self._local = threading.local()

    def send_until_acked(self, event: dict, deadline: float) -> None:
        session = getattr(self._local, "session", None) or requests.Session()
        self._local.session = session
        while time.monotonic() < deadline:
            try:
                response = self.sidecar.post_event(event, session, timeout=5)
            except requests.RequestException:
                self.refusals["connection"] += 1
                session.close()
                time.sleep(0.05)
                continue
            if response.status_code in (200, 202):
                issuance = response.json()["issuance_id"]
                with self._lock:
                    known = self.acked.setdefault(event["event_id"], issuance)
                    if known != issuance:
                        self.conflicts.append(f"{event['event_id']}: {known} then {issuance}")
                return
            self.refusals[str(response.status_code)] += 1
            if response.status_code < 500 and response.status_code != 429:
                raise AssertionError(f"event refused: {response.status_code} {response.text[:300]}")
            time.sleep(0.05)
        raise AssertionError(f"event {event['event_id']} never acknowledged")


def unfinished(sidecar: Sidecar) -> dict:
    """What the registry says is still open: the first thing to read when a run does not complete."""
    db = sidecar.workdir / "registry.sqlite3"
    return {
        "issuances": registry_rows(db, "SELECT id, status, attempts, claimed_by, claimed_until, last_error "
                                       "FROM issuances WHERE status NOT IN ('delivered') LIMIT 5"),
        "deliveries": registry_rows(db, "SELECT credential_id, channel, state, attempts, claimed_until, "
                                        "next_attempt_at, last_error FROM deliveries WHERE state != 'sent' LIMIT 5"),
    }


def wait_until(predicate, timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def check_exactly_once(sidecar: Sidecar, mail: MailSink, moodle: FakeMoodle, acked: dict[str, str]) -> dict:
    """The registry, the mail server and Moodle each hold exactly one of everything that was acknowledged."""
    db = sidecar.workdir / "registry.sqlite3"
    credentials = registry_rows(db, "SELECT issuance_id, id, learner_email FROM credentials")
    per_issuance = collections.Counter(issuance for issuance, _, _ in credentials)
    issuances = set(acked.values())
    assert len(issuances) == len(acked), "two events shared an issuance"
    assert {i for i, n in per_issuance.items() if n > 1} == set(), "an issuance has more than one credential"
    assert issuances - set(per_issuance) == set(), "acknowledged events without a credential"
    assert set(per_issuance) - issuances == set(), "credentials nobody acknowledged"

    ids = {cid for _, cid, _ in credentials}
    email_of = {cid: address for _, cid, address in credentials}
    handed_over = {cid for (cid,) in registry_rows(
        db, "SELECT credential_id FROM deliveries WHERE channel = 'email' AND last_error LIKE 'handed over%'")}
    twice = {cid: n for cid, n in mail.by_credential.items() if n > 1}
    assert twice == {}, f"credentials mailed more than once: {dict(list(twice.items())[:5])}"
    assert set(mail.by_credential) - ids == set(), "mails for unknown credentials"
    missing = ids - set(mail.by_credential)
    # The one loss the design allows (tests/reliability/README.md): killed after recording the hand-over
    # and before the final "." left the process. Anything else missing is a bug.
    assert missing <= handed_over, f"mails missing outside the hand-over window: {sorted(missing - handed_over)[:5]}"
    assert len(missing) <= max(1, len(handed_over) // 4), f"too many mails lost in the window: {len(missing)}"
    assert all(r.rcpt == (email_of[r.credential_id],) for r in mail.records), "a mail went to the wrong learner"

    assert {cid: n for cid, n in moodle.stored.items() if n != 1} == {}
    assert set(moodle.stored) == ids, "files missing in Moodle or for unknown credentials"
    stored_digest = {cid: hashlib.sha256(data).hexdigest() for (cid, _), data in moodle.files.items()}
    assert all(r.attachment_sha256 == stored_digest[r.credential_id] for r in mail.records), \
        "the mailed file and the file in Moodle differ"

    deliveries = registry_rows(db, "SELECT credential_id, channel, state FROM deliveries WHERE kind = 'issued'")
    per_channel = collections.Counter((cid, channel) for cid, channel, _ in deliveries)
    assert {k: n for k, n in per_channel.items() if n != 1} == {}, "a credential has two delivery rows on a channel"
    assert collections.Counter(state for *_, state in deliveries) == {"sent": 2 * len(ids)}
    return {"credentials": len(ids), "mails": sum(mail.by_credential.values()),
            "moodle store calls": sum(moodle.store_calls.values()),
            "mails counted sent after a crash": len(handed_over), "of which lost in the window": len(missing)}


def all_sent(sidecar: Sidecar, count: int) -> bool:
    rows = registry_rows(sidecar.workdir / "registry.sqlite3",
                         "SELECT count(*) FROM deliveries WHERE kind = 'issued' AND state = 'sent'")
    return rows[0][0] >= 2 * count


@pytest.mark.slow
def test_sigkill_during_a_burst_loses_nothing_and_duplicates_nothing(sidecar, sinks):
    mail, moodle = sinks
    intake = Intake(sidecar)
    events = [make_event(n, COURSE_ID) for n in range(BURST)]
    done = threading.Event()
    kills: list[tuple[int, int]] = []  # (events acknowledged, mails accepted) at each kill

    # Kills spread over the whole run: two while events pour in, then at fixed shares of the mails sent,
    # so crashes land in intake, in sealing and in delivery alike (and a kill needs no lucky timing).
    started_at = time.monotonic()
    triggers = [lambda: time.monotonic() - started_at > 3, lambda: time.monotonic() - started_at > 8]
    triggers += [lambda share=share: len(mail.records) >= share * BURST for share in (0.3, 0.5, 0.7, 0.9)]

    def killer() -> None:
        for trigger in triggers[:KILLS]:
            while not trigger():
                if done.wait(0.05):
                    return
            kills.append((len(intake.acked), len(mail.records)))
            sidecar.kill()
            sidecar.start()

    chaos = threading.Thread(target=killer, name="killer")
    chaos.start()
    try:
        started = time.monotonic()
        deadline = started + 240
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda e: intake.send_until_acked(e, deadline), events))
        # Moodle's retries after a lost answer: the same events again, the same issuances back.
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda e: intake.send_until_acked(e, deadline), random.Random(7).sample(events, 100)))
        assert intake.conflicts == []
        assert len(intake.acked) == BURST
        sent = time.monotonic()
        all_delivered = wait_until(lambda: len(moodle.stored) >= BURST and all_sent(sidecar, BURST), timeout=240)
        finished = time.monotonic()
    finally:
        done.set()
        chaos.join()
    assert all_delivered, (f"after recovery: {len(mail.by_credential)} mails, {len(moodle.stored)} Moodle files "
                           f"of {BURST}; unfinished work: {unfinished(sidecar)}\n{sidecar.log_tail()}")
    time.sleep(4)  # longer than a lease: a duplicate resend would show up now
    sidecar.stop()

    # The kills have to have hit work in flight, or this test proves nothing.
    assert len(kills) >= 3, kills
    assert any(acked < BURST for acked, _ in kills), f"no kill during intake: {kills}"
    assert any(sent < BURST for _, sent in kills), f"no kill during delivery: {kills}"
    summary = check_exactly_once(sidecar, mail, moodle, intake.acked)
    print(f"\n{BURST} events acknowledged in {sent - started:.0f} s, all delivered after {finished - started:.0f} s; "
          f"kills at (acked, mailed): {kills}; refusals: {dict(intake.refusals)}; {summary}")


@pytest.mark.slow
def test_smtp_down_and_moodle_failing_then_everything_arrives(sidecar, sinks):
    mail, moodle = sinks
    mail.stop()
    moodle.fail_next(10_000, 500)
    intake = Intake(sidecar)
    events = [make_event(5000 + n, COURSE_ID) for n in range(20)]
    deadline = time.monotonic() + 30
    for event in events:
        intake.send_until_acked(event, deadline)

    # Issued, but nothing can be delivered: each channel is tried (and fails) more than once.
    assert wait_until(lambda: len(registry_rows(sidecar.workdir / "registry.sqlite3",
                                                "SELECT id FROM credentials")) == len(events), timeout=20)
    tried = len(moodle.requests)
    assert wait_until(lambda: len(moodle.requests) >= tried + 2 * len(events), timeout=20), "Moodle was not retried"
    assert len(mail.records) == 0 and len(moodle.files) == 0
    states = registry_rows(sidecar.workdir / "registry.sqlite3", "SELECT channel, state, last_error FROM deliveries")
    assert {state for _, state, _ in states} == {"pending"}
    errors = {channel: error for channel, _, error in states}
    assert "refused" in errors["email"] and "HTTP 500" in errors["moodle"]

    mail.start()
    moodle.heal()
    assert wait_until(lambda: len(mail.by_credential) == len(events) and len(moodle.stored) == len(events),
                      timeout=30), f"{len(mail.records)} mails, {len(moodle.stored)} files\n{sidecar.log_tail()}"
    time.sleep(1)
    sidecar.stop()
    check_exactly_once(sidecar, mail, moodle, intake.acked)


def _deliveries(sidecar: Sidecar) -> list[tuple]:
    return registry_rows(sidecar.workdir / "registry.sqlite3",
                         "SELECT credential_id, channel, state, attempts, last_error FROM deliveries")


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["DATA", "RCPT"])
def test_sigkill_inside_the_smtp_conversation_gives_exactly_one_mail(sidecar, sinks, stage):
    """Kill the sidecar while the mail server holds its conversation, at a chosen point.

    DATA: the server has read the final "." (so it has the message) and has not answered yet. The
    sidecar dies without hearing 250. A sender that resends after a crash makes a second mail here;
    ours recorded the hand-over just before the "." and counts it as sent.
    RCPT: the sidecar dies before sending any data; the server drops the conversation; after the
    restart the mail must be sent again, once.
    """
    mail, moodle = sinks
    mail.hold(stage)
    intake = Intake(sidecar)
    intake.send_until_acked(make_event(7000, COURSE_ID), time.monotonic() + 20)
    assert mail.held.wait(20), "the sidecar never reached the mail server"
    sidecar.kill()
    mail.release()
    mail.wait_for(1, timeout=2)  # the server finishes its side of the conversation
    assert len(mail.records) == (1 if stage == "DATA" else 0)

    sidecar.start()
    assert wait_until(lambda: {state for _, _, state, _, _ in _deliveries(sidecar)} == {"sent"}, timeout=30), \
        _deliveries(sidecar)
    time.sleep(1.5)  # a resend, if any, would arrive now
    sidecar.stop()
    (email_row,) = [row for row in _deliveries(sidecar) if row[1] == "email"]
    assert list(mail.by_credential.values()) == [1], dict(mail.by_credential)
    if stage == "DATA":
        assert "handed over before a crash" in (email_row[4] or "")
    check_exactly_once(sidecar, mail, moodle, intake.acked)
