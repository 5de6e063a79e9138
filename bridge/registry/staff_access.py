"""Staff access kept in the registry: server-side sessions and the throttle on failed staff credentials.

Both live in the registry (not in a cookie, not in a process's memory) for the same reason: every
process and replica serving the staff pages and the API sees the same truth. A session ends for every
copy of its cookie the moment its row is revoked (logout, role change) or expires; a client address
that keeps guessing the staff token is refused by every replica once it has used its budget.

The browser's cookie holds only a random session id; the registry keeps its SHA-256, so a copy of the
table opens nothing. The CSRF token of a session is derived from its id, so it is bound to the
server-side session and dies with it. No secret is ever stored or audited in clear.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, TypeVar

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bridge.registry import audit
from bridge.registry.models import AuthFailure, StaffSession, utcnow

if TYPE_CHECKING:
    from bridge.registry.db import Registry

SESSION_ID_BYTES = 32
STAFF_SCOPE = "staff"  # the login page and the Bearer API guard the same token, so they share one budget
ANONYMOUS = "anonymous"  # the audit actor of a failed attempt: nobody authenticated
SHARED_TOKEN_ACTOR = "staff"  # who the shared staff token proves: a role, not a person (issue 15: named staff)
SHARED_TOKEN_ROLE = "admin"  # EDC_STAFF_TOKEN: one admin token (bridge/staff/roles.py)


# --- sessions ------------------------------------------------------------------------------------


def session_hash(session_id: str) -> str:
    """What the registry stores of a session id (the id itself stays in the browser)."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def credential_proof(secret: str, purpose: bytes = b"edc-staff-session-proof-v1") -> str:
    """A fingerprint of the credential a login presented: a session is valid only while the credential
    still fingerprints the same, so rotating the staff token ends every session it opened."""
    return hmac.new(secret.encode(), purpose, hashlib.sha256).hexdigest()


