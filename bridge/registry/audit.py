"""The append-only audit trail, hash-chained so a changed, removed or inserted entry is detectable.

Each entry's hash is SHA-256 over a canonical JSON of the entry including the previous entry's hash;
the first entry's previous hash is 64 zeros. Appends are serialised (an advisory lock on PostgreSQL,
the write lock on SQLite), so concurrent workers in several processes still build one chain.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bridge.registry.models import AuditEntry

GENESIS = "0" * 64
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

    The chain's head is looked up once per transaction and then carried along: the lock taken by the
    first append (or SQLite's write lock) is held until the end of the transaction, so nobody else can
    append in between, and a worker storing a batch of credentials pays for one lookup, not one each.
    """
    seq, prev = _head(session)
    at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
    body = json.dumps(details or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    row = AuditEntry(seq=seq + 1, at=at, actor=actor, action=action, subject=subject, details=body, prev_hash=prev)
    row.hash = entry_hash(row)
    session.add(row)  # written at the next flush or at commit, like the change it records
    session.info[_HEAD] = (_innermost(session), row.seq, row.hash)
    return row


_HEAD = "edc.audit_head"


def _innermost(session: Session):
    """The transaction (or savepoint) an append belongs to: a savepoint rolled back takes its entries
    with it, so a head noted inside one is never trusted outside it, and the other way round."""
    return session.get_nested_transaction() or session.get_transaction()


def _head(session: Session) -> tuple[int, str]:
    """(seq, hash) of the chain's last entry, as seen by this transaction (0 and GENESIS when empty)."""
    known = session.info.get(_HEAD)
    transaction = _innermost(session)
    if known is not None and transaction is not None and known[0] is transaction:
        return known[1], known[2]
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
    last = session.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
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
