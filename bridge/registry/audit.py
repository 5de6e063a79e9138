"""The append-only audit trail, hash-chained so a changed, removed or inserted entry is detectable.

Each entry's hash is SHA-256 over a canonical JSON of the entry including the previous entry's hash;
the first entry's previous hash is 64 zeros. Entries are linked in order by one linker at a time (an
advisory lock on PostgreSQL, the write lock on SQLite), so concurrent workers in several processes still
build one chain; `append` says when.
"""
from __future__ import annotations

import datetime as dt
from contextvars import ContextVar
import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import delete, event, insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bridge.registry.db import OnePer
from bridge.registry.models import AuditEntry, AuditPending

log = logging.getLogger("edc.audit")

GENESIS = "0" * 64
# (actor, roles) of the staff member or API token this request is served for, set by the staff guards: every
# entry that actor appends while it is set (worker.revoke, reissue, ... included) records the role it acted in,
# without carrying the role through every signature. A context variable: one request's never leaks to another.
ACTING_ROLE: ContextVar[tuple[str, str] | None] = ContextVar("edc_acting_role", default=None)
ADVISORY_LOCK_KEY = 0x45444341  # "EDCA"


def canonical(seq: int, at: str, actor: str, action: str, subject: str, details: str, prev_hash: str) -> bytes:
    entry = {"seq": seq, "at": at, "actor": actor, "action": action, "subject": subject,
             "details": json.loads(details), "prev_hash": prev_hash}
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(row: AuditEntry) -> str:
    return hashlib.sha256(canonical(row.seq, row.at, row.actor, row.action, row.subject, row.details,
                                    row.prev_hash)).hexdigest()


