"""Local staff accounts for a site without an identity provider: argon2id password hashes (argon2-cffi)
and a TOTP second factor (pyotp, RFC 6238, 30 s steps, one step of clock drift either way).

A code is accepted once: the step it belongs to is kept with the account, and a code of that step or an
earlier one is refused, so a code seen over someone's shoulder cannot be used again within its 90 s.
"""
from __future__ import annotations

import functools
import time

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

HASHER = PasswordHasher()  # argon2id with the library's current recommended cost
MIN_PASSWORD_CHARS = 12
ISSUER_NAME = "EDC Issuer"
DRIFT_STEPS = 1


@functools.cache
def _dummy_hash() -> str:
    """A hash of a random password: an unknown account costs the same time as a known one (no user
    probing). Made at the first login, not at import: a sidecar restarting after a crash does not spend
    an argon2 hash (~0.1 s of CPU, 64 MiB) before it serves (issue 18)."""
    return HASHER.hash("no account has this password: " + pyotp.random_base32())


class PasswordRefused(ValueError):
    """A new password that does not meet the rule; the message says which (never the password)."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise PasswordRefused(f"the password must have at least {MIN_PASSWORD_CHARS} characters")
    return HASHER.hash(password)


def password_ok(stored_hash: str | None, password: str) -> bool:
    """Constant-cost check; an account without a hash (an identity-provider account) never matches."""
    try:
        return HASHER.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    """The otpauth:// URI an authenticator app takes (as a QR code or typed in)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER_NAME)


def totp_step(secret: str, code: str, last_step: int | None, now: float | None = None) -> int | None:
    """The time step `code` is valid for (within the drift), or None: wrong, malformed, or already used."""
    code = "".join((code or "").split())
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp, now = pyotp.TOTP(secret), time.time() if now is None else now
    current = int(now // totp.interval)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if totp.verify(code, for_time=step * totp.interval) and (last_step is None or step > last_step):
            return step
    return None
