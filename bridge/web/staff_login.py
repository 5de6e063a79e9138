"""Named staff logging in (issue 15): through the university's OpenID Connect provider, or with a local
account (password and TOTP code) on a site without one. Both end in staff.start_session, as the shared
token does, so sessions, expiry, logout and the audit are the same for every way in.

OpenID Connect: /staff/oidc/start makes a fresh state, nonce and PKCE verifier (bridge/staff/oidc.py) and
keeps them server-side in the registry (oidc_logins), never in a URL of ours, a log or the browser; the
state also goes into the signed UI cookie, so a callback is only taken in the browser that began it (no
login CSRF). /staff/oidc/callback takes the login row exactly once (a replayed callback finds nothing),
exchanges the code and checks the ID token. Roles: from the configured claim (EDC_OIDC_ROLE_CLAIM), else
those assigned here (`edc-bridge staff add NAME --oidc --role ...`); nobody gets in with no known role.

Local accounts: username, password (argon2id) and TOTP code in one form. Failures count against the client
address and against the account (EDC_STAFF_AUTH_LIMIT, in the registry), so guessing one person's
password from many addresses locks that account too; each failure is audited with why, never what was typed.
"""
from __future__ import annotations

import functools
import hmac
import logging

from flask import flash, redirect, request, session, url_for

from bridge.registry import audit, staff_access, staff_accounts
from bridge.staff import local, oidc, roles
from bridge.web import i18n
from bridge.web.public import _context, _registry, _settings
from bridge.web.staff import login_page, staff, start_session

log = logging.getLogger(__name__)
STATE_KEY = "oidc_state"  # in the signed UI cookie: binds the callback to the browser that began the login


# --- local accounts ----------------------------------------------------------------------------------


def local_login(next_url: str | None):
    """Username, password and TOTP code: all three right, or one audited failure (which one, not shown)."""
    username = " ".join(request.form.get("username", "").split())[:200]
    password, code = request.form.get("password", ""), request.form.get("totp", "")
    client = request.remote_addr or ""
    why: dict[str, str] = {}

    def check() -> tuple[str, str] | None:
        # Read, then judge outside any transaction (argon2 takes tens of ms: no write lock held meanwhile),
        # then take the code's step with a conditional update, so two replicas never both accept one code.
        with _registry().reading() as db:
            row = db.get(staff_accounts.StaffAccount, username) if username else None
        if row is not None and row.kind == "local":
            why["account"] = username
        if not local.password_ok(row.password_hash if row is not None else None, password):
            why["reason"] = "password" if "account" in why else "unknown_account"
            return None
        if row.disabled_at is not None:
            why["reason"] = "disabled"
            return None
        step = local.totp_step(row.totp_secret or "", code, row.totp_last_step)
        with _registry().transaction() as db:
            if step is None or not staff_accounts.take_totp_step(db, row.username, step):
                why["reason"] = "totp"
                return None
        return row.username, row.roles

    keys = [(staff_access.STAFF_SCOPE, client)] + ([(staff_accounts.ACCOUNT_SCOPE, username)] if username else [])
    attempt, found = staff_access.try_check(_registry(), check, keys, "local-login", request.path,
                                            staff_access.Budget(*_settings().staff_auth_budget), why)
    if not attempt.ok:
        if _context().metrics:
            _context().metrics.staff_auth_refused.labels(attempt.outcome).inc()
        if attempt.outcome == "throttled":
            flash(i18n.t("login_locked", minutes=-(-attempt.retry_after // 60)), "error")
            return login_page(next_url, 429, {"Retry-After": str(attempt.retry_after)})
        flash(i18n.t("login_account_failed"), "error")
        return login_page(next_url, 401)
    return start_session(found[0], found[1], "local", next_url)


# --- OpenID Connect ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _provider_for(config: oidc.OidcConfig) -> oidc.Provider:
    """One Provider per configuration: its discovery document and keys are cached with it."""
    return oidc.Provider(config)


def provider() -> oidc.Provider | None:
    config = _settings().oidc
    return _provider_for(config) if config is not None else None


def _refused(reason: str, message: str, status: int = 401):
    """An identity-provider login refused: audited (why; never a token or code), said on the login page."""
    with _registry().transaction() as db:
        audit.append(db, staff_access.ANONYMOUS, "staff.oidc_refused", "staff",
                     {"from": request.remote_addr or "", "reason": reason, "problem": message[:300]})
    log.warning("staff OIDC login refused: %s", reason)
    flash(i18n.t("login_oidc_failed", problem=message), "error")
    return login_page(None, status)


@staff.get("/oidc/start")
@roles.needs(roles.PUBLIC)
def oidc_start():
    found = provider()
    if found is None:
        return redirect(url_for("staff.login"), 303)
    try:
        started = found.start()
    except oidc.OidcError as exc:
        return _refused(exc.reason, str(exc), 502)
    with _registry().transaction() as db:
        staff_accounts.remember_login(db, started.state, started.nonce, started.code_verifier,
                                      request.args.get("next"))
    session[STATE_KEY] = started.state
    return redirect(started.url, 303)


@staff.get("/oidc/callback")
@roles.needs(roles.PUBLIC)
def oidc_callback():
    found = provider()
    if found is None:
        return redirect(url_for("staff.login"), 303)
    state, code = request.args.get("state", ""), request.args.get("code", "")
    if request.args.get("error"):
        return _refused("provider_error", f"the identity provider answered {request.args['error'][:60]}")
    expected = session.pop(STATE_KEY, None)
    if not state or not expected or not hmac.compare_digest(state, expected):
        return _refused("state", "this login was not started in this browser (or it was used already)")
    with _registry().transaction() as db:
        pending = staff_accounts.take_login(db, state)
    if pending is None or not code:
        return _refused("state", "this login is unknown, expired or was used already")
    try:
        identity = found.finish(code, pending.nonce, pending.code_verifier)
    except oidc.OidcError as exc:
        return _refused(exc.reason, str(exc))
    with _registry().reading() as db:
        account = db.get(staff_accounts.StaffAccount, identity.username)
    if account is not None and account.disabled_at is not None:
        return _refused("disabled", f"the account {identity.username} is disabled on this sidecar", 403)
    held = _roles_of(identity)
    if not held:
        return _refused("no_role", f"{identity.username} holds no role on this sidecar", 403)
    return start_session(identity.username, roles.joined(held), "oidc", pending.next_url)


def _roles_of(identity: oidc.Identity) -> tuple[str, ...]:
    """The claim's roles when the provider sends them; else those assigned here to an enabled account."""
    if identity.roles_claimed is not None:
        return roles.known(identity.roles_claimed)
    with _registry().reading() as db:
        row = staff_accounts.enabled_account(db, identity.username)
        if row is None or row.kind != "oidc":
            return ()
        return tuple(row.roles.split(","))
