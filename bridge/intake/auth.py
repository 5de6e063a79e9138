"""HMAC-SHA256 request authentication for Moodle → sidecar calls (schemas/intake-auth.md).

Checks run cheapest first and nothing is written before all of them pass except the nonce, which is
recorded in the same transaction as whatever the request stores: a refused request leaves no trace,
and a replay of an accepted one finds its nonce taken.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bridge.registry.models import Nonce, utcnow

HEADER_KEY_ID = "X-EDC-Key-Id"
HEADER_TIMESTAMP = "X-EDC-Timestamp"
HEADER_NONCE = "X-EDC-Nonce"
HEADER_SIGNATURE = "X-EDC-Signature"
NONCE_PATTERN = re.compile(r"^[0-9a-f]{32,128}$")
SIGNATURE_PATTERN = re.compile(r"^[0-9a-f]{64}$")


class AuthError(Exception):
    """A refused request (always 401); the message says why without echoing any secret."""


def canonical_string(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    body_hash = hashlib.sha256(body).hexdigest()
    return "\n".join(("v1", method.upper(), path, timestamp, nonce, body_hash)).encode("utf-8")


def sign(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), canonical_string(method, path, timestamp, nonce, body),
                    hashlib.sha256).hexdigest()


def signed_headers(key_id: str, secret: str, method: str, path: str, body: bytes, *,
                   timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
    """The four headers a client sends (used by send-demo-event and the tests)."""
    import secrets as _secrets

    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or _secrets.token_hex(16)
    return {HEADER_KEY_ID: key_id, HEADER_TIMESTAMP: ts, HEADER_NONCE: nonce,
            HEADER_SIGNATURE: sign(secret, method, path, ts, nonce, body)}


@dataclass(frozen=True)
class Authenticated:
    key_id: str
    nonce: str
    timestamp: int


def authenticate(headers: Mapping[str, str], method: str, path: str, body: bytes, keys: Mapping[str, str], *,
                 window: int = 300, now: float | None = None) -> Authenticated:
    """Check headers, key, clock and signature; the nonce is claimed afterwards with `claim_nonce`."""
    key_id = headers.get(HEADER_KEY_ID, "")
    timestamp = headers.get(HEADER_TIMESTAMP, "")
    nonce = headers.get(HEADER_NONCE, "")
    signature = headers.get(HEADER_SIGNATURE, "")
    missing = [h for h, v in ((HEADER_KEY_ID, key_id), (HEADER_TIMESTAMP, timestamp), (HEADER_NONCE, nonce),
                              (HEADER_SIGNATURE, signature)) if not v]
    if missing:
        raise AuthError(f"missing header(s): {', '.join(missing)}")
    if not timestamp.isdigit():
        raise AuthError(f"{HEADER_TIMESTAMP} must be Unix seconds (digits only)")
    if not NONCE_PATTERN.match(nonce):
        raise AuthError(f"{HEADER_NONCE} must be 16 to 64 random bytes in lowercase hex")
    if not SIGNATURE_PATTERN.match(signature):
        raise AuthError(f"{HEADER_SIGNATURE} must be 64 lowercase hex characters")
    secret = keys.get(key_id)
    if secret is None:
        raise AuthError("unknown key id")
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > window:
        raise AuthError(f"timestamp outside the accepted window of {window} s (check the Moodle server's clock)")
    expected = sign(secret, method, path, timestamp, nonce, body)
    if not hmac.compare_digest(expected, signature):
        raise AuthError("signature does not match")
    return Authenticated(key_id, nonce, int(timestamp))


def claim_nonce(session: Session, auth: Authenticated, window: int = 300) -> None:
    """Record the nonce in the caller's transaction; raises AuthError when it was used before."""
    expires = dt.datetime.fromtimestamp(auth.timestamp + window, dt.timezone.utc) + dt.timedelta(seconds=window)
    try:
        with session.begin_nested():
            session.add(Nonce(key_id=auth.key_id, nonce=auth.nonce, expires_at=expires))
            session.flush()
    except IntegrityError:
        raise AuthError("nonce already used (replayed request)") from None


def purge_expired_nonces(session: Session) -> int:
    """Nonces older than the window cannot be replayed anyway (the timestamp check refuses them)."""
    return session.execute(delete(Nonce).where(Nonce.expires_at < utcnow())).rowcount or 0
