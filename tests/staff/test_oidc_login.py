"""Staff log in through a real OpenID Connect provider (oidc-provider on loopback; tests/staff/conftest.py),
on SQLite and PostgreSQL: the login works and names the person; a replayed code, a wrong nonce, a wrong
audience, a wrong issuer, an expired, an unsigned or a foreign-key-signed ID token are refused (the forged
ones are signed with the provider's own key and given to the callback's checker); a viewer cannot revoke
(403 and nothing changed) while a registrar can, and the audit names the person and the role.
"""
from __future__ import annotations

import base64
import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import select, update

from bridge import worker
from bridge.registry import staff_accounts
from bridge.registry.models import AuditEntry, OidcLogin, Revocation, StaffSession
from bridge.staff import oidc
from tests.sidecar.conftest import STAFF_HEADERS, make_event, pilot_spec, post_event, put_spec
from tests.staff.conftest import (CLIENT_ID, at_provider, callback_path, csrf, oidc_login)


def _issue_one(app) -> str:
    client, ctx = app.test_client(), app.extensions["edc"]
    put_spec(client, 1, pilot_spec())
    assert post_event(client, make_event()).status_code == 202
    assert worker.drain(ctx) == 1
    return client.get("/api/v1/credentials", headers=STAFF_HEADERS).json["items"][0]["id"]


def _audit(ctx, action: str) -> list[AuditEntry]:
    with ctx.registry.reading() as db:
        return list(db.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)).scalars())


def _session_row(ctx) -> StaffSession:
    with ctx.registry.reading() as db:
        return db.execute(select(StaffSession).where(StaffSession.revoked_at.is_(None))).scalar_one()


def test_login_through_the_provider_names_the_person_and_the_role(oidc_app):
    client, ctx = oidc_app.test_client(), oidc_app.extensions["edc"]
    page = client.get("/staff/login").get_data(as_text=True)
    assert "/staff/oidc/start" in page and 'name="username"' in page and 'name="totp"' in page
    answer = oidc_login(client, "viewer", "/staff/credentials")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/staff/credentials")
    assert client.get("/staff/credentials").status_code == 200
    row = _session_row(ctx)
    assert (row.actor, row.role) == ("vera.viewer@uni.example", "viewer")  # "library-staff" means nothing here
    (entry,) = _audit(ctx, "staff.login")
    assert entry.actor == "vera.viewer@uni.example"
    assert json.loads(entry.details)["method"] == "oidc" and json.loads(entry.details)["role"] == "viewer"
    with ctx.registry.reading() as db:  # state, nonce and verifier were taken by the callback
        assert db.execute(select(OidcLogin)).first() is None


