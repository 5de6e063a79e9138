"""A named staff member logs in at a browser (issue 15): headless Chromium fills the local account's form
(password and the authenticator's TOTP code) on the real sidecar, SQLite and PostgreSQL; a wrong code
shows the error and lets nobody in, the right one opens the dashboard with a registrar's menu (bulk issue, no
accounts or security pages). Screenshots (English and Lithuanian login, the refusal, the dashboard) go to
test-output/screenshots/ for a reviewer to look at.
"""
from __future__ import annotations

import pyotp
import pytest

from bridge.registry import staff_accounts
from .test_browser import browser, page, shot  # noqa: F401 - the module's Chromium fixtures

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"


def _account(sidecar, username: str) -> str:
    registry = sidecar.app.extensions["edc"].registry
    with registry.transaction() as db:
        return staff_accounts.add_account(db, username, ("registrar",), "local", "test", PASSWORD,
                                          "Rūta Registratorė").totp_secret


def _fill(tab, username: str, code: str) -> None:
    tab.fill("#username", username)
    tab.fill("#password", PASSWORD)
    tab.fill("#totp", code)
    tab.click("form:has(#username) button[type=submit]")


def test_a_registrar_logs_in_with_password_and_code(sidecar, page):  # noqa: F811
    username = f"ruta.{sidecar.app.extensions['edc'].registry.dialect}@uni.example"
    secret = _account(sidecar, username)
    page.goto(f"{sidecar.base_url}/staff/login?lang=lt")
    assert page.locator("#totp").count() == 1
    shot(page, "staff-login-lt")
    page.goto(f"{sidecar.base_url}/staff/login?lang=en")
    shot(page, "staff-login-en")

    code = pyotp.TOTP(secret).now()
    _fill(page, username, f"{(int(code) + 1) % 1000000:06d}")
    assert "/staff/login" in page.url
    assert page.locator(".flash, .error, [role=alert]").count() >= 1
    shot(page, "staff-login-refused")
    page.goto(f"{sidecar.base_url}/staff/")
    assert "/staff/login" in page.url  # the wrong code let nobody in

    _fill(page, username, code)
    page.wait_for_selector("#tile-failing")
    menu = page.inner_text("header nav")
    assert "Bulk issue" in menu and "Accounts" not in menu and "Security" not in menu  # a registrar's pages
    shot(page, "staff-login-dashboard")
