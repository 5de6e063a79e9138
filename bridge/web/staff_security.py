"""The security officer's page and the admin's accounts page (issue 15, named staff and roles).

/staff/security (security officer): the seal and its certificate's expiry, the EU trusted lists' freshness,
and the audit trail's hash chain checked on request (the check itself is audited, with its verdict and the
head it saw, so a later check can prove nothing was cut off since). /staff/accounts (admin): every staff
account and registry API token with its roles; roles changed and accounts disabled here end the person's
sessions at once, as `edc-bridge staff role|disable` do. Accounts are added with the CLI, which alone may
show a new TOTP secret (to the operator's terminal, once).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, request, url_for
from sqlalchemy import select

from bridge.registry import audit, staff_accounts
from bridge.registry.models import ApiToken, AuditEntry
from bridge.staff import roles
from bridge.trusted_lists_source import status_of as trusted_lists_status
from bridge.web import i18n
from bridge.web.public import _context, _registry
from bridge.web.staff import _actor, _render, _seal_state, role_word, staff


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    entries: int
    head: str
    problem: str | None


@staff.get("/security")
@roles.needs(roles.SECURITY_OFFICER)
def security():
    return _render("staff/security.html", seal=_seal_state(), trusted_lists=trusted_lists_status(_context()),
                   check=None)


@staff.post("/security/audit-check")
@roles.needs(roles.SECURITY_OFFICER)
def audit_check():
    """Walk the whole chain now; the verdict is shown and recorded in the trail itself."""
    registry = _registry()
    if registry.dialect == "postgresql":
        audit.link_all(registry.engine)  # entries committed a moment ago and not linked yet
    with registry.reading() as db:
        rows = db.execute(select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=1000)).scalars()
        verdict = audit.verify_chain(rows)
    check = ChainCheck(verdict.ok, verdict.entries, verdict.head, verdict.problem)
    with registry.transaction() as db:
        audit.append(db, _actor(), "audit.checked", "audit", {"ok": verdict.ok, "entries": verdict.entries,
                                                              "head": verdict.head, "problem": verdict.problem})
    return _render("staff/security.html", seal=_seal_state(), trusted_lists=trusted_lists_status(_context()),
                   check=check)


@dataclass(frozen=True)
class AccountRow:
    username: str
    kind: str
    roles: tuple[str, ...]
    role_words: str
    enabled: bool
    last_login: str


@staff.get("/accounts")
@roles.needs(roles.ADMIN)
def accounts():
    with _registry().reading() as db:
        rows = [AccountRow(a.username, a.kind, tuple(a.roles.split(",")),
                           ", ".join(role_word(r) for r in a.roles.split(",")), a.disabled_at is None,
                           a.last_login_at.strftime("%Y-%m-%d %H:%M") if a.last_login_at else "—")
                for a in staff_accounts.accounts(db)]
        tokens = [(t.name, ", ".join(role_word(r) for r in t.roles.split(",")), t.disabled_at is None)
                  for t in db.execute(select(ApiToken).order_by(ApiToken.name)).scalars()]
    return _render("staff/accounts.html", rows=rows, tokens=tokens, role_names=roles.NAMES, role_word=role_word)


@staff.post("/accounts/<path:username>/roles")
@roles.needs(roles.ADMIN)
def account_roles(username: str):
    chosen = [name for name in roles.NAMES if request.form.get(f"role_{name}")]
    if not chosen:
        flash(i18n.t("accounts_no_role"), "error")
        return redirect(url_for("staff.accounts"), 303)
    try:
        with _registry().transaction() as db:
            staff_accounts.set_roles(db, username, tuple(chosen), _actor())
    except staff_accounts.AccountError as exc:
        flash(str(exc), "error")
        return redirect(url_for("staff.accounts"), 303)
    flash(i18n.t("accounts_roles_done", username=username), "ok")
    return redirect(url_for("staff.accounts"), 303)


@staff.post("/accounts/<path:username>/disable")
@roles.needs(roles.ADMIN)
def account_disable(username: str):
    try:
        with _registry().transaction() as db:
            staff_accounts.disable(db, username, _actor())
    except staff_accounts.AccountError as exc:
        flash(str(exc), "error")
        return redirect(url_for("staff.accounts"), 303)
    flash(i18n.t("accounts_disabled_done", username=username), "ok")
    return redirect(url_for("staff.accounts"), 303)
