"""Who may call what: Moodle signs its calls (HMAC), staff and machine clients present a named bearer token
whose roles must cover the route's (bridge/staff/roles.py), the rest is public."""
from __future__ import annotations

import functools
import hmac
from dataclasses import dataclass

from flask import current_app, g, request

from bridge.api.errors import ApiError, problem
from bridge.intake.auth import AuthError, authenticate
from bridge.registry import audit, staff_access, staff_accounts
from bridge.staff import roles, tokens


def context():
    return current_app.extensions["edc"]


@dataclass(frozen=True)
class Principal:
    """Who a staff request is served for: the audit trail's actor and the roles held."""

    actor: str
    roles: str  # comma-separated (bridge/staff/roles.py)


def bearer_principal(given: str) -> Principal | None:
    """The named token `given` is (EDC_STAFF_TOKEN: the one admin token; EDC_API_TOKENS; the registry's),
    or None. Looked up by SHA-256, so no comparison depends on which token was guessed at."""
    ctx = context()
    shared = ctx.settings.staff_token
    if shared and hmac.compare_digest(given.encode(), shared.encode()):
        return Principal(staff_access.SHARED_TOKEN_ACTOR, staff_access.SHARED_TOKEN_ROLE)
    found = ctx.settings.api_tokens.get(tokens.digest(given))
    if found is None:
        with ctx.registry.reading() as db:
            found = staff_accounts.token_by_digest(db, tokens.digest(given))
    return Principal(found.actor, roles.joined(found.roles)) if found else None


def staff_required(role: str):
    """The staff API's guard; every staff route names the role it needs (bridge/staff/roles.py); a bare
    `@staff_required` fails closed (admin only). A Bearer token that is none of the named ones counts against
    the client address's budget (EDC_STAFF_AUTH_LIMIT, shared with the login page and kept in the registry,
    so it holds across processes and replicas); over budget, the answer is 429 with Retry-After before the
    token is even looked up. A request with no Authorization header guesses nothing and is not counted.
    A known token whose roles do not cover the route's: 403, and nothing is done.
    """
    if callable(role):  # a bare @staff_required (a route written before roles existed): fails closed to admin
        return staff_required(roles.ADMIN)(role)
    roles.needs(role)  # an unknown role is refused here, at import

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            principal = _authenticate_bearer()
            if not roles.allows(principal.roles, role):
                raise ApiError(403, "this token's role may not do this",
                               [problem("Authorization", f"needs the role {role}; {principal.actor} holds "
                                                         f"{principal.roles}")])
            g.actor, g.roles = principal.actor, principal.roles
            acting = audit.ACTING_ROLE.set((principal.actor, principal.roles))
            try:
                return view(*args, **kwargs)
            finally:
                audit.ACTING_ROLE.reset(acting)

        return roles.needs(role)(wrapper)

    return decorate


def _authenticate_bearer() -> Principal:
    ctx = context()
    header = request.headers.get("Authorization", "")
    if not header:
        raise _token_required()
    scheme, _, given = header.partition(" ")
    given = given.strip() if scheme.lower() == "bearer" else None
    attempt, principal = staff_access.try_check(
        ctx.registry, lambda: bearer_principal(given) if given else None,
        [(staff_access.STAFF_SCOPE, request.remote_addr or "")], "api", request.path,
        staff_access.Budget(*ctx.settings.staff_auth_budget))
    if not attempt.ok and ctx.metrics:
        ctx.metrics.staff_auth_refused.labels(attempt.outcome).inc()
    if attempt.outcome == "throttled":
        raise ApiError(429, "too many failed staff token attempts from this address",
                       [problem("Authorization", f"try again in {attempt.retry_after} s")],
                       {"Retry-After": str(attempt.retry_after)})
    if not attempt.ok:
        raise _token_required()
    return principal


def _token_required() -> ApiError:
    return ApiError(401, "staff token required", [problem("Authorization", "expected 'Bearer <staff token>'")],
                    {"WWW-Authenticate": 'Bearer realm="edc-bridge"'})


def moodle_signed(view):
    """HMAC check (schemas/intake-auth.md); the view claims the nonce in its own transaction (g.intake_auth)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        ctx = context()
        limit = ctx.settings.max_body_bytes
        if (request.content_length or 0) > limit:
            raise ApiError(413, "request body too large", [problem("", f"at most {limit} bytes are accepted here")])
        body = request.get_data(cache=True)
        if len(body) > limit:
            raise ApiError(413, "request body too large", [problem("", f"at most {limit} bytes are accepted here")])
        path = request.script_root + request.path
        try:
            # The raw query bytes as received, not request.args re-encoded: the signature covers what the
            # client sent (v2), and a v1 signature is refused as soon as there is any query at all.
            g.intake_auth = authenticate(request.headers, request.method, path, body, ctx.settings.intake_keys,
                                         query=request.query_string, window=ctx.settings.timestamp_window)
        except AuthError as exc:
            if ctx.metrics:
                ctx.metrics.requests_refused.labels("auth").inc()
            raise ApiError(401, "request not authenticated", [problem(exc.field, str(exc))]) from None
        return view(*args, **kwargs)

    return wrapper


def moodle_signed_or_staff(role: str):
    """Either Moodle's signature or a staff token holding `role` (operators and tests load descriptions by hand)."""
    if not isinstance(role, str):
        raise TypeError("moodle_signed_or_staff needs the role staff need: @moodle_signed_or_staff(roles.REGISTRAR)")

    def decorate(view):
        signed = moodle_signed(view)
        staff = staff_required(role)(view)

        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if request.headers.get("Authorization", "").lower().startswith("bearer "):
                g.intake_auth = None
                return staff(*args, **kwargs)
            return signed(*args, **kwargs)

        return roles.needs(role)(wrapper)

    return decorate
