"""Named staff in the registry: accounts (local or the identity provider's), named API tokens, the OpenID
Connect logins under way, and the per-account lockout.

Every change to an account or token is audited in the same transaction, naming who made it; no password,
TOTP secret or token secret ever reaches the audit trail. A role change or a disabled account ends the
person's open sessions at once (staff_access.end_sessions_of), so a demoted registrar cannot keep revoking.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from bridge.registry import audit, staff_access
from bridge.registry.models import ApiToken, OidcLogin, StaffAccount, utcnow
from bridge.staff import local, roles, tokens

ACCOUNT_SCOPE = "account"  # the throttle's scope for failures per account (the address has STAFF_SCOPE)
OIDC_LOGIN_SECONDS = 600
KINDS = ("local", "oidc")


class AccountError(ValueError):
    """A request about an account that cannot be carried out; the message names the problem."""


@dataclass(frozen=True)
class NewLocalAccount:
    username: str
    totp_secret: str  # shown once to the operator who made the account, never again


def _check_username(username: str) -> str:
    username = (username or "").strip()
    if not username or len(username) > 200 or any(c.isspace() or not c.isprintable() for c in username):
        raise AccountError("username: 1 to 200 printable characters without spaces")
    if username.startswith(tokens.ACTOR_PREFIX) or username == staff_access.SHARED_TOKEN_ACTOR:
        raise AccountError(f"username: {username!r} is reserved")
    return username


def add_account(db: Session, username: str, held: tuple[str, ...], kind: str, by: str,
                password: str | None = None, display_name: str | None = None) -> NewLocalAccount | None:
    """A new account; for a local one the password is hashed (argon2id) and a TOTP secret made."""
    username = _check_username(username)
    if kind not in KINDS:
        raise AccountError(f"kind must be one of {', '.join(KINDS)}")
    if db.get(StaffAccount, username) is not None:
        raise AccountError(f"username: an account {username!r} exists already")
    row = StaffAccount(username=username, kind=kind, roles=roles.joined(held), display_name=display_name,
                       created_at=utcnow())
    made = None
    if kind == "local":
        if not password:
            raise AccountError("password: a local account needs one")
        try:
            row.password_hash = local.hash_password(password)
        except local.PasswordRefused as exc:
            raise AccountError(f"password: {exc}") from None
        row.totp_secret = local.new_totp_secret()
        made = NewLocalAccount(username, row.totp_secret)
    db.add(row)
    audit.append(db, by, "staff.account_added", username, {"kind": kind, "roles": row.roles})
    return made


def _account(db: Session, username: str) -> StaffAccount:
    row = db.get(StaffAccount, username)
    if row is None:
        raise AccountError(f"username: no account {username!r}")
    return row


def set_roles(db: Session, username: str, held: tuple[str, ...], by: str) -> None:
    row = _account(db, username)
    before, row.roles = row.roles, roles.joined(held)
    ended = staff_access.end_sessions_of(db, username, "role_changed")
    audit.append(db, by, "staff.roles_changed", username, {"from": before, "to": row.roles, "sessions_ended": ended})


def disable(db: Session, username: str, by: str) -> None:
    row = _account(db, username)
    if row.disabled_at is None:
        row.disabled_at = utcnow()
    ended = staff_access.end_sessions_of(db, username, "disabled")
    audit.append(db, by, "staff.account_disabled", username, {"sessions_ended": ended})


def enabled_account(db: Session, username: str) -> StaffAccount | None:
    row = db.get(StaffAccount, username)
    return row if row is not None and row.disabled_at is None else None


def take_totp_step(db: Session, username: str, step: int) -> bool:
    """Record that a code of `step` was used, unless one of this step or a later one was already: True
    when this login is the one that took it (a conditional update, so it holds across replicas)."""
    done = db.execute(update(StaffAccount)
                      .where(StaffAccount.username == username, StaffAccount.disabled_at.is_(None),
                             or_(StaffAccount.totp_last_step.is_(None), StaffAccount.totp_last_step < step))
                      .values(totp_last_step=step, last_login_at=utcnow()))
    return bool(done.rowcount)


def accounts(db: Session) -> list[StaffAccount]:
    return list(db.execute(select(StaffAccount).order_by(StaffAccount.username)).scalars())


# --- named API tokens kept in the registry ------------------------------------------------------------


def add_token(db: Session, name: str, held: tuple[str, ...], by: str) -> str:
    """A new token; returns its secret, the only time it exists outside the caller's hands."""
    try:
        name = tokens.check_name(name)
    except tokens.TokenConfigError as exc:
        raise AccountError(str(exc)) from None
    if db.get(ApiToken, name) is not None:
        raise AccountError(f"name: a token {name!r} exists already")
    secret = tokens.new_secret()
    db.add(ApiToken(name=name, roles=roles.joined(held), digest=tokens.digest(secret), created_at=utcnow()))
    audit.append(db, by, "staff.token_added", tokens.ACTOR_PREFIX + name, {"roles": roles.joined(held)})
    return secret


def disable_token(db: Session, name: str, by: str) -> None:
    row = db.get(ApiToken, name)
    if row is None:
        raise AccountError(f"name: no token {name!r}")
    row.disabled_at = row.disabled_at or utcnow()
    audit.append(db, by, "staff.token_disabled", tokens.ACTOR_PREFIX + name, {})


def token_by_digest(db: Session, digest: str) -> tokens.NamedToken | None:
    row = db.execute(select(ApiToken).where(ApiToken.digest == digest, ApiToken.disabled_at.is_(None))).scalar_one_or_none()
    return tokens.NamedToken(row.name, tuple(row.roles.split(",")), row.digest) if row else None


# --- OpenID Connect logins under way ----------------------------------------------------------------


def _state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def remember_login(db: Session, state: str, nonce: str, code_verifier: str, next_url: str | None) -> None:
    now = utcnow()
    db.execute(delete(OidcLogin).where(OidcLogin.expires_at < now))
    db.add(OidcLogin(state_hash=_state_hash(state), nonce=nonce, code_verifier=code_verifier,
                     next_url=(next_url or "")[:500] or None, created_at=now,
                     expires_at=now + dt.timedelta(seconds=OIDC_LOGIN_SECONDS)))


def take_login(db: Session, state: str) -> OidcLogin | None:
    """The login this state began, removed as it is read: a state (and so its code) works once."""
    row = db.get(OidcLogin, _state_hash(state or ""))
    if row is None:
        return None
    db.delete(row)
    return row if row.expires_at > utcnow() else None
