"""From a spreadsheet to sealed credentials in learners' mailboxes, on SQLite and PostgreSQL: the real
app (SoftHSM seal, the real SMTP channel to a loopback SMTP server), the staff pages, and
`edc-bridge bulk` run from the shell against the same registry."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bridge import worker
from bridge.app import create_app, stop_app
from bridge.edc import formats
from bridge.registry.models import Credential
from bridge.settings import Settings
from tests.bulk.conftest import (COURSE, COURSE_KEY, HEADER, SITE, batch_id_of, csv_bytes, issue, learners,
                                 staff_login, upload, xlsx)
from tests.delivery.sinks import MailSink
from tests.sidecar.conftest import KEY_ID, SECRET, STAFF, pilot_spec, put_spec, token_env

EDC_BRIDGE = str(Path(sys.executable).with_name("edc-bridge"))


@pytest.fixture
def mail():
    sink = MailSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def live(database_url, ec_token, mail):
    settings = Settings(database_url=database_url, intake_keys={KEY_ID: SECRET}, staff_token=STAFF,
                        token_env=token_env(ec_token), trust_anchors=str(ec_token.ca_cert_path),
                        smtp_url=mail.url, mail_from="credentials@edc.example.test",
                        public_url="https://edc.example.test", start_background=False,
                        staff_auth_limit="1000/minute")
    app = create_app(settings)  # the channels from the settings: the real SMTP channel
    client = app.test_client()
    assert put_spec(client, COURSE, pilot_spec("data101"), site=SITE).get_json()["valid"]
    yield app, client
    stop_app(app)
    app.extensions["edc"].registry.dispose()


def _mailed(mail: MailSink, ec_token) -> dict[str, list]:
    """address -> [(attachment name, verification report)] of every mail the sink received."""
    out: dict[str, list] = {}
    for rcpts, message in mail.messages:
        for part in message.iter_attachments():
            data = part.get_payload(decode=True)
            if part.get_filename().endswith((".xml", ".json", ".jwt")):
                report = formats.verify(data, trust_anchors=[ec_token.ca_cert])
                out.setdefault(rcpts[0], []).append((part.get_filename(), report))
    return out


def test_a_cohort_file_ends_as_sealed_credentials_in_the_learners_mailboxes(live, mail, ec_token):
    app, client = live
    ctx = app.extensions["edc"]
    staff_login(client)
    rows = learners(3)
    rows[1][2] = "no-address"
    batch = batch_id_of(upload(client, xlsx(rows)))
    issue(client, batch, valid_only=True)
    assert worker.drain(ctx) == 2
    mail.wait_for(2)
    mailed = _mailed(mail, ec_token)
    assert set(mailed) == {"learner0@example.edu", "learner2@example.edu"}
    for address, attachments in mailed.items():
        assert attachments and all(report.valid for _name, report in attachments), attachments
    with ctx.registry.reading() as db:
        creds = {c.learner_email: c for c in db.execute(select(Credential)).scalars()}
    assert creds["learner2@example.edu"].learner_name == "Ona2 Jonaitė2"
    assert creds["learner2@example.edu"].learner_id == "bulk:S0000002"
    assert creds["learner2@example.edu"].learner_lang == "en"
    page = client.get(f"/staff/bulk/{batch}").get_data(as_text=True)
    assert 'id="finished"' in page and 'id="state-delivered">2<' in page


def _cli(database_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDC_")}
    env["EDC_DATABASE_URL"] = database_url
    return subprocess.run([EDC_BRIDGE, "bulk", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_command_line_writes_the_template_checks_and_issues_exactly_once(live, mail, ec_token, database_url,
                                                                            tmp_path):
    app, _client = live
    ctx = app.extensions["edc"]
    made = _cli(database_url, "template", "--course", COURSE_KEY, "--out", "t.xlsx", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    sheet = load_workbook(tmp_path / "t.xlsx", read_only=True).worksheets[0]
    assert list(next(sheet.iter_rows(values_only=True))) == HEADER
    made = _cli(database_url, "template", "--course", COURSE_KEY, "--format", "csv", "--out", "t.csv", cwd=tmp_path)
    assert made.returncode == 0 and (tmp_path / "t.csv").read_bytes().startswith("\ufeff".encode())

    rows = learners(3, start=10)
    rows[2][4] = "2999-01-01"
    (tmp_path / "cohort.csv").write_bytes(csv_bytes(rows))
    checked = _cli(database_url, "check", "cohort.csv", "--course", COURSE_KEY, "--refused-out", "refused.csv",
                   cwd=tmp_path)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "row 4, Completion date (E): in the future: the completion must have happened" in checked.stdout
    assert "3 rows: 2 can be issued, 1 have problems" in checked.stdout
    assert "learner12@example.edu" in (tmp_path / "refused.csv").read_text(encoding="utf-8-sig")
    lt = _cli(database_url, "check", "cohort.csv", "--course", COURSE_KEY, "--lang", "lt", cwd=tmp_path)
    assert "row 4, Baigimo data (E): ateityje: kursas turi būti jau baigtas" in lt.stdout

    refused = _cli(database_url, "issue", "cohort.csv", "--course", COURSE_KEY, cwd=tmp_path)
    assert refused.returncode == 1 and "nothing issued" in refused.stdout
    issued = _cli(database_url, "issue", "cohort.csv", "--course", COURSE_KEY, "--valid-rows", cwd=tmp_path)
    assert issued.returncode == 0, issued.stdout + issued.stderr
    assert "2 new issuances queued, 0 issued before (not again), 1 rows refused" in issued.stdout
    assert worker.drain(ctx) == 2
    mail.wait_for(2)
    assert set(_mailed(mail, ec_token)) == {"learner10@example.edu", "learner11@example.edu"}

    again = _cli(database_url, "issue", "cohort.csv", "--course", COURSE_KEY, "--valid-rows", "--wait", "5",
                 "--results-out", "results.csv", cwd=tmp_path)
    assert again.returncode == 0 and "nothing new: every valid row of this file was issued before" in again.stdout
    assert "finished" in again.stdout
    results = (tmp_path / "results.csv").read_text(encoding="utf-8-sig")
    assert results.count(",duplicate,") == 2 and results.count(",refused,") == 1 and "delivered" in results
    assert worker.drain(ctx) == 0 and len(mail.messages) == 2

    (tmp_path / "bomb.xlsx").write_bytes(b"PK\x03\x04" + b"\0" * 64)
    bomb = _cli(database_url, "check", "bomb.xlsx", "--course", COURSE_KEY, cwd=tmp_path)
    assert bomb.returncode == 2 and "refused: it is a damaged XLSX (zip) file" in bomb.stderr
    unknown = _cli(database_url, "template", "--course", "demo/999", cwd=tmp_path)
    assert unknown.returncode == 2 and "no complete credential description" in unknown.stderr
    assert "Traceback" not in bomb.stderr + unknown.stderr
