"""The qualified status through the service: a sidecar configured with EDC_TRUSTED_LISTS (test-made lists in a
folder, signed by a TEST key configured as EDC_TRUSTED_LIST_SIGNERS) answers it on POST /api/v1/verify and on
the /verify page (en, lt), shows on the staff dashboard how fresh the lists are, runs their refresh as a
scheduled job, and `edc-bridge verify` prints it.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from bridge.app import create_app, stop_app
from bridge.edc import formats, model
from bridge.settings import Settings
from hsm.demo_token import QUALIFIED_SEAL_STATEMENTS, create_demo_token
from hsm.signer import open_seal

from .tsl_factory import ListSigner, Service, State, lists_bytes

REPO = Path(__file__).resolve().parents[2]
PILOT = REPO / "examples" / "pilot"
UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC)
STAFF = "staff-token-for-trusted-list-tests-0123456789"


@pytest.fixture(scope="module")
def qc_token(tmp_path_factory):
    return create_demo_token(tmp_path_factory.mktemp("qc-service-token"), key_type="ecp256",
                             token_label="edc-test-qc-svc", qc_statements=QUALIFIED_SEAL_STATEMENTS)


@pytest.fixture(scope="module")
def sealed(qc_token) -> bytes:
    spec = model.load_course_spec(json.loads((PILOT / "courses" / "data101.json").read_text()))
    learner = model.load_learner(json.loads((PILOT / "learners" / "ona-jonaite.json").read_text()))
    credential = model.Credential(spec, learner, model.Issuance.new(valid_for=spec.valid_for))
    return formats.get("edc-xml").issue(credential, open_seal(qc_token.config), checks=formats.Checks())


@pytest.fixture
def lists_dir(tmp_path, qc_token, commission, lt_operator) -> Path:
    """EU.xml naming LT's operator, LT.xml listing the TEST CA as granted, and the LOTL signer's PEM."""
    folder = tmp_path / "lists"
    folder.mkdir()
    service = Service(qc_token.ca_cert, [State("granted", NOW - dt.timedelta(days=400))])
    lotl, lt = lists_bytes(commission, lt_operator, [service], now=NOW)
    (folder / "EU.xml").write_bytes(lotl)
    (folder / "LT.xml").write_bytes(lt)
    (tmp_path / "lotl-signers.pem").write_bytes(commission.cert.public_bytes(Encoding.PEM))
    return folder


def _env(qc_token, lists_dir: Path) -> dict[str, str]:
    cfg = qc_token.config
    return {"EDC_PKCS11_MODULE": cfg.module, "EDC_TOKEN_LABEL": cfg.token_label, "EDC_PIN": cfg.pin,
            "SOFTHSM2_CONF": str(cfg.softhsm_conf), "EDC_TRUST_ANCHORS": str(qc_token.ca_cert_path),
            "EDC_TRUSTED_LISTS": str(lists_dir / "EU.xml"),
            "EDC_TRUSTED_LIST_SIGNERS": str(lists_dir.parent / "lotl-signers.pem")}


@pytest.fixture
def app(tmp_path, qc_token, lists_dir):
    settings = Settings.from_env(_env(qc_token, lists_dir), database_url=f"sqlite:///{tmp_path / 'r.sqlite3'}",
                                 staff_token=STAFF, start_background=False, verify_rate_limit="1000/minute",
                                 staff_auth_limit="1000/minute")
    application = create_app(settings, channels={})
    yield application
    stop_app(application)
    application.extensions["edc"].registry.dispose()


def _staff(app):
    client = app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/staff/login", data={"token": STAFF, "csrf_token": token}).status_code == 303
    return client


def test_the_api_answers_qualified_with_the_provider(app, sealed):
    body = app.test_client().post("/api/v1/verify", data=sealed, content_type="application/xml").get_json()
    assert body["valid"] is True and body["qualified"] is True, body["qualified_why"]
    assert body["provider"] == "Nemunas University TEST trust service provider" and body["provider_country"] == "LT"
    assert "Qualified electronic seal: yes" in body["verdict"]


def test_the_verify_page_shows_it_in_english_and_lithuanian(app, sealed):
    client = app.test_client()
    for lang, words in (("en", "Qualified electronic seal (EU trusted lists)"),
                        ("lt", "Kvalifikuotas elektroninis spaudas (ES patikimi sąrašai)")):
        page = client.post(f"/verify?lang={lang}", data={"file": (io.BytesIO(sealed), "c.xml")},
                           content_type="multipart/form-data").get_data(as_text=True)
        assert 'data-qualified="qualified"' in page and words in page, lang
        assert "Nemunas University TEST trust service provider (LT)" in page


def test_without_trusted_lists_the_api_says_unknown(tmp_path, qc_token, sealed):
    settings = Settings.from_env({"EDC_TRUST_ANCHORS": str(qc_token.ca_cert_path)},
                                 database_url=f"sqlite:///{tmp_path / 'plain.sqlite3'}", start_background=False,
                                 verify_rate_limit="1000/minute")
    plain = create_app(settings, channels={})
    try:
        body = plain.test_client().post("/api/v1/verify", data=sealed, content_type="application/xml").get_json()
        assert body["valid"] is True and body["qualified"] == "unknown" and "EDC_TRUSTED_LISTS" in body["qualified_why"]
        page = plain.test_client().post("/verify", data={"file": (io.BytesIO(sealed), "c.xml")},
                                        content_type="multipart/form-data").get_data(as_text=True)
        assert "data-qualified=" not in page and "data-qualified-why" in page
    finally:
        stop_app(plain)
        plain.extensions["edc"].registry.dispose()


def test_the_staff_dashboard_shows_how_fresh_the_lists_are(app, lists_dir, commission, qc_token):
    source = app.extensions["edc"].trusted_lists
    page = _staff(app).get("/staff/").get_data(as_text=True)
    assert "EU trusted lists" in page and str(lists_dir / "EU.xml") in page
    rows = dict(re.findall(r'data-territory="(\w+)">\s*<td>\w+</td><td>\d*</td>\s*<td>[^<]*</td><td>[^<]*</td>\s*'
                           r'<td>([^<]*)</td>', page))
    assert rows == {"EU": "current", "LT": "current"}
    assert (NOW + dt.timedelta(days=180)).strftime("%Y-%m-%d") in page  # the next update
    # A tampered LT list: refused, and the dashboard says why (in Lithuanian too, around the same reason).
    (lists_dir / "LT.xml").write_bytes((lists_dir / "LT.xml").read_bytes().replace(b"TEST scheme", b"EVIL scheme"))
    source.refresh()
    page = _staff(app).get("/staff/?lang=lt").get_data(as_text=True)
    assert "ES patikimi sąrašai" in page and "paskutinis atnaujinimas" in page
    assert "the trusted list of LT was changed after it was signed" in page


def test_the_dashboard_says_when_the_lists_are_not_configured(tmp_path, qc_token):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'd.sqlite3'}", staff_token=STAFF,
                        start_background=False, staff_auth_limit="1000/minute")
    plain = create_app(settings, channels={})
    try:
        page = _staff(plain).get("/staff/").get_data(as_text=True)
        assert 'id="trusted-lists-off"' in page and "EDC_TRUSTED_LISTS" in page
    finally:
        stop_app(plain)
        plain.extensions["edc"].registry.dispose()


def test_the_worker_schedules_the_refresh(tmp_path, qc_token, lists_dir):
    settings = Settings.from_env(_env(qc_token, lists_dir), database_url=f"sqlite:///{tmp_path / 'w.sqlite3'}",
                                 start_background=True, workers=1)
    running = create_app(settings, channels={})
    try:
        scheduler = running.extensions["edc_worker"].scheduler
        job = scheduler.get_job("trusted-lists")
        assert job is not None and job.trigger.interval == dt.timedelta(hours=6)
    finally:
        stop_app(running)
        running.extensions["edc"].registry.dispose()


def test_the_cli_prints_the_qualified_status(tmp_path, qc_token, lists_dir, sealed):
    document = tmp_path / "credential.xml"
    document.write_bytes(sealed)
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDC_")} | _env(qc_token, lists_dir)
    cli = [sys.executable, "-m", "bridge.cli", "verify", str(document)]  # this tree's code, as edc-bridge runs it
    answer = subprocess.run([*cli, "--json"], env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert answer.returncode == 0, answer.stderr
    body = json.loads(answer.stdout)
    assert body["qualified"] is True and body["provider_country"] == "LT"
    words = subprocess.run(cli, env=env, cwd=REPO, capture_output=True, text=True, timeout=120).stdout
    assert "Qualified electronic seal: yes, by Nemunas University TEST trust service provider (LT)" in words
    # As of a moment after the lists' next update, the answer is "unknown": they are out of date then.
    late = subprocess.run([*cli, "--json", "--at", (NOW + dt.timedelta(days=200)).isoformat()], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert json.loads(late.stdout)["qualified"] == "unknown"
    bad = subprocess.run(cli, env=env | {"EDC_TRUSTED_LIST_SIGNERS": str(tmp_path / "none.pem")}, cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "EDC_TRUSTED_LIST_SIGNERS: cannot read" in bad.stderr
    assert "Traceback" not in bad.stderr
