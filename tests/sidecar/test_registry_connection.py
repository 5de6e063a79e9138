"""Registry.connection: a Core write transaction for the hot paths, locked and ended as `transaction` is.

The email hand-over runs on it once per mail (bridge/worker/delivering.py). It must queue behind a
writer that holds the registry (SQLite's process write lock and file lock, PostgreSQL's row lock), commit
on success and roll back on an exception, or the hand-over's "at most once" would not hold.
"""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, update

from bridge.intake.events import store_event
from bridge.registry import Registry
from bridge.registry.models import Issuance
from tests.sidecar.conftest import make_event, pilot_learner

INBOX = Issuance.__table__


def _one_issuance(registry: Registry) -> str:
    return store_event(registry, make_event(1, pilot_learner()), None).issuance_id


def _status(registry: Registry, issuance_id: str) -> str:
    with registry.reading() as session:
        return session.execute(select(INBOX.c.status).where(INBOX.c.id == issuance_id)).scalar_one()


def test_connection_waits_for_a_writer_then_commits(database_url):
    registry = Registry(database_url)
    issuance_id = _one_issuance(registry)
    holding, order = threading.Event(), []

    def writer() -> None:
        with registry.transaction() as session:
            session.execute(update(INBOX).where(INBOX.c.id == issuance_id).values(status="sealing"))
            holding.set()
            time.sleep(0.3)
            order.append("writer commits")

    thread = threading.Thread(target=writer)
    thread.start()
    assert holding.wait(10)
    with registry.connection() as connection:
        connection.execute(update(INBOX).where(INBOX.c.id == issuance_id).values(status="issued"))
        order.append("connection wrote")
    thread.join()
    assert order == ["writer commits", "connection wrote"]
    assert _status(registry, issuance_id) == "issued"


def test_connection_rolls_back_on_an_exception(database_url):
    registry = Registry(database_url)
    issuance_id = _one_issuance(registry)
    with pytest.raises(RuntimeError):
        with registry.connection() as connection:
            connection.execute(update(INBOX).where(INBOX.c.id == issuance_id).values(status="issued"))
            raise RuntimeError("the mail server hung up")
    assert _status(registry, issuance_id) == "queued"
    with registry.transaction() as session:  # and the registry is free again for the next writer
        session.execute(update(INBOX).where(INBOX.c.id == issuance_id).values(status="sealing"))
    assert _status(registry, issuance_id) == "sealing"
