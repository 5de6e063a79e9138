"""Named API tokens with roles (issue 15), on SQLite and PostgreSQL: EDC_API_TOKENS and tokens kept in the
registry (hashed); a viewer token reads but cannot revoke (403, nothing changed), a registrar token revokes
and the audit says `api-token:<name>` with the role; EDC_STAFF_TOKEN stays one admin token; every staff page
and staff API route declares the role it needs.
"""
from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import select

from bridge import worker
from bridge.app import create_app, stop_app
from bridge.registry import staff_accounts
from bridge.registry.models import ApiToken, AuditEntry, Revocation
from bridge.settings import Settings, SettingsError
from bridge.staff import roles
from tests.sidecar.conftest import STAFF_HEADERS, make_event, pilot_spec, post_event, put_spec

VIEWER_SECRET = "viewer-token-secret-0123456789abcdef"
REGISTRAR_SECRET = "registrar-token-secret-0123456789abcdef"


@pytest.fixture
def token_app(settings, channels):
    env = {"EDC_API_TOKENS": f"reports:viewer:{VIEWER_SECRET}; sis-sync:registrar:{REGISTRAR_SECRET}"}
    configured = dataclasses.replace(settings, api_tokens=Settings.from_env(env).api_tokens)
    application = create_app(configured, channels=channels)
    yield application
    stop_app(application)
    application.extensions["edc"].registry.dispose()


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _issue_one(app) -> str:
    client, ctx = app.test_client(), app.extensions["edc"]
    put_spec(client, 1, pilot_spec())
    assert post_event(client, make_event()).status_code == 202
    assert worker.drain(ctx) == 1
    return client.get("/api/v1/credentials", headers=STAFF_HEADERS).json["items"][0]["id"]


def test_a_viewer_token_reads_and_cannot_revoke_a_registrar_token_can(token_app):
    cid, client, ctx = _issue_one(token_app), token_app.test_client(), token_app.extensions["edc"]
    assert client.get(f"/api/v1/credentials/{cid}", headers=_bearer(VIEWER_SECRET)).status_code == 200
    refused = client.post(f"/api/v1/credentials/{cid}/revoke", json={"reason": "test"}, headers=_bearer(VIEWER_SECRET))
    assert refused.status_code == 403 and "registrar" in refused.json["problems"][0]["message"]
    with ctx.registry.reading() as db:
        assert db.execute(select(Revocation)).first() is None
    done = client.post(f"/api/v1/credentials/{cid}/revoke", json={"reason": "issued in error"},
                       headers=_bearer(REGISTRAR_SECRET))
    assert done.status_code == 200 and done.json["revocation"]["by"] == "api-token:sis-sync"
    with ctx.registry.reading() as db:
        entry = db.execute(select(AuditEntry).where(AuditEntry.action == "credential.revoked")).scalar_one()
    assert entry.actor == "api-token:sis-sync" and json.loads(entry.details)["role"] == "registrar"
    assert REGISTRAR_SECRET not in entry.details


def test_the_shared_staff_token_is_one_admin_token(token_app):
    cid, client = _issue_one(token_app), token_app.test_client()
    done = client.post(f"/api/v1/credentials/{cid}/revoke", json={"reason": "x"}, headers=STAFF_HEADERS)
    assert done.status_code == 200 and done.json["revocation"]["by"] == "staff"


def test_registry_tokens_are_stored_hashed_and_can_be_disabled(token_app):
    cid, client, ctx = _issue_one(token_app), token_app.test_client(), token_app.extensions["edc"]
    with ctx.registry.transaction() as db:
        secret = staff_accounts.add_token(db, "auditors", ("security_officer",), "test")
    with ctx.registry.reading() as db:
        row = db.get(ApiToken, "auditors")
    assert secret not in json.dumps([str(v) for v in vars(row).values()])
    assert client.get(f"/api/v1/credentials/{cid}", headers=_bearer(secret)).status_code == 200  # includes viewer
    assert client.post(f"/api/v1/deliveries/1/retry", headers=_bearer(secret)).status_code == 403
    with ctx.registry.transaction() as db:
        staff_accounts.disable_token(db, "auditors", "test")
    assert client.get(f"/api/v1/credentials/{cid}", headers=_bearer(secret)).status_code == 401


def test_an_unknown_token_is_refused_and_counted(token_app):
    client, ctx = token_app.test_client(), token_app.extensions["edc"]
    assert client.get("/api/v1/credentials", headers=_bearer("not-a-token-of-anyone-000000")).status_code == 401
    with ctx.registry.reading() as db:
        (entry,) = db.execute(select(AuditEntry).where(AuditEntry.action == "staff.auth_failed")).scalars()
    assert "not-a-token" not in entry.details and json.loads(entry.details)["via"] == "api"


def test_bad_token_entries_are_refused_naming_the_entry_not_the_secret():
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"EDC_API_TOKENS": "ci:boss:" + "s" * 30})
    assert "entry 1" in str(refused.value) and "unknown role 'boss'" in str(refused.value)
    assert "sss" not in str(refused.value)
    with pytest.raises(SettingsError, match="at least 24 characters"):
        Settings.from_env({"EDC_API_TOKENS": "ci:viewer:short"})
    with pytest.raises(SettingsError, match="given twice"):
        Settings.from_env({"EDC_API_TOKENS": f"ci:viewer:{'a' * 30};ci:admin:{'b' * 30}"})


STAFF_API_PREFIXES = ("/api/v1/credentials", "/api/v1/deliveries", "/api/v1/programmes", "/api/v1/programme-awards",
                      "/api/v1/courses", "/api/v1/issuances/", "/api/v1/bulk")
MOODLE_ONLY = {"/api/v1/events", "/api/v1/issuances", "/api/v1/credentials/<cred_id>/sharing",
               "/api/v1/credentials/<cred_id>/wallet-code",
               "/api/v1/credentials/<cred_id>/pdf"}


def test_every_staff_page_and_staff_api_route_declares_its_role(app):
    undeclared = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        staff_page = rule.rule.startswith("/staff")
        staff_api = rule.rule.startswith(STAFF_API_PREFIXES) and rule.rule not in MOODLE_ONLY
        if (staff_page or staff_api) and roles.required(view) is None:
            undeclared.append(rule.rule)
    assert undeclared == []
    needed = {rule.rule: roles.required(app.view_functions[rule.endpoint]) for rule in app.url_map.iter_rules()}
    assert needed["/staff/credentials/<credential_id>/revoke"] == roles.REGISTRAR
    assert needed["/api/v1/credentials/<cred_id>/revoke"] == roles.REGISTRAR
    assert needed["/staff/credentials"] == roles.VIEWER
    assert needed["/staff/login"] == roles.PUBLIC
