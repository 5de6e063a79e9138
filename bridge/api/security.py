"""Who may call what: Moodle signs its calls (HMAC), staff present a bearer token, the rest is public."""
from __future__ import annotations

import functools

from flask import current_app, g, request

from bridge.api.errors import ApiError, problem
from bridge.intake.auth import AuthError, authenticate
from bridge.registry import staff_access


def context():
    return current_app.extensions["edc"]


def staff_required(view):
    """Bearer token compared in constant time; with EDC_STAFF_TOKEN unset, the staff API is off.

    Wrong tokens count against the client address's budget (EDC_STAFF_AUTH_LIMIT, shared with the
    login page and kept in the registry, so it holds across processes and replicas); over budget,
    the answer is 429 with Retry-After before the token is even compared. A request with no
    Authorization header guesses nothing and is not counted.
    """

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        ctx = context()
        expected = ctx.settings.staff_token
        if not expected:
            raise ApiError(503, "the staff API is disabled: set EDC_STAFF_TOKEN",
                           [problem("Authorization", "no staff token is configured on this sidecar")])
        header = request.headers.get("Authorization", "")
        if not header:
            raise _token_required()
        scheme, _, given = header.partition(" ")
        attempt = staff_access.try_secret(ctx.registry, given.strip() if scheme.lower() == "bearer" else None,
                                          expected, request.remote_addr or "", "api", request.path,
                                          staff_access.Budget(*ctx.settings.staff_auth_budget))
        if not attempt.ok and ctx.metrics:
            ctx.metrics.staff_auth_refused.labels(attempt.outcome).inc()
        if attempt.outcome == "throttled":
            raise ApiError(429, "too many failed staff token attempts from this address",
                           [problem("Authorization", f"try again in {attempt.retry_after} s")],
                           {"Retry-After": str(attempt.retry_after)})
        if not attempt.ok:
            raise _token_required()
        g.actor = staff_access.SHARED_TOKEN_ACTOR
        return view(*args, **kwargs)

    return wrapper


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


def moodle_signed_or_staff(view):
    """Either Moodle's signature or the staff token (operators and tests load descriptions by hand)."""
    signed = moodle_signed(view)
    staff = staff_required(view)

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if request.headers.get("Authorization", "").lower().startswith("bearer "):
            g.intake_auth = None
            return staff(*args, **kwargs)
        return signed(*args, **kwargs)

    return wrapper
