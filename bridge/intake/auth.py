"""HMAC-SHA256 request authentication for Moodle → sidecar calls (schemas/intake-auth.md).

Checks run cheapest first and nothing is written before all of them pass except the nonce, which is
recorded in the same transaction as whatever the request stores: a refused request leaves no trace,
and a replay of an accepted one finds its nonce taken.

Two canonical strings exist. v2 (current) also covers the query string, so a man in the middle cannot
move a signed `GET /api/v1/issuances?site=…&course=…` to another course. v1 (the first plugin releases)
does not; it is still accepted so an older plugin keeps working, but only for requests without a query,
where it covers everything the sidecar reads.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bridge.registry.models import Nonce, utcnow

HEADER_KEY_ID = "X-EDC-Key-Id"
HEADER_TIMESTAMP = "X-EDC-Timestamp"
HEADER_NONCE = "X-EDC-Nonce"
HEADER_SIGNATURE = "X-EDC-Signature"
HEADER_VERSION = "X-EDC-Auth-Version"
VERSION_V1 = "v1"
VERSION_V2 = "v2"
CURRENT_VERSION = VERSION_V2
VERSIONS = (VERSION_V1, VERSION_V2)
NONCE_PATTERN = re.compile(r"^[0-9a-f]{32,128}$")
SIGNATURE_PATTERN = re.compile(r"^[0-9a-f]{64}$")
# RFC 3986 unreserved characters: the only bytes the canonical query leaves unencoded.
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


class AuthError(Exception):
    """A refused request (always 401); the message says why without echoing any secret.

    `field` names the header the problem is about, so the error body can point at it.
    """

    def __init__(self, message: str, field: str = HEADER_SIGNATURE) -> None:
        super().__init__(message)
        self.field = field


def _encode(raw: bytes) -> str:
    """Percent-encode every byte except the unreserved ones, upper-case hex (space is %20, never +)."""
    return "".join(chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in raw)


def canonical_query(query: str | bytes) -> str:
    """The query's canonical form (v2): decoded pairs re-encoded one way, sorted, joined with `&`.

    `query` is the raw query string as sent, without the `?` (bytes as Flask's `request.query_string`
    gives them, or text, taken as UTF-8). Clients may encode the same parameters differently (`%20` or
    `+`, `%7E` or `~`, any order), so the signature covers the decoded pairs rather than the raw text.
    Splitting and decoding are those of the sidecar's own request parsing (urllib's parse_qsl, as
    werkzeug's `request.args` uses: `+` is a space, a name without `=` has an empty value), so what is
    signed is what the endpoints read. Bytes are kept exactly (latin-1 round trip): a value that is not
    valid UTF-8 still signs as the bytes sent. Sorting loses the order of repeated names; endpoints that
    read one value must therefore refuse a repeated name (see bridge/api/intake.py).
    """
    raw = query if isinstance(query, bytes) else query.encode("utf-8")
    text = raw.decode("latin-1")
    # With encoding latin-1 every decoded character is one byte; encode back to get the bytes sent.
    pairs = parse_qsl(text, keep_blank_values=True, encoding="latin-1", errors="strict")
    encoded = sorted((_encode(name.encode("latin-1")), _encode(value.encode("latin-1"))) for name, value in pairs)
    return "&".join(f"{name}={value}" for name, value in encoded)


def canonical_string(method: str, path: str, timestamp: str, nonce: str, body: bytes, *,
                     query: str | bytes = "", version: str = CURRENT_VERSION) -> bytes:
    """The exact bytes that get signed, in the given contract version (v2 unless asked otherwise).

    v1 has no place for a query, so asking for v1 with one is a programming error (ValueError) rather
    than a signature that silently leaves the query out.
    """
    body_hash = hashlib.sha256(body).hexdigest()
    if version == VERSION_V2:
        parts = (VERSION_V2, method.upper(), path, canonical_query(query), timestamp, nonce, body_hash)
    elif version == VERSION_V1:
        if query:
            raise ValueError("v1 cannot sign a query string; use v2")
        parts = (VERSION_V1, method.upper(), path, timestamp, nonce, body_hash)
    else:
        raise ValueError(f"unknown signature version {version!r}; known: {', '.join(VERSIONS)}")
    return "\n".join(parts).encode("utf-8")


def sign(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes, *,
         query: str | bytes = "", version: str = CURRENT_VERSION) -> str:
    """Lowercase hex HMAC-SHA256 of the canonical string; the secret is the UTF-8 bytes of the string."""
    return hmac.new(secret.encode("utf-8"),
                    canonical_string(method, path, timestamp, nonce, body, query=query, version=version),
                    hashlib.sha256).hexdigest()


def signed_headers(key_id: str, secret: str, method: str, path: str, body: bytes, *, query: str | bytes = "",
                   timestamp: int | None = None, nonce: str | None = None,
                   version: str = CURRENT_VERSION) -> dict[str, str]:
    """The headers a client sends (used by send-demo-event and the tests).

    `path` is without the query; `query` is the raw query string the client will send. v2 adds
    X-EDC-Auth-Version; v1 leaves it out, exactly as a plugin from before v2 does, so tests can play one.
    """
    import secrets as _secrets

    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or _secrets.token_hex(16)
    headers = {HEADER_KEY_ID: key_id, HEADER_TIMESTAMP: ts, HEADER_NONCE: nonce,
               HEADER_SIGNATURE: sign(secret, method, path, ts, nonce, body, query=query, version=version)}
    if version != VERSION_V1:
        headers[HEADER_VERSION] = version
    return headers


@dataclass(frozen=True)
class Authenticated:
    key_id: str
    nonce: str
    timestamp: int
    version: str = CURRENT_VERSION


def authenticate(headers: Mapping[str, str], method: str, path: str, body: bytes, keys: Mapping[str, str], *,
                 query: str | bytes = b"", window: int = 300, now: float | None = None) -> Authenticated:
    """Check headers, version, key, clock and signature; the nonce is claimed afterwards with `claim_nonce`.

    `query` must be the raw query string exactly as received (Flask: `request.query_string`), never a
    re-encoding of the parsed arguments, so the check sees what the client signed. The version comes
    from X-EDC-Auth-Version (absent: v1). A v1 request with a query is refused before any signature
    work: v1 does not cover the query, so accepting it would let anyone rewrite the parameters.
    """
    key_id = headers.get(HEADER_KEY_ID, "")
    timestamp = headers.get(HEADER_TIMESTAMP, "")
    nonce = headers.get(HEADER_NONCE, "")
    signature = headers.get(HEADER_SIGNATURE, "")
    version = headers.get(HEADER_VERSION)
    missing = [h for h, v in ((HEADER_KEY_ID, key_id), (HEADER_TIMESTAMP, timestamp), (HEADER_NONCE, nonce),
                              (HEADER_SIGNATURE, signature)) if not v]
    if missing:
        raise AuthError(f"missing header(s): {', '.join(missing)}", missing[0])
    if version is None:
        version = VERSION_V1
    elif version not in VERSIONS:
        shown = version if re.fullmatch(r"[ -~]{1,16}", version) else "(unprintable or too long)"
        raise AuthError(f"{HEADER_VERSION} {shown!r} is not a known signature version; known: "
                        f"{', '.join(VERSIONS)}", HEADER_VERSION)
    if version == VERSION_V1 and query:
        raise AuthError(f"a v1 signature does not cover the query string: sign with v2 and send "
                        f"{HEADER_VERSION}: {VERSION_V2}", HEADER_VERSION)
    if not timestamp.isdigit():
        raise AuthError(f"{HEADER_TIMESTAMP} must be Unix seconds (digits only)", HEADER_TIMESTAMP)
    if not NONCE_PATTERN.match(nonce):
        raise AuthError(f"{HEADER_NONCE} must be 16 to 64 random bytes in lowercase hex", HEADER_NONCE)
    if not SIGNATURE_PATTERN.match(signature):
        raise AuthError(f"{HEADER_SIGNATURE} must be 64 lowercase hex characters")
    secret = keys.get(key_id)
    if secret is None:
        raise AuthError("unknown key id", HEADER_KEY_ID)
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > window:
        raise AuthError(f"timestamp outside the accepted window of {window} s (check the Moodle server's clock)",
                        HEADER_TIMESTAMP)
    expected = sign(secret, method, path, timestamp, nonce, body, query=query, version=version)
    if not hmac.compare_digest(expected, signature):
        raise AuthError("signature does not match")
    return Authenticated(key_id, nonce, int(timestamp), version)


# A plain Core INSERT on the table, built once: the ORM-enabled insert(Nonce).values(...) was rebuilt and
# run through the ORM's bulk path on every signed request, for the same SQL.
_INSERT_NONCE = insert(Nonce.__table__)


def claim_nonce(session: Session, auth: Authenticated, window: int = 300) -> None:
    """Record the nonce in the caller's transaction; raises AuthError when it was used before.

    Callers claim it first and let the AuthError end (roll back) their transaction, so a plain insert
    does: no savepoint is needed to survive the unique-key failure.
    """
    expires = dt.datetime.fromtimestamp(auth.timestamp + window, dt.timezone.utc) + dt.timedelta(seconds=window)
    try:
        session.execute(_INSERT_NONCE, {"key_id": auth.key_id, "nonce": auth.nonce, "expires_at": expires})
    except IntegrityError:
        raise AuthError("nonce already used (replayed request)", HEADER_NONCE) from None


def purge_expired_nonces(session: Session) -> int:
    """Nonces older than the window cannot be replayed anyway (the timestamp check refuses them)."""
    return session.execute(delete(Nonce).where(Nonce.expires_at < utcnow())).rowcount or 0
