"""A person at a browser: staff find a credential and revoke it, the public page says so; anyone verifies a file.

Headless Debian Chromium driven by Playwright; screenshots go to test-output/screenshots/ (git-ignored)
so a reviewer can look at what the test saw.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from bridge.registry.models import Credential
from bridge.registry import documents

from .conftest import REPO, STAFF_TOKEN

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = REPO / "test-output" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="en-GB")
    tab = context.new_page()
    tab.set_default_timeout(15000)
    yield tab
    context.close()


def shot(tab, name: str) -> None:
    tab.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_staff_revokes_and_public_page_says_revoked(sidecar, page, browser):
    page.goto(f"{sidecar.base_url}/staff/")
    assert "/staff/login" in page.url
    page.fill("#token", STAFF_TOKEN)
    page.click("button[type=submit]")
    page.wait_for_selector("#tile-failing")
    assert page.locator("svg.chart").count() == 1
    shot(page, "01-dashboard")

    page.click(".lang a[hreflang=lt]")
    assert page.locator("h1").inner_text() == "Apžvalga"
    assert "Šiuo metu nepavykstantys pristatymai" in page.inner_text("main")
    shot(page, "01b-dashboard-lt")
    page.click(".lang a[hreflang=en]")

    page.click("header nav a:text-is('Registry')")
    page.fill("#q", "Žemaitienė")
    page.click("form.search button[type=submit]")
    results = page.locator("#results tbody tr")
    assert results.count() == 1
    shot(page, "02-registry-search")
    results.first.locator("a").first.click()
    page.wait_for_selector("#deliveries")
    assert page.inner_text("#status") == "issued"
    public_link = page.get_attribute("text=Public page", "href")
    shot(page, "03-credential-before")

    page.fill("#reason", "Issued to the wrong learner by mistake")
    page.click("text=Revoke this credential")
    page.wait_for_selector(".flash.ok")
    assert page.inner_text("#status") == "revoked"
    assert "credential.revoked" in page.inner_text("#audit")
    shot(page, "04-credential-revoked")

    visitor = browser.new_context(viewport={"width": 1000, "height": 900}, locale="en-GB").new_page()
    visitor.goto(public_link)
    verdict = visitor.locator(".verdict")
    assert verdict.get_attribute("data-verdict") == "revoked"
    assert "Revoked" in verdict.inner_text()
    assert "Issued to the wrong learner by mistake" in verdict.inner_text()
    assert visitor.locator(".stamp").inner_text() == "REVOKED"
    shot(visitor, "05-public-page-revoked")
    visitor.goto(public_link + "&lang=lt")
    assert "Atšauktas" in visitor.locator(".verdict").inner_text()
    shot(visitor, "06-public-page-revoked-lt")
    visitor.context.close()


def _document_of(sidecar, key: str) -> bytes:
    with sidecar.ctx.registry.transaction() as session:
        row = session.get(Credential, sidecar.credentials[key])
        return documents.read_document(session, sidecar.ctx.registry.dictionaries, row)


def test_verify_page_reads_the_verdict_of_an_uploaded_file(sidecar, page, tmp_path):
    good = tmp_path / "credential.xml"
    good.write_bytes(_document_of(sidecar, "LTLANG01/Jonas Petraitis"))
    page.goto(f"{sidecar.base_url}/verify")
    page.set_input_files("#credential-file", str(good))
    page.click("button[type=submit]")
    verdict = page.locator(".verdict")
    assert verdict.get_attribute("data-verdict") == "valid", verdict.inner_text()
    assert "Valid" in verdict.inner_text()
    body = page.inner_text("main")
    assert "Jonas Petraitis" in body and "Lithuanian for Beginners (A1)" in body and "2 ECTS" in body
    shot(page, "07-verify-valid")

    tampered = tmp_path / "tampered.xml"
    tampered.write_bytes(good.read_bytes().replace(b">Petraitis<", b">Petraitiz<", 1))
    page.set_input_files("#credential-file", str(tampered))
    page.click("button[type=submit]")
    verdict = page.locator(".verdict")
    assert verdict.get_attribute("data-verdict") == "not_valid"
    assert "changed after it was sealed" in verdict.inner_text()
    assert "nothing shown below can be relied on" in verdict.inner_text()
    shot(page, "08-verify-tampered")
