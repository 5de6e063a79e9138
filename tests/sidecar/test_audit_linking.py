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