def append(session: Session, actor: str, action: str, subject: str, details: dict[str, Any] | None = None) -> AuditEntry:
    """Add one entry inside the caller's transaction (so it commits or vanishes with the change it records).

    The entry is linked into the chain as late as possible, so that no transaction holds the chain's
    lock while it does its own work: every writer of every replica of a shared registry queues on that
    lock (issue 18; taken at the first append, it covered a worker's whole batch of credentials).

    - PostgreSQL: the entry is written to `audit_pending` with the change; right after the commit it is
      linked, in a short transaction of its own under the chain's advisory lock (tried, never waited
      for), together with every other entry waiting: one linker at a time links them all (one thread
      per process takes the turn, `_link_after_commit`), and nobody queues or polls for the lock. The
      lock is the registry's schema's, so registries in other schemas of one database do not share it.
      An entry is never lost: one whose linking is cut short (a crash), or committed while another
      process was linking, waits in `audit_pending` for the next round or the scheduler's `audit-link`
      job, within a second.
    - SQLite (one writer at a time anyway): the entry is linked just before the commit, after everything
      else the transaction writes has been flushed.

    An entry appended inside a savepoint that is rolled back goes with the savepoint. Its `seq`, `at` and
    hashes are set when it is linked.
    """
    role = ACTING_ROLE.get()
    if role is not None and actor == role[0]:  # named staff (issue 15): the entry names the role acted in
        details = {**(details or {}), "role": role[1]}
    body = json.dumps(details or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    row = AuditEntry(actor=actor, action=action, subject=subject, details=body)
    if session.get_bind().dialect.name == "postgresql":
        waiting = AuditPending(actor=actor, action=action, subject=subject, details=body)
        session.add(waiting)
        session.info.setdefault(_WAITING, []).append(waiting)
        return row
    session.info.setdefault(_PENDING, []).append((_innermost(session), row))
    return row


_PENDING = "edc.audit_pending"  # SQLite: [(transaction or savepoint appended in, entry)], linked at commit
_WAITING = "edc.audit_waiting"  # PostgreSQL: the audit_pending rows this transaction added
LINK_BATCH = 500
_LINK_LOCK_CLASS = 0x45444341  # "EDCA", with the schema's hash as the second key
_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(:k, hashtext(current_schema()))")


# On the table, built once: the same SQL as the ORM select, without the ORM's compile and row steps, and
# it runs at every commit that appends (every accepted event, on SQLite),
# and at every linking of waiting entries (PostgreSQL).
_LAST_ENTRY = select(AuditEntry.__table__.c.seq, AuditEntry.__table__.c.hash).order_by(
    AuditEntry.__table__.c.seq.desc()).limit(1)


def link_pending(engine: Engine, limit: int = LINK_BATCH) -> int:
    """PostgreSQL: link up to `limit` waiting entries, oldest first; how many, or -1 when another process
    is linking right now (its lock is tried, never waited for)."""
    pending, trail = AuditPending.__table__, AuditEntry.__table__
    with engine.begin() as conn:
        if not conn.execute(_TRY_LOCK, {"k": _LINK_LOCK_CLASS}).scalar_one():
            return -1
        rows = conn.execute(select(pending).order_by(pending.c.id).limit(limit)).all()
        if not rows:
            return 0
        last = conn.execute(_LAST_ENTRY).first()
        seq, prev = (last.seq, last.hash) if last else (0, GENESIS)
        at = _now()
        values = []
        for row in rows:
            seq += 1
            digest = hashlib.sha256(canonical(seq, at, row.actor, row.action, row.subject, row.details,
                                              prev)).hexdigest()
            values.append({"seq": seq, "at": at, "actor": row.actor, "action": row.action, "subject": row.subject,
                           "details": row.details, "prev_hash": prev, "hash": digest})
            prev = digest
        conn.execute(insert(trail), values)
        conn.execute(delete(pending).where(pending.c.id.in_([row.id for row in rows])))
    return len(rows)


def link_all(engine: Engine, timeout: float = 10.0) -> bool:
    """Link every entry waiting now (the scheduler's job, `audit verify`); False if some are still waiting."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        linked = link_pending(engine)
        if linked == 0:
            return True
        if linked < 0:
            time.sleep(0.005)
    return False


class _Turn:
    """Which thread of this process links right now, and whether a commit came after its read."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.again = False


_turn_of: OnePer[_Turn] = OnePer(_Turn)  # one per engine


def _link_after_commit(engine: Engine) -> None:
    """Right after a commit: link what is waiting, one thread of the process at a time.

    The committing thread raises `again` and tries the process's turn without waiting for it. If another
    thread holds the turn, that thread looks at `again` when its round ends and goes round once more, so
    the entry just committed is linked by it; this thread returns at once. Before, every committing thread
    ran its own linking transaction and, while another linker held the chain's lock, polled every 2 ms
    until its entries were taken: on PostgreSQL that was 7.4 ms of CPU per accepted event in a burst, more
    than the mail and Moodle together (bench/issuance.py --database-url, thread CPU). When another
    *process* holds the chain's lock (link_pending answers -1), what it did not read yet is linked by the
    next commit's round or the scheduler's `audit-link` job within a second; readers that need every entry
    (`audit verify`, the staff's audit page) call link_all first.
    """
    turn = _turn_of(engine)
    turn.again = True
    while turn.again:
        if not turn.lock.acquire(blocking=False):
            return  # the thread linking now goes round again for us
        try:
            turn.again = False
            while link_pending(engine) == LINK_BATCH:  # a full batch: more may be waiting
                pass
        finally:
            turn.lock.release()


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(_PENDING, None)
    if not session.info.pop(_WAITING, None):
        return
    try:
        _link_after_commit(session.get_bind())
    except Exception:  # noqa: BLE001 - the change is committed; its entries wait for the scheduler's job
        log.exception("audit entries committed but not linked yet; the audit-link job links them")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _innermost(session: Session):
    """The transaction (or savepoint) an append belongs to: a savepoint rolled back takes its entries
    with it."""
    return session.get_nested_transaction() or session.get_transaction()


@event.listens_for(Session, "before_commit")
def _chain_pending(session: Session) -> None:
    """Link the transaction's entries into the chain, last thing before the commit (not at a savepoint's)."""
    pending = session.info.get(_PENDING)
    if not pending or session.in_nested_transaction():
        return
    session.flush()  # the caller's own writes first, outside the chain's lock
    seq, prev = _head(session)
    at = _now()
    values = []
    for _transaction, row in pending:
        seq += 1
        row.seq, row.prev_hash, row.at = seq, prev, at
        row.hash = prev = entry_hash(row)
        values.append({column: getattr(row, column) for column in _COLUMNS})
    # One plain INSERT (not the ORM's unit of work): under the lock, every millisecond is every replica's.
    session.execute(insert(AuditEntry.__table__), values)
    session.info.pop(_PENDING, None)  # a failing commit rolls back, and the rollback forgets them anyway


_COLUMNS = ("seq", "at", "actor", "action", "subject", "details", "prev_hash", "hash")


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction) -> None:  # noqa: ANN001
    """Entries appended in the transaction (or savepoint) just rolled back, or in one inside it, go."""
    if previous_transaction.parent is None:  # the whole transaction: nothing of it is waiting to be linked
        session.info.pop(_WAITING, None)
    pending = session.info.get(_PENDING)
    if not pending:
        return
    kept = [(t, row) for t, row in pending if not _within(t, previous_transaction)]
    session.info[_PENDING] = kept