def csrf_token(session_id: str) -> str:
    """The session's CSRF token, derived from its secret id: no copy of it outlives the session, and
    it reveals nothing of the id (a page shows it, the cookie is HttpOnly)."""
    digest = hmac.new(session_id.encode(), b"edc-staff-csrf-v1", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def open_session(db: Session, actor: str, role: str, proof: str, lifetime: dt.timedelta,
                 now: dt.datetime | None = None) -> str:
    """Store a new session and return its id, the only thing the browser's cookie will hold."""
    now = now or utcnow()
    session_id = secrets.token_urlsafe(SESSION_ID_BYTES)
    db.add(StaffSession(id_hash=session_hash(session_id), actor=actor, role=role, proof=proof, created_at=now,
                        expires_at=now + lifetime))
    return session_id


def active_session(db: Session, session_id: str, proof: str | Callable[[str], str],
                   now: dt.datetime | None = None) -> StaffSession | None:
    """The session this id opens, or None: unknown, revoked, expired, or opened by a credential that has
    since changed. `proof`: the expected fingerprint, or a function of the session's actor giving it."""
    if not session_id:
        return None
    row = db.get(StaffSession, session_hash(session_id))
    if row is None or row.revoked_at is not None or row.expires_at <= (now or utcnow()):
        return None
    expected = proof(row.actor) if callable(proof) else proof
    return row if hmac.compare_digest(row.proof, expected) else None


def end_session(db: Session, session_id: str, reason: str) -> bool:
    """Revoke one session (logout); True when it was still open."""
    done = db.execute(update(StaffSession)
                      .where(StaffSession.id_hash == session_hash(session_id), StaffSession.revoked_at.is_(None))
                      .values(revoked_at=utcnow(), revoked_reason=reason))
    return bool(done.rowcount)


def end_sessions_of(db: Session, actor: str, reason: str = "role_changed") -> int:
    """Revoke every open session of one actor: what a role change or a removed account must do."""
    done = db.execute(update(StaffSession)
                      .where(StaffSession.actor == actor, StaffSession.revoked_at.is_(None))
                      .values(revoked_at=utcnow(), revoked_reason=reason))
    return done.rowcount or 0


def purge_sessions(db: Session, now: dt.datetime | None = None) -> int:
    """Expired sessions open nothing any more; their rows can go."""
    return db.execute(delete(StaffSession).where(StaffSession.expires_at < (now or utcnow()))).rowcount or 0


# --- the throttle on failed attempts -------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    """At most `attempts` failures per client address within any `seconds` window."""

    attempts: int
    seconds: int


@dataclass(frozen=True)
class Attempt:
    outcome: str  # ok | wrong | throttled
    retry_after: int | None = None  # throttled: seconds until the next attempt is looked at

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def try_secret(registry: "Registry", given: str | None, expected: str, client: str, via: str, path: str,
               budget: Budget, scope: str = STAFF_SCOPE) -> Attempt:
    """Compare a presented secret with the expected one (constant time), under the client's budget.

    The budget is asked first, so a client over it learns nothing, not even from a right guess. A wrong
    secret is counted and audited (where from, through what; never what was sent); a right one clears
    the client's count. `given` None: a credential of the wrong kind was presented, which counts too.
    """
    def check() -> bool:
        return given is not None and hmac.compare_digest(given.encode(), expected.encode())

    attempt, _ = try_check(registry, check, [(scope, client)], via, path, budget)
    return attempt


T = TypeVar("T")


def try_check(registry: "Registry", check: Callable[[], T | None], keys: list[tuple[str, str]], via: str, path: str,
              budget: Budget, details: dict | None = None) -> tuple[Attempt, T | None]:
    """Run `check` (a credential check: a result, or None/False when wrong) under the budgets of `keys`,
    each a (scope, client): the client address, and for a named account its username too, so guessing one
    person's password from many addresses locks that account as surely as one address is locked out.

    Every budget is asked first (over any: throttled, the check is not even run). A failure is counted
    under every key and audited once, with `details` (what was tried, never the secret); a success clears
    the keys' counts.
    """
    keys = [(scope, client[:64]) for scope, client in keys]
    window, now = dt.timedelta(seconds=budget.seconds), utcnow()
    worst: tuple[int, dt.datetime | None] = (0, None)
    with registry.reading() as db:
        for scope, client in keys:
            failures, oldest = _failures_since(db, scope, client, now - window)
            if failures >= budget.attempts:
                return Attempt("throttled", max(1, math.ceil((oldest + window - now).total_seconds()))), None
            worst = max(worst, (failures, oldest), key=lambda pair: pair[0])
    result = check()
    if not result:
        with registry.transaction() as db:
            for scope, client in keys:
                db.add(AuthFailure(scope=scope, client=client, at=utcnow()))
            audit.append(db, ANONYMOUS, f"{keys[0][0]}.auth_failed", keys[0][0],
                         {"from": keys[0][1], "via": via, "path": path, "failures": worst[0] + 1,
                          "window_seconds": budget.seconds, "throttled": worst[0] + 1 >= budget.attempts,
                          **(details or {})})
        return Attempt("wrong"), None
    if not worst[0]:
        return Attempt("ok"), result
    with registry.transaction() as db:
        for scope, client in keys:
            db.execute(delete(AuthFailure).where(AuthFailure.scope == scope, AuthFailure.client == client))
    return Attempt("ok"), result


def _failures_since(db: Session, scope: str, client: str, since: dt.datetime) -> tuple[int, dt.datetime | None]:
    return tuple(db.execute(select(func.count(), func.min(AuthFailure.at)).where(
        AuthFailure.scope == scope, AuthFailure.client == client, AuthFailure.at > since)).one())


def purge_failures(db: Session, budget: Budget, now: dt.datetime | None = None) -> int:
    """Failures older than the window no longer count."""
    since = (now or utcnow()) - dt.timedelta(seconds=budget.seconds)
    return db.execute(delete(AuthFailure).where(AuthFailure.at <= since)).rowcount or 0