def test_state_nonce_verifier_and_code_never_reach_the_logs(oidc_app, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    client, ctx = oidc_app.test_client(), oidc_app.extensions["edc"]
    started = client.get("/staff/oidc/start")
    with ctx.registry.reading() as db:
        pending = db.execute(select(OidcLogin)).scalar_one()
        secrets_of_login = [pending.nonce, pending.code_verifier]
    sidecar_logs = caplog.text
    callback = at_provider(started.headers["Location"], "viewer")  # the browser's own requests: not ours to judge
    caplog.clear()
    state = callback.split("state=", 1)[1].split("&", 1)[0]
    code = callback.split("code=", 1)[1].split("&", 1)[0]
    assert client.get(callback_path(callback)).status_code == 303
    assert client.get(callback_path(callback)).status_code == 401  # a refusal logs too
    logged = sidecar_logs + caplog.text + json.dumps([e.details for e in _audit(ctx, "staff.oidc_refused") + _audit(ctx, "staff.login")])
    for secret in secrets_of_login + [state, code]:
        assert secret not in logged


def test_a_viewer_cannot_revoke_and_a_registrar_can_and_the_audit_names_them(oidc_app):
    cid = _issue_one(oidc_app)
    ctx = oidc_app.extensions["edc"]
    viewer = oidc_app.test_client()
    assert oidc_login(viewer, "viewer").status_code == 303
    page = viewer.get(f"/staff/credentials/{cid}")
    assert page.status_code == 200
    refused = viewer.post(f"/staff/credentials/{cid}/revoke",
                          data={"csrf_token": csrf(page.get_data(as_text=True)), "reason": "not allowed"})
    assert refused.status_code == 403 and "registrar" in refused.get_data(as_text=True)
    with ctx.registry.reading() as db:
        assert db.execute(select(Revocation)).first() is None
    assert viewer.get(f"/api/v1/credentials/{cid}", headers=STAFF_HEADERS).json["status"] == "issued"
    assert _audit(ctx, "credential.revoked") == []

    registrar = oidc_app.test_client()
    assert oidc_login(registrar, "registrar").status_code == 303
    page = registrar.get(f"/staff/credentials/{cid}")
    done = registrar.post(f"/staff/credentials/{cid}/revoke",
                          data={"csrf_token": csrf(page.get_data(as_text=True)), "reason": "issued in error"})
    assert done.status_code == 303
    assert registrar.get(f"/api/v1/credentials/{cid}", headers=STAFF_HEADERS).json["status"] == "revoked"
    (entry,) = _audit(ctx, "credential.revoked")
    assert entry.actor == "rasa.registrar@uni.example" and json.loads(entry.details)["role"] == "registrar"


def test_a_replayed_code_is_refused(oidc_app):
    client, ctx = oidc_app.test_client(), oidc_app.extensions["edc"]
    started = client.get("/staff/oidc/start")
    callback = at_provider(started.headers["Location"], "admin")
    assert client.get(callback_path(callback)).status_code == 303
    # the same callback again: the login it belongs to was taken
    again = client.get(callback_path(callback))
    assert again.status_code == 401
    # the old code slipped into a fresh login: the provider refuses to redeem it twice
    other = oidc_app.test_client()
    fresh = other.get("/staff/oidc/start").headers["Location"]
    state = dict(p.split("=", 1) for p in fresh.split("?", 1)[1].split("&"))["state"]
    code = callback.split("code=", 1)[1].split("&", 1)[0]
    replayed = other.get(f"/staff/oidc/callback?code={code}&state={state}")
    assert replayed.status_code == 401
    reasons = [json.loads(e.details)["reason"] for e in _audit(ctx, "staff.oidc_refused")]
    assert reasons == ["state", "code_refused"]
    assert len(_audit(ctx, "staff.login")) == 1


def test_a_callback_in_another_browser_is_refused(oidc_app):
    client = oidc_app.test_client()
    callback = at_provider(client.get("/staff/oidc/start").headers["Location"], "admin")
    stranger = oidc_app.test_client()  # login CSRF: someone else's code and state pushed into this browser
    assert stranger.get(callback_path(callback)).status_code == 401
    assert stranger.get("/staff/").status_code == 303


def test_a_wrong_nonce_is_refused(oidc_app):
    client, ctx = oidc_app.test_client(), oidc_app.extensions["edc"]
    started = client.get("/staff/oidc/start")
    callback = at_provider(started.headers["Location"], "admin")
    with ctx.registry.transaction() as db:  # the provider's ID token carries the nonce sent; ours is another
        db.execute(update(OidcLogin).values(nonce="another-nonce-than-the-one-sent"))
    answer = client.get(callback_path(callback))
    assert answer.status_code == 401
    assert [json.loads(e.details)["reason"] for e in _audit(ctx, "staff.oidc_refused")] == ["wrong_nonce"]
    assert client.get("/staff/").status_code == 303


def test_a_person_with_no_role_is_refused_and_roles_can_be_assigned_here(oidc_app, oidc_settings):
    client, ctx = oidc_app.test_client(), oidc_app.extensions["edc"]
    assert oidc_login(client, "norole").status_code == 403
    # no role claim at all: the roles assigned in the sidecar count
    assert oidc_login(client, "assigned").status_code == 403
    with ctx.registry.transaction() as db:
        staff_accounts.add_account(db, "asta.assigned@uni.example", ("security_officer",), "oidc", "test")
    assert oidc_login(client, "assigned").status_code == 303
    assert _session_row(ctx).role == "security_officer"
    with ctx.registry.transaction() as db:  # disabled here: refused even with the provider's say-so
        staff_accounts.disable(db, "asta.assigned@uni.example", "test")
    assert client.get("/staff/").status_code == 303
    assert oidc_login(client, "assigned").status_code == 403


def test_logout_ends_the_session(oidc_app):
    client, ctx = oidc_app.test_client(), oidc_app.extensions["edc"]
    assert oidc_login(client, "admin").status_code == 303
    token = csrf(client.get("/staff/").get_data(as_text=True))
    assert client.post("/staff/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/staff/").status_code == 303
    (entry,) = _audit(ctx, "staff.logout")
    assert entry.actor == "adam.admin@uni.example"


# --- the ID token checker, with tokens forged and signed by the provider's own key ----------------------------


@pytest.fixture
def checker(oidc_settings):
    return oidc.Provider(oidc_settings.oidc)


def _claims(issuer: str, **changes) -> dict:
    now = int(time.time())
    claims = {"iss": issuer, "aud": CLIENT_ID, "sub": "viewer", "email": "vera.viewer@uni.example",
              "iat": now, "exp": now + 300, "nonce": "the-nonce"}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _signed(provider, claims: dict, key=None) -> str:
    jwk = provider.private_jwk()
    key = key or RSAKey.import_key(jwk)
    return jwt.encode({"alg": "RS256", "kid": jwk["kid"]}, claims, key)


def test_the_checker_takes_a_good_token(checker, oidc_provider):
    claims = checker.check_id_token(_signed(oidc_provider, _claims(oidc_provider.issuer)), "the-nonce")
    assert claims["sub"] == "viewer"


@pytest.mark.parametrize("changes, reason", [
    ({"aud": "another-client"}, "wrong_audience"),
    ({"aud": [CLIENT_ID, "another-client"]}, "wrong_audience"),  # several audiences and no azp naming us
    ({"iss": "http://127.0.0.1:1"}, "wrong_issuer"),
    ({"nonce": "a-replayed-nonce"}, "wrong_nonce"),
    ({"nonce": None}, "wrong_nonce"),
    ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "expired"),
    ({"exp": None}, "no_expiry"),
])
def test_the_checker_refuses_a_bad_claim(checker, oidc_provider, changes, reason):
    token = _signed(oidc_provider, _claims(oidc_provider.issuer, **changes))
    with pytest.raises(oidc.OidcError) as refused:
        checker.check_id_token(token, "the-nonce")
    assert refused.value.reason == reason


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_the_checker_refuses_an_unsigned_token(checker, oidc_provider):
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(oidc_provider.issuer))}."
    with pytest.raises(oidc.OidcError) as refused:
        checker.check_id_token(unsigned, "the-nonce")
    assert refused.value.reason == "bad_alg"


def test_the_checker_refuses_a_token_signed_with_another_key_or_altered(checker, oidc_provider):
    stranger = RSAKey.generate_key(2048)
    with pytest.raises(oidc.OidcError) as refused:
        checker.check_id_token(_signed(oidc_provider, _claims(oidc_provider.issuer), stranger), "the-nonce")
    assert refused.value.reason == "bad_signature"
    header, payload, signature = _signed(oidc_provider, _claims(oidc_provider.issuer)).split(".")
    altered = f"{header}.{_b64(_claims(oidc_provider.issuer, sub='admin'))}.{signature}"
    with pytest.raises(oidc.OidcError) as refused:
        checker.check_id_token(altered, "the-nonce")
    assert refused.value.reason == "bad_signature"
    # HS256 "signed" with the provider's public modulus as the secret: the algorithm is refused first
    hs = f"{_b64({'alg': 'HS256', 'kid': oidc_provider.private_jwk()['kid']})}.{payload}.{signature}"
    with pytest.raises(oidc.OidcError) as refused:
        checker.check_id_token(hs, "the-nonce")
    assert refused.value.reason == "bad_alg"
