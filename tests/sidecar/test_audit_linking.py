"""Issue 18: audit entries are linked into the chain after their transaction, not under the chain's lock
during it (bridge/registry/audit.py). Many writers in two registries (two replicas' pools) at once still
build one intact chain with every committed entry once and no rolled-back one; on PostgreSQL an entry
left waiting (its linking cut short by a crash) is linked by the next linker.
"""
from __future__ import annotations

import threading

from sqlalchemy import select

from bridge.registry import Registry, audit
from bridge.registry.models import AuditEntry, AuditPending


def _entries(registry: Registry) -> list[AuditEntry]:
    with registry.reading() as session:
        return session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()


def test_writers_in_two_registries_build_one_chain(database_url):
    first, second = Registry(database_url), Registry(database_url, migrate=False)
    try:
        def writer(registry: Registry, name: str) -> None:
            for i in range(15):
                try:
                    with registry.transaction() as session:
                        audit.append(session, name, "kept", f"{name}-{i}")
                        audit.append(session, name, "kept", f"{name}-{i}-b")
                        if i % 5 == 4:
                            raise RuntimeError("rolled back")
                except RuntimeError:
                    pass

        threads = [threading.Thread(target=writer, args=(registry, f"{tag}{n}"))
                   for n in range(3) for tag, registry in (("a", first), ("b", second))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if first.dialect == "postgresql":  # what the scheduler's audit-link job does every second
            assert audit.link_all(first.engine)
        entries = _entries(first)
        assert audit.verify_chain(entries).ok
        subjects = [e.subject for e in entries]
        assert len(subjects) == len(set(subjects)) == 6 * 12 * 2  # 12 committed transactions of 2 per writer
        assert not any(s.endswith(("-4", "-9", "-14")) for s in subjects)  # the rolled-back ones
        with first.reading() as session:
            assert session.execute(select(AuditPending)).scalars().all() == []  # nothing left waiting
    finally:
        first.dispose()
        second.dispose()


def test_an_entry_left_waiting_is_linked_by_the_next_linker(database_url):
    registry = Registry(database_url)
    try:
        if registry.dialect != "postgresql":
            return  # SQLite links inside the transaction: nothing can be left waiting
        with registry.transaction() as session:
            audit.append(session, "test", "before", "s0")
        with registry.transaction() as session:  # as if the process died between commit and linking
            session.add(AuditPending(actor="test", action="left", subject="s1", details="{}"))
        assert [e.action for e in _entries(registry)] == ["before"]
        assert audit.link_all(registry.engine)
        entries = _entries(registry)
        assert [e.action for e in entries] == ["before", "left"] and audit.verify_chain(entries).ok
    finally:
        registry.dispose()


def test_threads_committing_at_once_take_turns_and_every_entry_is_linked(database_url, monkeypatch):
    """PostgreSQL: one thread of the process links at a time; a thread that finds the turn taken returns at
    once and the one linking goes round again for it. Without link_all, nothing may be left waiting."""
    registry = Registry(database_url)
    try:
        if registry.dialect != "postgresql":
            return  # SQLite links inside the transaction
        rounds = []
        real = audit.link_pending
        monkeypatch.setattr(audit, "link_pending", lambda engine, limit=audit.LINK_BATCH: rounds.append(1) or
                            real(engine, limit))

        def writer(n: int) -> None:
            for i in range(10):
                with registry.transaction() as session:
                    audit.append(session, f"w{n}", "kept", f"w{n}-{i}")

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with registry.reading() as session:
            assert session.execute(select(AuditPending)).scalars().all() == []  # every entry linked already
        entries = _entries(registry)
        assert len(entries) == 80 and audit.verify_chain(entries).ok
        assert 0 < len(rounds) <= 80
        print(f"\n80 commits from 8 threads: {len(rounds)} linking rounds")
    finally:
        registry.dispose()


def test_a_commit_during_another_threads_round_is_linked_by_that_thread(database_url, monkeypatch):
    """The committing thread does not wait for the turn: the thread holding it goes round once more."""
    registry = Registry(database_url)
    try:
        if registry.dialect != "postgresql":
            return
        real, after_first_round, proceed = audit.link_pending, threading.Event(), threading.Event()
        calls = []

        def linking(engine, limit=audit.LINK_BATCH):
            linked = real(engine, limit)
            calls.append(linked)
            if len(calls) == 1:  # the holder's first round is done; it holds the turn until told
                after_first_round.set()
                assert proceed.wait(10)
            return linked

        monkeypatch.setattr(audit, "link_pending", linking)

        def commit(subject: str) -> None:
            with registry.transaction() as session:
                audit.append(session, "test", "kept", subject)

        holder = threading.Thread(target=commit, args=("first",))
        holder.start()
        assert after_first_round.wait(10)
        commit("second")  # the turn is taken: returns at once, its entry still waiting
        with registry.reading() as session:
            assert [p.subject for p in session.execute(select(AuditPending)).scalars()] == ["second"]
        proceed.set()
        holder.join(10)
        assert calls == [1, 1]  # the holder went round again and linked it
        with registry.reading() as session:
            assert session.execute(select(AuditPending)).scalars().all() == []
        assert [e.subject for e in _entries(registry)] == ["first", "second"]
    finally:
        registry.dispose()
