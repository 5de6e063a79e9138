"""The bulk pages in headless Chromium: upload a file with problems, the preview, issue the valid rows,
the progress page refreshing itself (no script: the CSP allows none) until the final report.
Screenshots go to var/screenshots/bulk-*.png."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from bridge import worker
from bridge.app import create_app, stop_app
from bridge.settings import Settings
from tests.bulk.conftest import COURSE, SITE, learners, xlsx
from tests.sidecar.conftest import KEY_ID, SECRET, STAFF, RecordingChannel, pilot_spec, put_spec, token_env

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path, ec_token):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    settings = Settings(database_url=f"sqlite:///{tmp_path}/registry.sqlite3", intake_keys={KEY_ID: SECRET},
                        staff_token=STAFF, token_env=token_env(ec_token), trust_anchors=str(ec_token.ca_cert_path),
                        smtp_url="smtp://127.0.0.1:9", public_url="http://127.0.0.1", start_background=False)
    app = create_app(settings, channels={"email": RecordingChannel("email")})
    assert put_spec(app.test_client(), COURSE, pilot_spec("data101"), site=SITE).get_json()["valid"]
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    stop_app(app)
    app.extensions["edc"].registry.dispose()


def test_preview_progress_and_report_in_a_browser(server, tmp_path):
    from playwright.sync_api import sync_playwright

    app, base = server
    rows = learners(40)
    rows[3][2] = "ona.jonaite(at)example.edu"
    rows[7][4] = "2999-01-01"
    rows[11][3] = "de"
    rows[15][0] = "=HYPERLINK(\"http://x.example\")"
    rows[20][2] = rows[19][2]
    cohort = tmp_path / "summer-school.xlsx"
    cohort.write_bytes(xlsx(rows))
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1200, "height": 900}, locale="en-GB")
        page.set_default_timeout(60000)  # the machine is shared: a slow second is no failure
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{base}/staff/login?next=/staff/bulk")
        page.fill("#token", STAFF)
        page.click("button[type=submit]")
        page.wait_for_selector("#upload")
        page.screenshot(path=str(SHOTS / "bulk-1-upload.png"), full_page=True)
        page.set_input_files("input[type=file]", str(cohort))
        page.click("#upload button[type=submit]")
        page.wait_for_selector("#problems")
        assert "40 rows: 35 can be issued, 5 have problems." in page.inner_text("#summary")
        assert page.locator("#problems tbody tr").count() == 5
        page.screenshot(path=str(SHOTS / "bulk-2-preview.png"), full_page=True)

        page.click("#actions button")
        page.wait_for_selector("#progress")
        assert page.locator("meta[http-equiv=refresh]").count() == 1
        page.screenshot(path=str(SHOTS / "bulk-3-progress.png"), full_page=True)
        ctx = app.extensions["edc"]
        worker.process_issuances(ctx, worker.claim_issuances(ctx, "half", limit=17), "half")
        page.reload()
        page.wait_for_selector("#progress")
        page.screenshot(path=str(SHOTS / "bulk-4-progress-half.png"), full_page=True)
        worker.drain(ctx)
        page.wait_for_selector("#finished", timeout=60000)  # the page's own refresh brings the report
        assert page.locator("meta[http-equiv=refresh]").count() == 0
        assert page.inner_text("#state-delivered") == "35"
        page.screenshot(path=str(SHOTS / "bulk-5-report.png"), full_page=True)
        page.goto(page.url + "?lang=lt")
        page.screenshot(path=str(SHOTS / "bulk-6-report-lt.png"), full_page=True)
        assert "Ataskaita" in page.inner_text("h1")
        browser.close()
    assert not [e for e in errors if "Content Security Policy" in e], errors
