"""Staff access (issue 11, points 3, 4, 5 and 9), on SQLite and PostgreSQL:

- every cell of the staff CSV export is escaped against spreadsheet formulas (one function, every column);
- staff sessions live in the registry: logout, expiry, a role change and a rotated token end them for
  every copy of the cookie, and the CSRF token dies with the session;
- wrong staff tokens (login page and Bearer API, one budget per client address, kept in the registry so
  every process sees it) are audited without the secret and answered 429 with Retry-After once spent;
- the audit actor is who authenticated; what a caller says about who asked goes into the details.
"""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import json
import re

import pytest
from hypothesis import given, strategies as st
from sqlalchemy import select, update

from bridge import worker
from bridge.app import create_app, stop_app
from bridge.presentation.spreadsheet import FORMULA_SIGNS, IGNORED_LEAD, csv_line, safe_cell
from bridge.registry import staff_access
from bridge.registry.models import AuditEntry, AuthFailure, StaffSession, utcnow
from bridge.settings import Settings, SettingsError
from tests.sidecar.conftest import STAFF, STAFF_HEADERS, make_event, pilot_learner, pilot_spec, post_event, put_spec
from tests.sidecar.test_openapi import Checked

FORMULA = "=cmd|' /C calc'!A0"


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the form has no CSRF token"
    return match.group(1)


def _login(client, token: str = STAFF, **kw):
    page = client.get("/staff/login", **kw).get_data(as_text=True)
    return client.post("/staff/login", data={"token": token, "csrf_token": _csrf(page)}, **kw)


def _staff_cookie(answer) -> str:
    """The staff cookie's value exactly as the server set it (what a thief would copy)."""
    for header in answer.headers.getlist("Set-Cookie"):
        if header.startswith("edc_staff="):
            return header.split(";", 1)[0].split("=", 1)[1]
    raise AssertionError(f"no edc_staff cookie in {answer.headers.getlist('Set-Cookie')}")


def _issue_one(client, ctx, course_shortname: str = "DATA101", learner: dict | None = None) -> str:
    put_spec(client, 1, pilot_spec())
    event = make_event(1, learner)
    event["course"]["shortname"] = course_shortname
    assert post_event(client, event).status_code == 202
    assert worker.drain(ctx) == 1
    return client.get("/api/v1/credentials", headers=STAFF_HEADERS).json["items"][0]["id"]


def _audit(ctx, action: str) -> list[AuditEntry]:
    with ctx.registry.reading() as db:
        return list(db.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)).scalars())


# --- 3. CSV formula injection --------------------------------------------------------------------


