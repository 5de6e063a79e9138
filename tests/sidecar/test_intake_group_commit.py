"""Group commit of events on SQLite (bridge/intake/events.py, `_Group`).

Events that arrive while another is being committed share the next commit; each is still committed
before store_event returns, and one event's fault (a replayed nonce) reaches only its own caller. The
tests hold the group's commit lock, so that every event queues first and one thread then takes them
all: that makes the group, which a burst makes by chance, certain.
"""
from __future__ import annotations

import json
import os
import threading
import time

import pytest
from sqlalchemy import event as sa_event, func, select

from bridge.intake import events
from bridge.intake.auth import AuthError, Authenticated
from bridge.registry import Registry
from bridge.registry.audit import verify_chain
from bridge.registry.models import AuditEntry, Issuance, Nonce
from tests.sidecar.conftest import make_event, pilot_learner


@pytest.fixture
def registry(tmp_path) -> Registry:
    return Registry(f"sqlite:///{tmp_path}/registry.sqlite3")


def _auth(nonce: str | None = None) -> Authenticated:
    return Authenticated("moodle-key", nonce or os.urandom(16).hex(), int(time.time()), "v2")


def _event(n: int) -> dict:
    return events.validate_event(json.dumps(make_event(1, dict(pilot_learner(), id=5000 + n))).encode())


def _commits(registry: Registry) -> list[int]:
    counted = [0]

    @sa_event.listens_for(registry.engine, "commit")
    def _count(_connection) -> None:  # noqa: ANN001
        counted[0] += 1

    return counted


def _in_one_group(registry: Registry, calls: list[tuple[dict, Authenticated]]) -> list[object]:
    """Run store_event for each call on its own thread, all queued behind the held commit lock first."""
    group = events._group_of(registry)
    outcomes: list[object] = [None] * len(calls)

    def call(i: int) -> None:
        try:
            outcomes[i] = events.store_event(registry, calls[i][0], calls[i][1])
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            outcomes[i] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(calls))]
    with group.commit_lock:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while len(group.queue) < len(calls) and time.monotonic() < deadline:
            time.sleep(0.005)
        assert len(group.queue) == len(calls)
    for thread in threads:
        thread.join(10)
    return outcomes


def _count(registry: Registry, model) -> int:  # noqa: ANN001
    with registry.reading() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_events_queued_together_share_one_commit_and_each_is_stored(registry):
    events.store_event(registry, _event(100), _auth())  # the audit chain and the registry exist
    commits = _commits(registry)
    outcomes = _in_one_group(registry, [(_event(n), _auth()) for n in range(6)])
    assert all(isinstance(o, events.Stored) and o.created for o in outcomes), outcomes
    assert len({o.issuance_id for o in outcomes}) == 6
    assert commits[0] == 1
    assert _count(registry, Issuance) == 7 and _count(registry, Nonce) == 7
    with registry.reading() as session:
        trail = session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()
    assert [e.action for e in trail].count("event.accepted") == 7
    assert verify_chain(trail).ok


def test_a_replayed_nonce_in_a_group_fails_alone(registry):
    events.store_event(registry, _event(100), _auth())
    commits = _commits(registry)
    replayed = os.urandom(16).hex()
    calls = [(_event(0), _auth()), (_event(1), _auth(replayed)), (_event(2), _auth()), (_event(3), _auth(replayed)),
             (_event(4), _auth())]
    outcomes = _in_one_group(registry, calls)
    refused = [o for o in outcomes if isinstance(o, AuthError)]
    stored = [o for o in outcomes if isinstance(o, events.Stored)]
    assert len(refused) == 1 and "replayed" in str(refused[0])
    assert len(stored) == 4 and all(o.created for o in stored)
    assert commits[0] == 4  # the shared attempt rolled back; the four good ones committed on their own
    assert _count(registry, Issuance) == 5 and _count(registry, Nonce) == 5
    with registry.reading() as session:
        assert verify_chain(session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()).ok


def test_the_same_event_twice_in_a_group_makes_one_row(registry):
    events.store_event(registry, _event(100), _auth())
    commits = _commits(registry)
    twin = _event(7)
    outcomes = _in_one_group(registry, [(twin, _auth()), (dict(twin), _auth())])
    assert sorted(o.created for o in outcomes) == [False, True]
    assert outcomes[0].issuance_id == outcomes[1].issuance_id
    assert commits[0] == 1
    assert _count(registry, Issuance) == 2
