"""Which sidecar processes are alive, known at once: work a dead process held is taken back in seconds.

A lease (EDC_LEASE_SECONDS) tells when a claimed row may be taken from a process that is stuck; it
cannot tell a dead process from a slow one, so after a crash the work waited out the whole lease. Here
every working process holds a lock that the operating system or the database drops the moment the
process dies, and anyone can test it without waiting:

- PostgreSQL: a session advisory lock held on a connection of its own. A SIGKILLed process's connection
  closes, the server ends its session and releases the lock; `pg_try_advisory_xact_lock` in another
  session then succeeds (and lets go at once, at the end of that transaction).
- SQLite: an exclusive `flock` on a file beside the database, held by the living process; the kernel
  releases it when the process exits, however it exits. Every process of a SQLite registry is on the
  same machine, so the file lock sees them all.

A process is registered in `sidecar_processes` when it starts holding its lock. An owner is declared
dead only when it is registered *and* its lock can be taken: a worker id from before this mechanism,
or one of a test's hand-made ids, is never taken for dead here (its lease still applies).
"""
from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import socket
from pathlib import Path

from sqlalchemy import delete, select, text

from bridge.registry.db import Registry
from bridge.registry.models import SidecarProcess, utcnow

log = logging.getLogger("edc.liveness")
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def process_of(owner: str | None) -> str | None:
    """The process part of a worker id (`host:pid:nonce/thread` -> `host:pid:nonce`)."""
    return owner.split("/", 1)[0] if owner else None


def _advisory_key(process_id: str) -> int:
    """A signed 64-bit key for PostgreSQL's advisory locks, fixed by the process id."""
    return int.from_bytes(hashlib.sha256(b"edc-sidecar-process\n" + process_id.encode()).digest()[:8], "big",
                          signed=True)


class Liveness:
    """This process's proof of life in `registry`, and the test of another process's."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._held: dict[str, object] = {}  # process id -> open file (SQLite) or connection (PostgreSQL)

    # --- this process ----------------------------------------------------------------------------------

    def hold(self, process_id: str) -> bool:
        """Start proving `process_id` alive (until `release` or death); False where this registry cannot."""
        if process_id in self._held:
            return True
        keeper = self._acquire(process_id)
        if keeper is None:
            return False
        self._held[process_id] = keeper
        with self.registry.transaction() as session:
            if session.get(SidecarProcess, process_id) is None:
                session.add(SidecarProcess(id=process_id, host=socket.gethostname()[:255], pid=os.getpid(),
                                           started_at=utcnow()))
        return True

    def release(self, process_id: str) -> None:
        """A clean stop: unregister, then let the lock go."""
        keeper = self._held.pop(process_id, None)
        if keeper is None:
            return
        try:
            with self.registry.transaction() as session:
                session.execute(delete(SidecarProcess).where(SidecarProcess.id == process_id))
        finally:
            keeper.close()  # the connection ends the advisory lock's session; the file, its flock

    def _acquire(self, process_id: str) -> object | None:
        if self.registry.dialect == "postgresql":
            connection = self.registry.engine.connect()  # kept checked out: the session is the proof
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _advisory_key(process_id)})
            connection.commit()
            return connection
        path = self._lock_path(process_id)
        if path is None:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+")  # noqa: SIM115 - held for the life of the process
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return handle

    def _lock_path(self, process_id: str) -> Path | None:
        database = self.registry.engine.url.database
        if self.registry.dialect != "sqlite" or not database or database == ":memory:":
            return None
        return Path(f"{database}.live") / f"{_SAFE.sub('_', process_id)}.lock"

    # --- others ----------------------------------------------------------------------------------------

    def dead(self, owners: set[str]) -> set[str]:
        """Those of the registered processes among `owners` (process ids) whose lock is free: gone. Each
        is unregistered as it is found, so it is reported once."""
        if not owners:
            return set()
        with self.registry.reading() as session:
            registered = set(session.execute(select(SidecarProcess.id).where(SidecarProcess.id.in_(owners))).scalars())
        gone = {owner for owner in registered - set(self._held) if self._is_free(owner)}
        if gone:
            with self.registry.transaction() as session:
                session.execute(delete(SidecarProcess).where(SidecarProcess.id.in_(gone)))
            log.warning("sidecar process(es) gone, their work is taken back: %s", ", ".join(sorted(gone)))
        return gone

    def _is_free(self, process_id: str) -> bool:
        if self.registry.dialect == "postgresql":
            with self.registry.engine.connect() as connection:
                free = connection.execute(text("SELECT pg_try_advisory_xact_lock(:k)"),
                                          {"k": _advisory_key(process_id)}).scalar_one()
                connection.rollback()  # ends the transaction, and with it the lock just taken
            return bool(free)
        path = self._lock_path(process_id)
        if path is None or not path.exists():
            return path is not None  # registered but its file is gone: nobody can be holding it
        with open(path, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
        path.unlink(missing_ok=True)
        return True