def test_every_cell_of_the_csv_export_is_escaped(client, ctx):
    learner = dict(pilot_learner(), given_names="@SUM(1+1)", family_name="+Jonaitė")
    _issue_one(client, ctx, FORMULA, learner)
    assert _login(client).status_code == 303
    answer = client.get("/staff/credentials.csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert len(rows) == 2
    for cell in rows[0] + rows[1]:
        assert cell.lstrip(IGNORED_LEAD)[:1] not in FORMULA_SIGNS, cell
    record = dict(zip(rows[0], rows[1]))
    assert record["course"] == "'" + FORMULA  # the column the attack run found unescaped
    assert record["learner_name"] == "'@SUM(1+1) +Jonaitė"


@given(st.text(alphabet=st.sampled_from(list("=+-@\t\r\n \x00'abc1\uff1d\u3000")), max_size=8))
def test_no_cell_can_start_a_formula(text):
    cell = safe_cell(text)
    assert cell == text or cell == "'" + text
    if cell == text:
        assert text.lstrip(IGNORED_LEAD)[:1] not in FORMULA_SIGNS and text[:1] not in ("\t", "\r", "\n")
    parsed = next(csv.reader(io.StringIO(csv_line([text, None, 12]))))
    assert parsed == [cell, "", "12"]


# --- 4. server-side sessions ---------------------------------------------------------------------


def _copy(cookie: str) -> dict[str, str]:
    return {"Cookie": f"edc_staff={cookie}"}


def _thief(app):
    """A client that sends exactly the Cookie header it is given (no jar of its own)."""
    return app.test_client(use_cookies=False)


def test_logout_ends_the_session_for_every_copy_of_the_cookie(client, ctx, app):
    cid = _issue_one(client, ctx)
    cookie = _staff_cookie(_login(client))
    thief = _thief(app)
    page = thief.get(f"/staff/credentials/{cid}", headers=_copy(cookie))
    assert page.status_code == 200  # the copy works while the session is open ...
    token = _csrf(page.get_data(as_text=True))
    assert client.post("/staff/logout", data={"csrf_token": token}).status_code == 303
    assert thief.get("/staff/", headers=_copy(cookie)).status_code == 303  # ... and not after logout
    forged = thief.post(f"/staff/credentials/{cid}/revoke", data={"csrf_token": token, "reason": "stolen cookie"},
                        headers=_copy(cookie))
    assert forged.status_code == 303 and "/staff/login" in forged.headers["Location"]
    assert client.get(f"/api/v1/credentials/{cid}", headers=STAFF_HEADERS).json["status"] == "issued"
    with ctx.registry.reading() as db:
        row = db.execute(select(StaffSession)).scalar_one()
    assert row.revoked_reason == "logout" and row.revoked_at is not None
    assert [e.actor for e in _audit(ctx, "staff.logout")] == ["staff"]


def test_the_cookie_holds_only_a_random_id_and_the_registry_only_its_hash(client, ctx):
    answer = _login(client)
    cookie = _staff_cookie(answer)
    header = next(h for h in answer.headers.getlist("Set-Cookie") if h.startswith("edc_staff="))
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", cookie)
    for flag in ("HttpOnly", "SameSite=Strict", "Secure", "Path=/staff"):
        assert flag in header, header
    with ctx.registry.reading() as db:
        row = db.execute(select(StaffSession)).scalar_one()
    assert row.id_hash == hashlib.sha256(cookie.encode()).hexdigest()
    assert cookie not in json.dumps([str(v) for v in vars(row).values()])
    assert (row.actor, row.role) == ("staff", "admin")  # EDC_STAFF_TOKEN: one admin token (issue 15)
    assert dt.timedelta(hours=7, minutes=59) < row.expires_at - row.created_at <= dt.timedelta(hours=8)


def test_an_expired_session_opens_nothing(client, ctx, app):
    cookie = _staff_cookie(_login(client))
    assert _thief(app).get("/staff/", headers=_copy(cookie)).status_code == 200
    with ctx.registry.transaction() as db:
        db.execute(update(StaffSession).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    assert _thief(app).get("/staff/", headers=_copy(cookie)).status_code == 303
    with ctx.registry.transaction() as db:
        assert staff_access.purge_sessions(db) == 1


def test_a_role_change_ends_every_session_of_that_actor(client, ctx, app):
    first, second = _staff_cookie(_login(client)), _staff_cookie(_login(app.test_client()))
    with ctx.registry.transaction() as db:
        assert staff_access.end_sessions_of(db, "staff", "role_changed") == 2
    for cookie in (first, second):
        assert _thief(app).get("/staff/", headers=_copy(cookie)).status_code == 303


def test_a_rotated_staff_token_ends_the_sessions_it_opened(client, settings, channels):
    cookie = _staff_cookie(_login(client))
    rotated = create_app(dataclasses.replace(settings, staff_token="rotated-" + STAFF), channels=channels)
    try:
        assert _thief(rotated).get("/staff/", headers=_copy(cookie)).status_code == 303
    finally:
        stop_app(rotated)
        rotated.extensions["edc"].registry.dispose()


def test_the_csrf_token_is_bound_to_the_server_side_session(client, ctx, app):
    cid = _issue_one(client, ctx)
    _login(client)
    old_token = _csrf(client.get(f"/staff/credentials/{cid}").get_data(as_text=True))
    other = app.test_client()
    _login(other)
    refused = other.post(f"/staff/credentials/{cid}/revoke", data={"csrf_token": old_token, "reason": "x"})
    assert refused.status_code == 303
    assert client.get(f"/api/v1/credentials/{cid}", headers=STAFF_HEADERS).json["status"] == "issued"
    _login(client)  # a new login is a new session: the token of the one before is worth nothing
    assert _csrf(client.get(f"/staff/credentials/{cid}").get_data(as_text=True)) != old_token
    client.post(f"/staff/credentials/{cid}/revoke", data={"csrf_token": old_token, "reason": "x"})
    assert client.get(f"/api/v1/credentials/{cid}", headers=STAFF_HEADERS).json["status"] == "issued"
    with ctx.registry.reading() as db:
        reasons = sorted(str(r.revoked_reason) for r in db.execute(select(StaffSession)).scalars())
    assert reasons == ["None", "None", "replaced"]


# --- 5. throttling failed attempts ---------------------------------------------------------------


@pytest.fixture
def strict(settings, channels):
    """The same registry, with a budget of 3 failures a minute (the other tests' fixture sets it high)."""
    application = create_app(dataclasses.replace(settings, staff_auth_limit="3/minute"), channels=channels)
    yield application
    stop_app(application)
    application.extensions["edc"].registry.dispose()


def test_wrong_logins_are_audited_then_answered_429(strict):
    ctx, browser = strict.extensions["edc"], strict.test_client()
    for n in range(3):
        assert _login(browser, f"guess-{n}").status_code == 401
    refused = _login(browser)  # the right token: not even compared once the budget is spent
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Too many wrong tokens" in refused.get_data(as_text=True)
    lt = _login(browser, query_string={"lang": "lt"})
    assert "per daug kartų" in lt.get_data(as_text=True) and lt.status_code == 429
    entries = _audit(ctx, "staff.auth_failed")
    assert [(e.actor, json.loads(e.details)["via"], json.loads(e.details)["from"]) for e in entries] == \
        [("anonymous", "login", "127.0.0.1")] * 3
    assert json.loads(entries[-1].details)["throttled"] is True
    assert not any(f"guess-{n}" in e.details for e in entries for n in range(3))
    other = strict.test_client()  # another address has its own budget
    assert _login(other, environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 303


def test_wrong_bearer_tokens_share_the_budget_across_processes(strict, settings, channels):
    """Two app instances with their own registry handles stand for two processes (or replicas): the count
    is only in the registry, so what one refused, the other refuses too."""
    second = create_app(dataclasses.replace(settings, staff_auth_limit="3/minute"), channels=channels)
    try:
        one, two = strict.test_client(), second.test_client()
        assert one.get("/api/v1/credentials", headers={"Authorization": "Bearer nope"}).status_code == 401
        assert two.get("/api/v1/credentials", headers={"Authorization": "Basic c3RhZmY="}).status_code == 401
        assert _login(one, "wrong").status_code == 401  # the login page spends the same budget
        throttled = Checked()("/api/v1/credentials", "get", two.get("/api/v1/credentials", headers=STAFF_HEADERS), 429)
        assert 1 <= int(throttled.headers["Retry-After"]) <= 60
        assert throttled.json["problems"][0]["pointer"] == "Authorization"
        assert one.get("/api/v1/deliveries", headers=STAFF_HEADERS).status_code == 429
        assert _login(two).status_code == 429
        entries = _audit(strict.extensions["edc"], "staff.auth_failed")
        assert [json.loads(e.details)["via"] for e in entries] == ["api", "api", "login"]
        assert not any("nope" in e.details or "c3RhZmY" in e.details for e in entries)
        with strict.extensions["edc"].registry.transaction() as db:  # the window passes ...
            db.execute(update(AuthFailure).values(at=utcnow() - dt.timedelta(minutes=2)))
        assert two.get("/api/v1/credentials", headers=STAFF_HEADERS).status_code == 200  # ... and it is over
        with strict.extensions["edc"].registry.transaction() as db:
            assert staff_access.purge_failures(db, staff_access.Budget(3, 60)) == 3
        metrics = one.get("/metrics").get_data(as_text=True)
        assert 'edc_staff_auth_refused_total{reason="wrong"}' in metrics
    finally:
        stop_app(second)
        second.extensions["edc"].registry.dispose()


def test_a_right_token_clears_the_count(strict):
    client, wrong = strict.test_client(), {"Authorization": "Bearer wrong"}
    assert [client.get("/api/v1/credentials", headers=h).status_code for h in (wrong, wrong, STAFF_HEADERS)] == \
        [401, 401, 200]
    assert [client.get("/api/v1/credentials", headers=wrong).status_code for _ in range(3)] == [401, 401, 401]
    assert client.get("/api/v1/credentials", headers=STAFF_HEADERS).status_code == 429


def test_requests_without_credentials_spend_no_budget(strict):
    client = strict.test_client()
    for _ in range(5):
        assert client.get("/api/v1/credentials").status_code == 401
    assert client.get("/api/v1/credentials", headers=STAFF_HEADERS).status_code == 200


def test_the_budget_setting_is_checked_at_start():
    assert Settings.from_env({"EDC_STAFF_AUTH_LIMIT": "5/10minutes"}).staff_auth_budget == (5, 600)
    assert Settings.from_env({}).staff_auth_budget == (10, 900)
    with pytest.raises(SettingsError, match="EDC_STAFF_AUTH_LIMIT"):
        Settings.from_env({"EDC_STAFF_AUTH_LIMIT": "lots"})


# --- 9. the audit actor is who authenticated -----------------------------------------------------


def test_the_callers_by_is_a_note_not_the_audit_actor(client, ctx):
    cid = _issue_one(client, ctx)
    answer = client.post(f"/api/v1/credentials/{cid}/revoke", json={"reason": "issued in error", "by": "moodle:sec"},
                         headers=STAFF_HEADERS)
    assert answer.status_code == 200 and answer.json["revocation"]["by"] == "staff"
    (entry,) = _audit(ctx, "credential.revoked")
    assert entry.actor == "staff"
    assert json.loads(entry.details)["requested_by_note"] == "moodle:sec"


@pytest.mark.parametrize("body, pointer", [
    ({"reason": "x", "by": 7}, "/by"),
    ({"reason": "x", "by": "x" * 256}, "/by"),
])
def test_a_note_that_is_not_short_text_is_refused_naming_it(client, ctx, body, pointer):
    cid = _issue_one(client, ctx)
    answer = client.post(f"/api/v1/credentials/{cid}/revoke", json=body, headers=STAFF_HEADERS)
    assert answer.status_code == 400 and answer.json["problems"][0]["pointer"] == pointer
    assert client.get(f"/api/v1/credentials/{cid}", headers=STAFF_HEADERS).json["status"] == "issued"


def test_a_reissue_reason_must_be_text(client, ctx):
    cid = _issue_one(client, ctx)
    answer = client.post(f"/api/v1/credentials/{cid}/reissue", json={"reason": {"actor": "moodle:sec"}},
                         headers=STAFF_HEADERS)
    assert answer.status_code == 400 and answer.json["problems"][0]["pointer"] == "/reason"
    assert _audit(ctx, "credential.reissue_requested") == []


def test_staff_page_changes_are_audited_as_the_session_actor(client, ctx):
    cid = _issue_one(client, ctx)
    _login(client)
    token = _csrf(client.get(f"/staff/credentials/{cid}").get_data(as_text=True))
    client.post(f"/staff/credentials/{cid}/revoke",
                data={"csrf_token": token, "reason": "wrong course", "by": "moodle:sec", "actor": "moodle:sec"})
    (entry,) = _audit(ctx, "credential.revoked")
    assert entry.actor == "staff" and "moodle:sec" not in entry.details


# --- the migration -------------------------------------------------------------------------------


def test_the_migration_creates_the_tables_the_models_describe(ctx):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bridge.registry.models import Base

    with ctx.registry.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    ours = [d for d in differences if any(name in repr(d) for name in ("staff_sessions", "auth_failures"))]
    assert ours == []
