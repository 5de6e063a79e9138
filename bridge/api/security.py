"""Who may call what: Moodle signs its calls (HMAC), staff present a bearer token, the rest is public."""
from __future__ import annotations

import functools
import hmac

from flask import current_app, g, request

from bridge.api.errors import ApiError, problem
from bridge.intake.auth import AuthError, authenticate


def context():
    return current_app.extensions["edc"]


def staff_required(view):
    """Bearer token compared in constant time; with EDC_STAFF_TOKEN unset, the staff API is off."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        expected = context().settings.staff_token
        if not expected:
            raise ApiError(503, "the staff API is disabled: set EDC_STAFF_TOKEN",
                           [problem("Authorization", "no staff token is configured on this sidecar")])
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
            raise ApiError(401, "staff token required", [problem("Authorization", "expected 'Bearer <staff token>'")],
                           {"WWW-Authenticate": 'Bearer realm="edc-bridge"'})
        g.actor = "staff"
        return view(*args, **kwargs)

    return wrapper


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
