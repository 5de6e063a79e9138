"""The sidecar as an OpenID Connect relying party: authorisation code flow with PKCE (S256), the code
exchanged with the client secret, and the ID token checked before anyone is let in.

Libraries, not hand-rolled: authlib's OAuth 2 client builds the authorisation URL (state, nonce, PKCE) and
exchanges the code; joserfc (authlib's JOSE library) checks the ID token's signature against the keys the
provider publishes (its discovery document's jwks_uri). The checks of the claims are ours and each refusal
names what was wrong: the issuer must be the configured one, the audience must hold our client id (and a
token for several audiences must name us as `azp`), the nonce must be the one this login sent, the token
must not have expired (60 s leeway for clocks), and it must be signed with an asymmetric algorithm the
provider's keys hold (no `alg: none`, no HMAC keyed with something an attacker may know).

No Flask, no database: bridge/web/staff_login.py keeps state, nonce and PKCE verifier server-side (in the
registry) and calls these functions.
"""
from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import requests

if TYPE_CHECKING:
    from authlib.integrations.requests_client import OAuth2Session
    from joserfc.jwk import KeySet

# authlib and joserfc are imported where they are used: every sidecar imports this module (the staff login
# pages), and the two libraries cost a start 0.1-0.2 s, which a restart after a crash pays (issue 18), also
# where no identity provider is configured.

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
LEEWAY_SECONDS = 60
TIMEOUT_SECONDS = 10
JWKS_CACHE_SECONDS = 600
MAX_DOCUMENT_BYTES = 256 * 1024