def _within(transaction, ancestor) -> bool:  # noqa: ANN001
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def _head(session: Session) -> tuple[int, str]:
    """(seq, hash) of the chain's last entry, under the chain's lock (0 and GENESIS when empty). SQLite:
    the transaction's write lock (BEGIN IMMEDIATE) is that lock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
    last = session.execute(_LAST_ENTRY).first()
    return (last.seq, last.hash) if last else (0, GENESIS)


@dataclass(frozen=True)
class ChainVerdict:
    entries: int
    first_broken: int | None  # seq of the first entry that does not fit the chain
    problem: str | None
    head: str = GENESIS  # hash of the last entry checked: write it down to detect a cut-off tail later

    @property
    def ok(self) -> bool:
        return self.first_broken is None


def verify_chain(rows: Iterable[AuditEntry], expect: tuple[int, str] | None = None) -> ChainVerdict:
    """Walk the entries in seq order; name the first one whose position, link or hash is wrong.

    `expect` = (seq, hash) noted earlier (e.g. with a backup): that entry must still be there, unchanged,
    which is what detects entries cut off the end of the trail.
    """
    verdict = _walk(rows, expect)
    if verdict.ok and expect is not None and verdict.entries < expect[0]:
        return ChainVerdict(verdict.entries, expect[0], f"entry {expect[0]} noted earlier is missing: the trail "
                                                        f"ends at entry {verdict.entries} (entries were cut off)",
                            verdict.head)
    return verdict


def _walk(rows: Iterable[AuditEntry], expect: tuple[int, str] | None) -> ChainVerdict:
    expected_seq, prev, count = 1, GENESIS, 0
    for row in rows:
        count += 1
        if row.seq != expected_seq:
            return ChainVerdict(count, row.seq, f"entry {row.seq}: expected entry {expected_seq} here "
                                                f"(an entry was removed or inserted)")
        if row.prev_hash != prev:
            return ChainVerdict(count, row.seq, f"entry {row.seq}: its previous-hash does not match entry "
                                                f"{row.seq - 1} (an entry before it was changed or replaced)")
        try:
            recomputed = entry_hash(row)
        except ValueError:
            return ChainVerdict(count, row.seq, f"entry {row.seq}: its details are not valid JSON")
        if recomputed != row.hash:
            return ChainVerdict(count, row.seq, f"entry {row.seq}: its content does not match its hash "
                                                f"(the entry was changed)")
        if expect is not None and row.seq == expect[0] and row.hash != expect[1]:
            return ChainVerdict(count, row.seq, f"entry {row.seq}: its hash differs from the one noted earlier "
                                                f"(the trail was rewritten from here or before)", prev)
        prev, expected_seq = row.hash, expected_seq + 1
    return ChainVerdict(count, None, None, prev)
