"""The bulk pages by role (issue 15), on SQLite and PostgreSQL, with named staff logged in for real (local
accounts: password and TOTP through /staff/login): a viewer gets 403 on the page, the template, the upload,
the issue and the results and changes nothing; a registrar uploads and issues, and the audit's bulk.uploaded,
bulk.issued and the intake's event.accepted name the registrar and the role.
"""
from __future__ import annotations

import json

import pyotp
from sqlalchemy import func, select

from bridge.registry import staff_accounts
from bridge.registry.models import AuditEntry, BulkBatch, BulkRow, Issuance
from tests.bulk.conftest import COURSE_KEY, batch_id_of, csrf, issue, learners, upload, xlsx

PASSWORD = "correct horse battery staple"
VIEWER, REGISTRAR = "vida.viewer@uni.example", "rokas.registrar@uni.example"


def _logged_in(app, ctx, username: str, role: str):  # noqa: ANN001, ANN202 - Flask's app and test client
    """A fresh browser logged in as a new local account holding `role` (password and a TOTP code)."""
    with ctx.registry.transaction() as db:
        secret = staff_accounts.add_account(db, username, (role,), "local", "test", PASSWORD, username).totp_secret
    browser = app.test_client()
    answer = browser.post("/staff/login", data={"username": username, "password": PASSWORD,
                                                "totp": pyotp.TOTP(secret).now(),
                                                "csrf_token": csrf(browser, "/staff/login")})
    assert answer.status_code == 303, answer.get_data(as_text=True)[:300]
    return browser


def _counts(ctx) -> tuple[int, int, int]:
    with ctx.registry.reading() as db:
        return tuple(db.execute(select(func.count()).select_from(model)).scalar_one()
                     for model in (BulkBatch, BulkRow, Issuance))


def _audited(ctx, action: str) -> list[tuple[str, str]]:
    with ctx.registry.reading() as db:
        entries = db.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)).scalars()
        return [(e.actor, json.loads(e.details).get("role")) for e in entries]


def test_a_viewer_is_refused_every_bulk_page_and_changes_nothing(app, ctx, course):
    viewer = _logged_in(app, ctx, VIEWER, "viewer")
    assert viewer.get("/staff/").status_code == 200  # logged in, and a viewer may read
    for path in ("/staff/bulk", f"/staff/bulk/template?course={COURSE_KEY}&format=csv"):
        refused = viewer.get(path)
        assert refused.status_code == 403 and "registrar" in refused.get_data(as_text=True)
    token = csrf(viewer, "/staff/")
    from io import BytesIO

    refused = viewer.post("/staff/bulk/upload", data={"csrf_token": token, "course": COURSE_KEY,
                                                      "file": (BytesIO(xlsx(learners(3))), "cohort.xlsx")},
                          content_type="multipart/form-data")
    assert refused.status_code == 403
    assert _counts(ctx) == (0, 0, 0)
    assert _audited(ctx, "bulk.uploaded") == []

    registrar = _logged_in(app, ctx, REGISTRAR, "registrar")
    batch = batch_id_of(upload(registrar, xlsx(learners(3))))
    before = _counts(ctx)
    assert before == (1, 3, 0)
    for path in (f"/staff/bulk/{batch}", f"/staff/bulk/{batch}/results.csv"):
        assert viewer.get(path).status_code == 403
    assert viewer.post(f"/staff/bulk/{batch}/issue", data={"csrf_token": token}).status_code == 403
    assert viewer.post(f"/staff/bulk/{batch}/issue", data={"csrf_token": token, "valid_only": "1"}).status_code == 403
    assert _counts(ctx) == before
    assert _audited(ctx, "bulk.issued") == []


def test_a_registrar_issues_and_the_audit_names_the_person_and_the_role(app, ctx, course):
    registrar = _logged_in(app, ctx, REGISTRAR, "registrar")
    batch = batch_id_of(upload(registrar, xlsx(learners(4))))
    assert issue(registrar, batch).status_code == 303
    assert _counts(ctx) == (1, 4, 4)
    assert "4 new issuances queued" in registrar.get(f"/staff/bulk/{batch}").get_data(as_text=True)
    assert _audited(ctx, "bulk.uploaded") == [(REGISTRAR, "registrar")]
    assert _audited(ctx, "bulk.issued") == [(REGISTRAR, "registrar")]
    assert _audited(ctx, "event.accepted") == [(REGISTRAR, "registrar")] * 4