class OidcError(Exception):
    """A login refused: `reason` is a short code for the audit trail, the message says what was wrong
    (never a token, code or secret)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    redirect_url: str
    role_claim: str | None = None  # None: roles are assigned in the sidecar (edc-bridge staff role)
    username_claim: str = "email"
    scopes: str = "openid email profile"


@dataclass(frozen=True)
class Started:
    """What a login starts with: the URL to send the browser to, and what the callback must find again."""

    url: str
    state: str
    nonce: str = field(repr=False)
    code_verifier: str = field(repr=False)


@dataclass(frozen=True)
class Identity:
    subject: str
    username: str
    name: str | None
    roles_claimed: tuple[str, ...] | None  # None: the provider sent no role claim (or none is configured)


def check_issuer_url(issuer: str) -> str:
    """https, or http only on loopback (the tests' provider): an identity provider reached in clear
    could be impersonated by anyone on the path."""
    parsed = urlparse(issuer)
    loopback = parsed.hostname in ("127.0.0.1", "::1", "localhost")
    if parsed.scheme != "https" and not (parsed.scheme == "http" and loopback):
        raise ValueError("EDC_OIDC_ISSUER must be an https:// URL (http only on loopback)")
    return issuer


class Provider:
    """One identity provider: its discovery document and keys, fetched when first needed and cached."""

    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._keys: tuple[float, KeySet] | None = None

    # --- discovery and keys ---

    def metadata(self) -> dict[str, Any]:
        with self._lock:
            if self._metadata is None:
                url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
                document = _get_json(url, "discovery")
                if document.get("issuer") != self.config.issuer:
                    raise OidcError("discovery", f"the provider's discovery document names issuer "
                                                 f"{document.get('issuer')!r}, not the configured one")
                for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                    if not isinstance(document.get(key), str):
                        raise OidcError("discovery", f"the provider's discovery document has no {key}")
                self._metadata = document
            return self._metadata

    def keys(self, refresh: bool = False) -> KeySet:
        with self._lock:
            cached = self._keys
        if cached and not refresh and time.monotonic() - cached[0] < JWKS_CACHE_SECONDS:
            return cached[1]
        from joserfc.errors import JoseError
        from joserfc.jwk import KeySet

        document = _get_json(self.metadata()["jwks_uri"], "jwks")
        try:
            key_set = KeySet.import_key_set(document)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise OidcError("jwks", f"the provider's keys cannot be read ({type(exc).__name__})") from None
        with self._lock:
            self._keys = (time.monotonic(), key_set)
        return key_set

    # --- the flow ---

    def start(self) -> Started:
        """A new authorisation request: fresh state, nonce and PKCE verifier (each 32 random bytes)."""
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        client = self._client()
        url, _ = client.create_authorization_url(self.metadata()["authorization_endpoint"], state=state,
                                                 nonce=nonce, code_verifier=verifier)
        return Started(url, state, nonce, verifier)

    def finish(self, code: str, nonce: str, code_verifier: str) -> Identity:
        """Exchange the code (with the verifier and the client secret) and check the ID token."""
        client = self._client()
        try:
            answer = client.fetch_token(self.metadata()["token_endpoint"], grant_type="authorization_code",
                                        code=code, code_verifier=code_verifier, timeout=TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            raise OidcError("token_endpoint", f"the provider could not be reached ({type(exc).__name__})") from None
        except Exception as exc:  # authlib raises OAuthError subclasses for the provider's error answers
            error = getattr(exc, "error", None) or type(exc).__name__
            raise OidcError("code_refused", f"the provider refused the authorisation code ({error})") from None
        id_token = answer.get("id_token") if isinstance(answer, dict) else None
        if not isinstance(id_token, str):
            raise OidcError("no_id_token", "the provider's answer carries no ID token")
        claims = self.check_id_token(id_token, nonce)
        return self.identity(claims)

    def check_id_token(self, id_token: str, nonce: str, now: float | None = None) -> dict[str, Any]:
        """The ID token's claims once every check passed; OidcError naming the first that did not."""
        claims = verify_signature(id_token, self.keys)
        check_claims(claims, self.config.issuer, self.config.client_id, nonce, now)
        return claims

    def identity(self, claims: dict[str, Any]) -> Identity:
        subject = str(claims["sub"])
        username = claims.get(self.config.username_claim)
        if not isinstance(username, str) or not username.strip():
            raise OidcError("no_username", f"the ID token has no {self.config.username_claim!r} claim to name "
                                           f"the person by")
        roles_claimed = None
        if self.config.role_claim and self.config.role_claim in claims:
            value = claims[self.config.role_claim]
            roles_claimed = tuple(str(v) for v in value) if isinstance(value, list) else tuple(str(value).split(","))
        name = claims.get("name") if isinstance(claims.get("name"), str) else None
        return Identity(subject, username.strip()[:200], name, roles_claimed)

    def _client(self) -> OAuth2Session:
        from authlib.integrations.requests_client import OAuth2Session

        return OAuth2Session(self.config.client_id, self.config.client_secret, scope=self.config.scopes,
                             redirect_uri=self.config.redirect_url, code_challenge_method="S256",
                             token_endpoint_auth_method="client_secret_basic")


def verify_signature(id_token: str, keys) -> dict[str, Any]:  # noqa: ANN001 - keys(refresh=...) -> KeySet
    """The payload of a JWS signed by one of the provider's keys with an allowed algorithm."""
    from joserfc import jws, jwt
    from joserfc.errors import JoseError

    try:
        header = jws.extract_compact(id_token.encode()).protected
    except (JoseError, ValueError, TypeError):
        raise OidcError("malformed", "the ID token is not a signed JWT") from None
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise OidcError("bad_alg", f"the ID token's algorithm {str(alg)[:16]!r} is not accepted "
                                   f"(only {', '.join(ALGORITHMS)})")
    for refresh in (False, True):  # an unknown key id: the provider may have rotated its keys
        key_set = keys(refresh=refresh)
        kid = header.get("kid")
        if kid and not any(k.kid == kid for k in key_set.keys):
            continue
        try:
            token = jwt.decode(id_token, key_set, algorithms=list(ALGORITHMS))
        except JoseError as exc:
            raise OidcError("bad_signature", f"the ID token's signature does not verify ({exc.error})") from None
        except (ValueError, TypeError):
            raise OidcError("malformed", "the ID token cannot be read") from None
        return dict(token.claims)
    raise OidcError("unknown_key", "the ID token is signed with a key the provider does not publish")


def check_claims(claims: dict[str, Any], issuer: str, client_id: str, nonce: str, now: float | None = None) -> None:
    now = time.time() if now is None else now
    if claims.get("iss") != issuer:
        raise OidcError("wrong_issuer", "the ID token was issued by another issuer")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if client_id not in audiences:
        raise OidcError("wrong_audience", "the ID token is meant for another client (audience)")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise OidcError("wrong_audience", "the ID token has several audiences and does not name us as azp")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise OidcError("no_subject", "the ID token has no subject")
    expires = claims.get("exp")
    if not isinstance(expires, (int, float)) or isinstance(expires, bool):
        raise OidcError("no_expiry", "the ID token has no expiry time")
    if expires + LEEWAY_SECONDS < now:
        raise OidcError("expired", "the ID token has expired")
    issued = claims.get("iat")
    if not isinstance(issued, (int, float)) or issued - LEEWAY_SECONDS > now:
        raise OidcError("bad_iat", "the ID token's issue time is missing or in the future")
    if not isinstance(claims.get("nonce"), str) or not secrets.compare_digest(claims["nonce"], nonce):
        raise OidcError("wrong_nonce", "the ID token's nonce is not the one this login sent")


def _get_json(url: str, what: str) -> dict[str, Any]:
    try:
        answer = requests.get(url, timeout=TIMEOUT_SECONDS, headers={"Accept": "application/json"}, stream=True)
        body = answer.raw.read(MAX_DOCUMENT_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        raise OidcError(what, f"the identity provider could not be reached ({type(exc).__name__})") from None
    if answer.status_code != 200 or len(body) > MAX_DOCUMENT_BYTES:
        raise OidcError(what, f"the identity provider's {what} document could not be fetched (HTTP {answer.status_code})")
    try:
        document = json.loads(body)
    except ValueError:
        raise OidcError(what, f"the identity provider's {what} document is not JSON") from None
    if not isinstance(document, dict):
        raise OidcError(what, f"the identity provider's {what} document is not a JSON object")
    return document
