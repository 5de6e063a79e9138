"""The staff pages' cookie key with local accounts only (issue 15: several replicas), on SQLite and
PostgreSQL: with no staff token and no identity provider configured, every replica of one registry signs
the login form's cookie with the same key, kept in the registry (bridge/registry/site_secrets.py), so a
login form one replica served is accepted by another and survives a restart; the key is never in a page.
"""
from __future__ import annotations

import dataclasses

import pyotp
from sqlalchemy import select

from bridge.app import create_app, stop_app
from bridge.registry import staff_accounts
from bridge.registry.models import SiteSecret
from bridge.web.staff import STAFF_SESSION_SECRET, UI_COOKIE
from tests.staff.conftest import csrf

PASSWORD = "correct horse battery staple"
USER = "ona@uni.example"


def _replica(settings, channels):  # noqa: ANN001, ANN202 - a Flask app
    return create_app(dataclasses.replace(settings, staff_token=None), channels=channels)


def test_a_login_form_from_one_replica_is_accepted_by_another(settings, channels):
    first, second = _replica(settings, channels), _replica(settings, channels)
    try:
        assert first.secret_key == second.secret_key
        registry = first.extensions["edc"].registry
        with registry.transaction() as db:
            secret = staff_accounts.add_account(db, USER, ("registrar",), "local", "test", PASSWORD, "Ona").totp_secret
        with registry.reading() as db:
            (stored,) = db.execute(select(SiteSecret).where(SiteSecret.name == STAFF_SESSION_SECRET)).scalars()
        assert bytes(stored.value) == first.secret_key and len(stored.value) == 32

        at_first = first.test_client()
        page = at_first.get("/staff/login").get_data(as_text=True)
        assert stored.value.hex() not in page
        at_second = second.test_client()  # the load balancer sends the form's answer to the other replica
        at_second.set_cookie(UI_COOKIE, at_first.get_cookie(UI_COOKIE).value)
        answer = at_second.post("/staff/login", data={"username": USER, "password": PASSWORD,
                                                       "totp": pyotp.TOTP(secret).now(), "csrf_token": csrf(page)})
        assert answer.status_code == 303, answer.get_data(as_text=True)[:300]
        assert at_second.get("/staff/").status_code == 200
    finally:
        stop_app(first)
        stop_app(second)
    restarted = _replica(settings, channels)
    try:
        assert restarted.secret_key == bytes(stored.value)
    finally:
        stop_app(restarted)


def test_a_configured_staff_token_still_keys_the_cookie(settings, channels):
    """The staff token (or the OIDC client secret) keys it as before, and nothing is stored."""
    application = create_app(settings, channels=channels)
    try:
        with application.extensions["edc"].registry.reading() as db:
            assert db.execute(select(SiteSecret)).scalars().all() == []
        assert application.secret_key and len(application.secret_key) == 32
    finally:
        stop_app(application)
