"""Configuration from the environment (secrets out of reprs), a teacher's request, and nonce cleanup."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from bridge import worker
from bridge.intake.auth import purge_expired_nonces
from bridge.registry.models import Nonce
from bridge.settings import Settings, SettingsError
from tests.sidecar.conftest import STAFF_HEADERS, make_event, pilot_spec, post_event, put_spec


def test_settings_from_environment_and_secrets_hidden(tmp_path):
    keys = tmp_path / "keys"
    keys.write_text("# rotated 2026-11\nold=first-secret\nnew=second-secret\n")
    s = Settings.from_env({"EDC_INTAKE_KEYS_FILE": str(keys), "EDC_INTAKE_KEYS": "extra=third-secret",
                           "EDC_STAFF_TOKEN": "staff-secret", "EDC_PIN": "1234-pin",
                           "EDC_SMTP_URL": "smtp+starttls://u:mail-pass@mx:587", "EDC_MOODLE_URL": "https://m",
                           "EDC_MOODLE_TOKEN": "moodle-secret", "EDC_WORKERS": "4", "EDC_FORMATS": "edc-xml",
                           "EDC_PUBLIC_URL": "https://edc.example/", "EDC_LEASE_SECONDS": "3",
                           "EDC_RETRY_BASE_SECONDS": "0.5"})
    assert dict(s.intake_keys) == {"old": "first-secret", "new": "second-secret", "extra": "third-secret"}
    assert s.workers == 4 and s.public_url == "https://edc.example" and s.channels == ("email", "moodle")
    assert s.lease_seconds == 3 and s.retry_base_seconds == 0.5
    assert s.database_url.startswith("sqlite:///") and s.database_url.endswith("var/registry.sqlite3")
    text = repr(s)
    for secret in ("first-secret", "third-secret", "staff-secret", "1234-pin", "mail-pass", "moodle-secret"):
        assert secret not in text


@pytest.mark.parametrize("env, name", [
    ({"EDC_WORKERS": "many"}, "EDC_WORKERS"),
    ({"EDC_WORKERS": "0"}, "EDC_WORKERS"),
    ({"EDC_INTAKE_KEYS": "no-equals-sign"}, "EDC_INTAKE_KEYS"),
    ({"EDC_FORMATS": "pdf"}, "EDC_FORMATS"),
    ({"EDC_INTAKE_KEYS_FILE": "/nonexistent/keys"}, "EDC_INTAKE_KEYS_FILE"),
    ({"EDC_RETRY_BASE_SECONDS": "-1"}, "EDC_RETRY_BASE_SECONDS"),
    ({"EDC_MAIL_FROM": "Registrar <registrar@universitätsmail.example>"}, "EDC_MAIL_FROM"),
    ({"EDC_MAIL_FROM": "credentials@uni.example, other@uni.example"}, "EDC_MAIL_FROM"),
    ({"EDC_MAIL_FROM": "not an address"}, "EDC_MAIL_FROM"),
])
def test_bad_settings_name_the_variable(env, name):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(env)


def test_a_display_name_in_any_script_is_a_good_mail_from():
    assert Settings.from_env({"EDC_MAIL_FROM": "Vilniaus universitetas — Registratūra <credentials@vu.example>"}).mail_from


def test_teacher_request_needs_requested_by_and_issues(client, ctx):
    put_spec(client, 1, pilot_spec())
    no_teacher = make_event(kind="issue_requested", completed_at=None)
    r = post_event(client, no_teacher)
    assert r.status_code == 400 and any(p["pointer"].startswith("/requested_by") for p in r.json["problems"])
    ok = post_event(client, make_event(kind="issue_requested", completed_at=None, requested_by=2))
    assert ok.status_code == 202
    assert worker.drain(ctx) == 1
    row = client.get(f"/api/v1/issuances/{ok.json['issuance_id']}", headers=STAFF_HEADERS).json
    assert row["kind"] == "issue_requested" and row["status"] == "delivered"


def test_teacher_request_for_a_learner_who_has_the_credential_returns_it(client, ctx):
    put_spec(client, 1, pilot_spec())
    completed = post_event(client, make_event()).json["issuance_id"]
    worker.drain(ctx)
    click = post_event(client, make_event(kind="issue_requested", completed_at=None, requested_by=2))
    assert click.status_code == 202 and click.json["issuance_id"] == completed and click.json["duplicate"] is True
    credential = client.get(f"/api/v1/issuances/{completed}", headers=STAFF_HEADERS).json["credential_id"]
    client.post(f"/api/v1/credentials/{credential}/revoke", json={"reason": "wrong course"}, headers=STAFF_HEADERS)
    again = post_event(client, make_event(kind="issue_requested", completed_at="2026-11-28T11:00:00Z",
                                          requested_by=2))
    assert again.json["issuance_id"] != completed and again.json["duplicate"] is False
    assert worker.drain(ctx) == 1


def test_expired_nonces_are_purged_but_fresh_ones_kept(client, ctx):
    post_event(client, make_event())
    post_event(client, make_event(2))
    with ctx.registry.transaction() as s:
        first = s.execute(select(Nonce).limit(1)).scalar_one()
        s.execute(update(Nonce).where(Nonce.nonce == first.nonce).values(
            expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
    with ctx.registry.transaction() as s:
        assert purge_expired_nonces(s) == 1
    with ctx.registry.sessions() as s:
        assert s.execute(select(func.count()).select_from(Nonce)).scalar_one() == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_elm3_format_is_issued_stored_and_verified(settings, channels):
    import dataclasses

    from bridge.app import create_app, stop_app

    app = create_app(dataclasses.replace(settings, formats=("elm3-jsonld",)), channels=channels)
    try:
        client, ctx = app.test_client(), app.extensions["edc"]
        put_spec(client, 1, pilot_spec())
        post_event(client, make_event())
        assert worker.drain(ctx) == 1
        item = client.get("/api/v1/credentials", headers=STAFF_HEADERS).json["items"][0]
        assert item["format"] == "elm3-jsonld" and item["stored_size"] < item["size"] / 2
        document = client.get(f"/api/v1/credentials/{item['id']}.xml", headers=STAFF_HEADERS)
        assert document.mimetype == "application/ld+json"
        verdict = client.post("/api/v1/verify", data=document.data, content_type="application/ld+json").json
        assert verdict["valid"] is True and verdict["format"] == "elm3-jsonld", verdict["problems"]
        assert channels["email"].jobs[0].filename.endswith(".json")
    finally:
        stop_app(app)
        app.extensions["edc"].registry.dispose()
