"""The pages each role opens (issue 15), on SQLite and PostgreSQL: a viewer reads the registry but not the
security or accounts pages, nor bulk; a security officer checks the audit chain (the check is audited with
their name and role); an admin changes roles and disables accounts from the page, which ends the person's
sessions; a viewer token cannot use the bulk API.
"""
from __future__ import annotations

import json

import pyotp
from sqlalchemy import select

from bridge.registry import staff_accounts
from bridge.registry.models import AuditEntry, StaffAccount
from tests.sidecar.conftest import pilot_spec, put_spec
from tests.staff.conftest import csrf
from tests.staff.test_local_accounts import PASSWORD, _add, _login


def _as(app, username: str, held: tuple[str, ...]):
    ctx = app.extensions["edc"]
    secret = _add(ctx, username, held)
    client = app.test_client()
    assert _login(client, username, PASSWORD, pyotp.TOTP(secret).now()).status_code == 303
    return client


def test_a_viewer_reads_but_opens_no_security_accounts_or_bulk_page(app):
    viewer = _as(app, "vera", ("viewer",))
    dashboard = viewer.get("/staff/")
    assert dashboard.status_code == 200
    html = dashboard.get_data(as_text=True)
    assert "/staff/security" not in html and "/staff/accounts" not in html and "/staff/bulk" not in html
    assert viewer.get("/staff/credentials").status_code == 200
    for path in ("/staff/security", "/staff/accounts", "/staff/bulk"):
        refused = viewer.get(path)
        assert refused.status_code == 403, path
    assert "security officer" in viewer.get("/staff/security").get_data(as_text=True)
    assert viewer.get("/staff/security?lang=lt").status_code == 403


def test_a_security_officer_checks_the_audit_chain_and_the_check_is_audited(app):
    ctx = app.extensions["edc"]
    officer = _as(app, "sigita", ("security_officer",))
    page = officer.get("/staff/security")
    assert page.status_code == 200 and 'id="tile-seal"' in page.get_data(as_text=True)
    assert officer.get("/staff/accounts").status_code == 403
    checked = officer.post("/staff/security/audit-check", data={"csrf_token": csrf(page.get_data(as_text=True))})
    html = checked.get_data(as_text=True)
    assert checked.status_code == 200 and 'id="audit-verdict"' in html and "Intact" in html
    with ctx.registry.reading() as db:
        entry = db.execute(select(AuditEntry).where(AuditEntry.action == "audit.checked")).scalar_one()
    details = json.loads(entry.details)
    assert entry.actor == "sigita" and details["role"] == "security_officer" and details["ok"] is True


def test_an_admin_changes_roles_and_disables_from_the_page(app):
    ctx = app.extensions["edc"]
    ona = _as(app, "ona", ("viewer",))
    admin = _as(app, "adomas", ("admin",))
    page = admin.get("/staff/accounts")
    assert page.status_code == 200 and 'data-username="ona"' in page.get_data(as_text=True)
    token = csrf(page.get_data(as_text=True))
    done = admin.post("/staff/accounts/ona/roles", data={"csrf_token": token, "role_registrar": "1",
                                                         "role_security_officer": "1"})
    assert done.status_code == 303
    with ctx.registry.reading() as db:
        assert db.get(StaffAccount, "ona").roles == "registrar,security_officer"
    assert ona.get("/staff/").status_code == 303  # her session ended with the change
    refused = admin.post("/staff/accounts/ona/roles", data={"csrf_token": token})
    assert refused.status_code == 303
    with ctx.registry.reading() as db:
        assert db.get(StaffAccount, "ona").roles == "registrar,security_officer"  # no role chosen: nothing changed
    assert admin.post("/staff/accounts/ona/disable", data={"csrf_token": token}).status_code == 303
    with ctx.registry.reading() as db:
        assert db.get(StaffAccount, "ona").disabled_at is not None
        entries = list(db.execute(select(AuditEntry).where(AuditEntry.subject == "ona",
                                                             AuditEntry.action.like("staff.%"))).scalars())
    assert {(e.action, e.actor, json.loads(e.details).get("role")) for e in entries} >= {
        ("staff.roles_changed", "adomas", "admin"), ("staff.account_disabled", "adomas", "admin")}


def test_a_viewer_token_cannot_use_the_bulk_api(app):
    ctx = app.extensions["edc"]
    with ctx.registry.transaction() as db:
        viewer = staff_accounts.add_token(db, "reports", ("viewer",), "test")
        registrar = staff_accounts.add_token(db, "sis", ("registrar",), "test")
    client = app.test_client()
    assert put_spec(client, 1, pilot_spec()).status_code in (200, 201)
    path = "/api/v1/bulk/template?course=demo/1&format=csv"
    assert client.get(path, headers={"Authorization": f"Bearer {viewer}"}).status_code == 403
    answer = client.get(path, headers={"Authorization": f"Bearer {registrar}"})
    assert answer.status_code == 200, answer.get_data(as_text=True)[:200]
