"""The whole loop with the real sidecar: Moodle completion → sidecar seals → web service → My credentials.

Skipped unless EDC_E2E_MOODLE_DIR points at a throwaway local Moodle with the plugin installed and its web
server running (see test_moodle_plugin.py), and .venv/bin/edc-bridge exists. The test starts its own
sidecar (`edc-bridge serve --demo`, SoftHSM demo token, its own SQLite registry in a temporary directory)
on EDC_E2E_REAL_SIDECAR_PORT (default 8766), pointed at Moodle with the token moodle_setup.php made, and
points the plugin at it. The course description reaches the sidecar through the plugin's form.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import requests

from hsm.config import demo_directory
from tests.delivery.sinks import MailSink
from tests.e2e import moodle as m
from tests.sidecar.test_wallet_node import _wallet_ready, run_wallet

REPO = Path(__file__).resolve().parents[2]
BRIDGE = REPO / ".venv" / "bin" / "edc-bridge"
MOODLE_DIR = os.environ.get("EDC_E2E_MOODLE_DIR", "")
PASSWORD = os.environ.get("EDC_E2E_PASSWORD", "E2e-pass-1")
PORT = int(os.environ.get("EDC_E2E_REAL_SIDECAR_PORT", "8766"))
STAFF_TOKEN = secrets.token_hex(24)
STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}

pytestmark = pytest.mark.skipif(not MOODLE_DIR or not Path(MOODLE_DIR, "config.php").is_file() or not BRIDGE.exists(),
                                reason="EDC_E2E_MOODLE_DIR not set to a local Moodle, or no edc-bridge")


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sidecar")
    secret_file, token_file = tmp / "secret", tmp / "token"
    secret_file.write_text(secrets.token_hex(32))
    sidecar_url = f"http://127.0.0.1:{PORT}"
    out = m.php(MOODLE_DIR, str(m.HERE / "moodle_setup.php"), env={
        "EDC_E2E_MOODLE_DIR": MOODLE_DIR, "EDC_E2E_SIDECAR_URL": sidecar_url, "EDC_E2E_KEY_ID": "moodle-e2e",
        "EDC_E2E_SECRET_FILE": str(secret_file), "EDC_E2E_TOKEN_FILE": str(token_file)})
    info = json.loads(out.strip().splitlines()[-1])
    try:
        requests.get(info["wwwroot"] + "/login/index.php", timeout=10)
    except requests.RequestException:
        pytest.skip(f"Moodle web server not reachable at {info['wwwroot']}")
    mail = MailSink().start()  # the learner's mail (credential, wallet codes), read by the wallet tests
    env = {**os.environ,
           "EDC_SMTP_URL": mail.url, "EDC_MAIL_FROM": "credentials@e2e.invalid", "EDC_WALLET_IN_MAIL": "1",
           "EDC_INTAKE_KEYS": f"moodle-e2e={secret_file.read_text()}",
           "EDC_MOODLE_URL": info["wwwroot"], "EDC_MOODLE_TOKEN": token_file.read_text().strip(),
           "EDC_DATABASE_URL": f"sqlite:///{tmp / 'registry.db'}", "EDC_PUBLIC_URL": sidecar_url,
           "EDC_STAFF_TOKEN": STAFF_TOKEN}
    log = open(tmp / "sidecar.log", "w")
    proc = subprocess.Popen([str(BRIDGE), "serve", "--demo", "--port", str(PORT)], cwd=REPO, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(sidecar_url + "/readyz", timeout=2).json().get("ready"):
                    break
            except (requests.RequestException, ValueError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the sidecar did not become ready: " + (tmp / "sidecar.log").read_text()[-2000:])
            time.sleep(0.5)
        m.probe(MOODLE_DIR, "reset", str(info["courseid"]), str(info["learner"]), str(info["other"]))
        info["sidecar_url"] = sidecar_url
        info["sidecar_log"] = tmp / "sidecar.log"
        info["registry"] = tmp / "registry.db"
        info["mail"] = mail
        yield info
    finally:
        mail.stop()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def state(loop, who="learner"):
    return m.probe(MOODLE_DIR, "state", str(loop["courseid"]), str(loop[who]))


def test_description_reaches_the_sidecar_through_the_form(loop):
    teacher = m.Browser(loop["wwwroot"], "e2e_teacher", PASSWORD)
    page = teacher.get(f"/blocks/edcissuer/spec.php?courseid={loop['courseid']}").text
    saved = teacher.post("/blocks/edcissuer/spec.php", m.form_fields(page) + [("submitbutton", "Save")])
    assert "the sidecar accepted it" in saved.text, re.findall(r'alert[^>]*>([^<]+)', saved.text)[:3]


def test_completion_comes_back_as_a_sealed_credential_in_my_credentials(loop):
    learner = m.Browser(loop["wwwroot"], "e2e_ona", PASSWORD)
    learner.post("/course/togglecompletion.php", {"course": loop["courseid"], "confirm": 1, "sesskey": learner.sesskey})
    time.sleep(1.1)
    m.run_completion_task(MOODLE_DIR)
    assert state(loop)["status"]["status"] == "queued"
    started = time.monotonic()
    m.run_adhoc_tasks(MOODLE_DIR)
    assert state(loop)["tasks"] == [], "the event was not accepted"
    deadline = time.monotonic() + 120
    while not state(loop)["credentials"]:
        assert time.monotonic() < deadline, "no credential stored in Moodle within 120 s: " + \
            loop["sidecar_log"].read_text()[-3000:]
        time.sleep(1)
    loop["seconds_to_credential"] = time.monotonic() - started
    print(f"\ncompletion event sent -> credential stored in Moodle: {loop['seconds_to_credential']:.1f} s")
    deadline = time.monotonic() + 60
    while state(loop)["status"]["status"] not in ("delivered", "issued"):
        assert time.monotonic() < deadline
        time.sleep(1)
    dashboard = learner.get("/my/?lang=en").text
    assert "Data Literacy for Everyone" in dashboard
    link = re.search(r'href="([^"]*pluginfile\.php[^"]*block_edcissuer/credential[^"]*)"', dashboard)
    verify = re.search(r'href="([^"]+)"[^>]*class="block_edcissuer-verify"', dashboard)
    assert link and verify
    assert verify.group(1).startswith(loop["sidecar_url"])
    document = learner.get(link.group(1).replace("&amp;", "&")).content
    assert b"europassCredential" in document and b"Jonait" in document
    report = requests.post(loop["sidecar_url"] + "/api/v1/verify", data=document,
                           headers={"Content-Type": "application/xml"}, timeout=60).json()
    assert report["valid"] is True, report.get("verdict")
    assert m.screenshot(learner, "/my/", "my-credentials-real-sidecar") == []
    teacher = m.Browser(loop["wwwroot"], "e2e_teacher", PASSWORD)
    page = teacher.get(f"/blocks/edcissuer/issue.php?courseid={loop['courseid']}").text
    rows = dict(re.findall(r'<tr data-userid="(\d+)" data-status="(\w+)"', page))
    assert rows[str(loop["learner"])] in ("delivered", "issued")
    assert "Could not fetch the latest statuses" not in page
    assert m.screenshot(teacher, f"/blocks/edcissuer/issue.php?courseid={loop['courseid']}", "teacher-page-real-sidecar") == []


def test_teacher_request_for_a_chosen_learner_comes_back_too(loop):
    teacher = m.Browser(loop["wwwroot"], "e2e_teacher", PASSWORD)
    answer = teacher.post(f"/blocks/edcissuer/issue.php?courseid={loop['courseid']}",
                          {"sesskey": teacher.sesskey, "action": "selected", "userids[]": [loop["other"]],
                           "confirmexception": 1, "exceptionreason": "Assessed on paper during a network outage."})
    assert "Credential requested for 1 learner." in answer.text
    assert "refresh" in answer.text.lower()  # queued: the page refreshes itself
    m.run_adhoc_tasks(MOODLE_DIR)
    assert state(loop, "other")["tasks"] == [], "the request was not accepted"
    deadline = time.monotonic() + 120
    while not state(loop, "other")["credentials"]:
        assert time.monotonic() < deadline, loop["sidecar_log"].read_text()[-3000:]
        time.sleep(1)
    page = teacher.get(f"/blocks/edcissuer/issue.php?courseid={loop['courseid']}").text
    rows = dict(re.findall(r'<tr data-userid="(\d+)" data-status="(\w+)"', page))
    assert rows[str(loop["other"])] in ("delivered", "issued")
    # The exception and its reason reached the sidecar's audit trail.
    with sqlite3.connect(loop["registry"]) as db:
        details = [json.loads(d) for (d,) in db.execute("SELECT details FROM audit_trail WHERE action = ?",
                                                        ("event.accepted",))]
    exceptions = [d for d in details if d.get("exception")]
    assert len(exceptions) == 1 and exceptions[0]["learner"] == str(loop["other"])
    assert exceptions[0]["exception_reason"] == "Assessed on paper during a network outage."
    assert exceptions[0]["requested_by"] == loop["teacher"]


def test_asking_again_for_a_learner_who_holds_the_credential_stores_nothing_new(loop):
    before = state(loop)
    assert len(before["credentials"]) == 1
    teacher = m.Browser(loop["wwwroot"], "e2e_teacher", PASSWORD)
    teacher.post(f"/blocks/edcissuer/issue.php?courseid={loop['courseid']}",
                 {"sesskey": teacher.sesskey, "action": "selected", "userids[]": [loop["learner"]]})
    m.run_adhoc_tasks(MOODLE_DIR)
    deadline = time.monotonic() + 30
    while state(loop)["status"]["status"] == "queued":
        assert time.monotonic() < deadline, "still queued after the sidecar answered"
        time.sleep(1)
    after = state(loop)
    assert after["tasks"] == []
    assert after["status"]["status"] in ("issued", "delivered")
    assert [c["credentialid"] for c in after["credentials"]] == [c["credentialid"] for c in before["credentials"]]
    assert after["files"] == 1


def wait_for(check, what: str, loop, seconds: int = 120):
    """Polls `check()` until it is true (the sidecar's worker and delivery run on their own)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"{what} within {seconds} s: " + loop["sidecar_log"].read_text()[-3000:]
        time.sleep(1)


def listed(page: str) -> list[str]:
    return re.findall(r'<li class="mb-3 block_edcissuer-credential".*?</li>', page, re.S)


def test_sharing_and_the_pdf_go_through_the_real_sidecar(loop):
    learner = m.Browser(loop["wwwroot"], "e2e_ona", PASSWORD)
    page = learner.get("/my/?lang=en").text
    item = listed(page)[0]
    rid = re.search(r'data-id="(\d+)"', item).group(1)
    credential_id = state(loop)["credentials"][0]["credentialid"]
    public = f"{loop['sidecar_url']}/credentials/{credential_id}"
    assert requests.get(public, timeout=30).status_code == 404  # not shared yet
    shared = learner.post("/blocks/edcissuer/credential.php", {"id": rid, "action": "share", "sesskey": learner.sesskey,
                                                               "returnurl": "/my/"}).text
    assert "public page is on" in shared, re.findall(r'alert[^>]*>([^<]+)', shared)[:3]
    item = listed(shared)[0].replace("&amp;", "&")
    assert f'value="{public}"' in item and "linkedin.com/profile/add" in item
    anyone = requests.get(public, timeout=30)
    assert anyone.status_code == 200 and "Data Literacy for Everyone" in anyone.text
    # Verify: that credential's own link, as the sidecar sent it, opens its verdict at once.
    verify = re.search(r'href="([^"]+)"[^>]*class="block_edcissuer-verify"', item).group(1)
    assert verify.startswith(loop["sidecar_url"]) and credential_id in verify
    assert requests.get(verify, timeout=60).status_code == 200
    pdf = learner.get(f"/blocks/edcissuer/credential.php?id={rid}&action=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-"), pdf.text[:300]
    off = learner.post("/blocks/edcissuer/credential.php", {"id": rid, "action": "unshare", "sesskey": learner.sesskey,
                                                            "returnurl": "/my/"}).text
    assert "public page is off" in off and requests.get(public, timeout=30).status_code == 404
    assert m.screenshot(learner, "/blocks/edcissuer/mycredentials.php?lang=en", "my-credentials-full-real-sidecar") == []


OFFER_LINK = re.compile(r"openid-credential-offer://\?credential_offer_uri=[A-Za-z0-9%._~-]+")


def mails_to(loop, since: int) -> list:
    return [message for _, message in loop["mail"].messages[since:]]


def plain(message) -> str:
    return message.get_body(("plain",)).get_content()


def wallet_form(page: str, rid: str) -> str:
    item = next(i for i in listed(page) if f'data-id="{rid}"' in i)
    found = re.search(r'<form method="post" action="([^"]+)" class="block_edcissuer-wallet-form.*?</form>', item, re.S)
    assert found, "no Add to wallet form in My credentials"
    return found.group(0)


def redeem(link: str, tx_code: str) -> dict:
    """The independent Node wallet (tests/wallet/wallet.mjs) takes the offer with the code, verifying the
    credential against the demo token's test CA the sidecar seals with."""
    status, result = run_wallet(link, tx_code, demo_directory({}) / "ca.pem")
    assert status == 0, result
    return result


def test_add_to_wallet_shows_the_offer_in_moodle_and_mails_the_code(loop):
    """Chromium clicks "Add to wallet" in My credentials; the page shows the sidecar's offer link and QR code,
    the code arrives by mail, and the Node wallet takes the credential with both."""
    learner = m.Browser(loop["wwwroot"], "e2e_ona", PASSWORD)
    rec = state(loop)["credentials"][0]
    rid, credential_id = str(rec["id"]), rec["credentialid"]
    page = learner.get("/blocks/edcissuer/mycredentials.php?lang=en").text
    form = wallet_form(page, rid)
    assert 'value="learning_credential_sd_jwt"' in form and 'value="open_badge_jwt_vc_json"' in form
    assert 'name="sesskey"' in form and ">Add to wallet<" in form and ">Show wallet code<" in form
    since = len(loop["mail"].messages)
    shown = learner.post("/blocks/edcissuer/wallet.php", {"id": rid, "sesskey": learner.sesskey, "action": "offer",
                                                          "configuration": "learning_credential_sd_jwt"})
    assert shown.status_code == 200 and "no-store" in shown.headers.get("Cache-Control", "")
    links = set(OFFER_LINK.findall(shown.text))
    assert len(links) == 1, re.findall(r'alert[^>]*>([^<]+)', shown.text)[:3]
    link = links.pop()
    assert f'href="{link}"' in shown.text and 'src="data:image/svg+xml;base64,' in shown.text
    shown_part = shown.text.split('<div class="block_edcissuer-wallet"', 1)[1].split("block_edcissuer-walletback")[0]
    assert "<svg" not in shown_part and "<script" not in shown_part  # the QR code only as a rebuilt <img>
    loop["mail"].wait_for(since + 1, timeout=30)
    (message,) = [msg for msg in mails_to(loop, since)]
    code = re.search(r"^\s*(\d{6})\s*$", plain(message), re.M).group(1)
    assert code not in shown.text  # the code only by the other channel
    if _wallet_ready() is None:
        result = redeem(link, code)
        assert result["claims"]["credential_id"] == credential_id
        assert result["claims"]["status"]["edc_status"]["uri"].startswith(loop["sidecar_url"] + "/status/")
    # Chromium, clicking as the learner does, sees the page (and its QR code drawn) without script errors.
    folder = os.environ.get("EDC_E2E_SCREENSHOTS")
    if folder and m.CHROMIUM.exists():
        with m.LivePage(learner) as live:
            live.open("/blocks/edcissuer/mycredentials.php?lang=en")
            live.page.click(f'li[data-id="{rid}"] button.block_edcissuer-addtowallet')
            live.page.wait_for_selector("img.block_edcissuer-walletqr")
            width = live.page.eval_on_selector("img.block_edcissuer-walletqr", "img => img.naturalWidth")
            assert width > 0, "the QR code image did not draw"
            live.page.screenshot(path=str(Path(folder, "add-to-wallet-offer.png")), full_page=True)
            assert live.console_errors == []


def test_add_to_wallet_is_post_with_sesskey_and_only_for_the_holder(loop):
    learner = m.Browser(loop["wwwroot"], "e2e_ona", PASSWORD)
    rid = str(state(loop)["credentials"][0]["id"])
    got = learner.get(f"/blocks/edcissuer/wallet.php?id={rid}&action=offer&sesskey={learner.sesskey}")
    assert not OFFER_LINK.search(got.text)
    forged = learner.post("/blocks/edcissuer/wallet.php", {"id": rid, "sesskey": "wrong", "action": "offer"})
    assert not OFFER_LINK.search(forged.text)
    other = m.Browser(loop["wwwroot"], "e2e_jonas", PASSWORD)
    theirs = other.post("/blocks/edcissuer/wallet.php", {"id": rid, "sesskey": other.sesskey, "action": "offer"})
    assert not OFFER_LINK.search(theirs.text) and theirs.status_code == 404
    assert "No such credential of yours." in theirs.text or "Tokio jūsų kredencialo nėra." in theirs.text  # Jonas reads lt


def test_the_credential_mail_carries_the_wallet_link_and_moodle_shows_its_code(loop):
    """EDC_WALLET_IN_MAIL: the credential mail the sidecar sent held an offer link and its QR code; "Show wallet
    code" in My credentials shows the code, and the Node wallet takes the credential from the mail's link."""
    learner = m.Browser(loop["wwwroot"], "e2e_ona", PASSWORD)
    rec = state(loop)["credentials"][0]
    rid, credential_id = str(rec["id"]), rec["credentialid"]
    mailed = [msg for msg in mails_to(loop, 0) if msg["X-EDC-Credential-Id"] == credential_id]
    assert mailed, "the credential mail did not reach the mail server"
    link = OFFER_LINK.search(plain(mailed[-1])).group(0)
    assert "wallet-offer.png" in [p.get_filename() for p in mailed[-1].iter_attachments()]
    shown = learner.post("/blocks/edcissuer/wallet.php", {"id": rid, "sesskey": learner.sesskey, "action": "code"})
    found = re.search(r'block_edcissuer-txcode"[^>]*><strong>(\d{6})</strong>', shown.text)
    assert found, re.findall(r'alert[^>]*>([^<]+)', shown.text)[:3]
    assert "no-store" in shown.headers.get("Cache-Control", "")
    assert m.screenshot(learner, "/blocks/edcissuer/mycredentials.php?lang=en", "my-credentials-wallet") == []
    folder = os.environ.get("EDC_E2E_SCREENSHOTS")
    if folder and m.CHROMIUM.exists():
        with m.LivePage(learner) as live:
            live.open("/blocks/edcissuer/mycredentials.php?lang=en")
            live.page.click(f'li[data-id="{rid}"] button.block_edcissuer-showwalletcode')
            live.page.wait_for_selector(".block_edcissuer-txcode")
            code = live.page.inner_text(".block_edcissuer-txcode").strip()  # the newest code replaces the one above
            live.page.screenshot(path=str(Path(folder, "add-to-wallet-code.png")), full_page=True)
            assert live.console_errors == []
    else:
        code = found.group(1)
    if _wallet_ready() is None:
        assert redeem(link, code)["claims"]["credential_id"] == credential_id
        used = learner.post("/blocks/edcissuer/wallet.php", {"id": rid, "sesskey": learner.sesskey, "action": "code"})
        assert "No &quot;Add to wallet&quot; link from the credential" in used.text or \
            'No "Add to wallet" link from the credential' in used.text


def test_a_revocation_in_the_sidecar_shows_revoked_in_moodle(loop):
    credential_id = state(loop, "other")["credentials"][0]["credentialid"]
    answer = requests.post(f"{loop['sidecar_url']}/api/v1/credentials/{credential_id}/revoke", headers=STAFF,
                           json={"reason": "Issued to the wrong learner"}, timeout=30)
    assert answer.status_code == 200, answer.text
    wait_for(lambda: state(loop, "other")["credentials"][0]["status"] == "revoked", "revocation shown in Moodle", loop)
    jonas = m.Browser(loop["wwwroot"], "e2e_jonas", PASSWORD)
    item = listed(jonas.get("/my/?lang=en").text)[0]
    assert 'data-status="revoked"' in item and "Reason: Issued to the wrong learner" in item
    assert "Priežastis: Issued to the wrong learner" in listed(jonas.get("/my/?lang=lt").text)[0]
    assert "block_edcissuer-wallet-form" not in item  # a revoked credential is never offered to a wallet
    rid = re.search(r'data-id="(\d+)"', item).group(1)
    refused = jonas.post("/blocks/edcissuer/wallet.php", {"id": rid, "sesskey": jonas.sesskey, "action": "offer"})
    assert not OFFER_LINK.search(refused.text)
    assert "Atšaukto kredencialo į piniginę įtraukti negalima." in refused.text  # Jonas reads Lithuanian


def test_a_reissue_in_the_sidecar_lists_the_new_one_and_marks_the_old_superseded(loop):
    old = state(loop)["credentials"][0]["credentialid"]
    answer = requests.post(f"{loop['sidecar_url']}/api/v1/credentials/{old}/reissue", headers=STAFF,
                           json={"learner": {"family_name": "Jonaitė-Petrė"}, "reason": "name changed"}, timeout=30)
    assert answer.status_code == 202, answer.text
    wait_for(lambda: len(state(loop)["credentials"]) == 2, "the corrected credential stored in Moodle", loop)
    wait_for(lambda: any(c["status"] == "revoked" for c in state(loop)["credentials"]), "the old one revoked", loop)
    learner = m.Browser(loop["wwwroot"], "e2e_ona", PASSWORD)
    items = listed(learner.get("/my/?lang=en").text)
    assert len(items) == 2
    assert 'data-status="superseded"' in items[1] and "Replaced by a corrected credential" in items[1]
    assert re.search(r'data-status="(delivered|issued)"', items[0])
    new = next(c for c in state(loop)["credentials"] if c["credentialid"] != old)
    assert next(c for c in state(loop)["credentials"] if c["credentialid"] == old)["supersededby"] == new["credentialid"]
    link = re.search(r'href="([^"]*pluginfile\.php[^"]*)"', items[0]).group(1).replace("&amp;", "&")
    assert "Jonait" in learner.get(link).content.decode("utf-8")
    teacher = m.Browser(loop["wwwroot"], "e2e_teacher", PASSWORD)
    rows = dict(re.findall(r'<tr data-userid="(\d+)" data-status="(\w+)"',
                           teacher.get(f"/blocks/edcissuer/issue.php?courseid={loop['courseid']}").text))
    assert rows[str(loop["learner"])] in ("delivered", "issued")  # follows the new credential
    assert m.screenshot(learner, "/my/?lang=lt", "my-credentials-reissued-lt") == []


def test_a_course_that_asks_for_elm_v3_gets_it_labelled_and_downloaded_as_elm_v3(loop):
    """Issue 12: the description form's format choice is honoured by the real sidecar, and Moodle stores,
    labels and serves the ELM v3 JSON-LD file as what it is (not as 'EDC XML')."""
    teacher = m.Browser(loop["wwwroot"], "e2e_teacher", PASSWORD)
    page = teacher.get(f"/blocks/edcissuer/spec.php?courseid={loop['courseid']}").text
    fields = [(k, "elm3-jsonld" if k == "format" else v) for k, v in m.form_fields(page)]
    assert ("format", "elm3-jsonld") in fields, "the description form offers no format choice"
    saved = teacher.post("/blocks/edcissuer/spec.php", fields + [("submitbutton", "Save")])
    assert "the sidecar accepted it" in saved.text, re.findall(r'alert[^>]*>([^<]+)', saved.text)[:3]
    before = len(state(loop, "other")["credentials"])  # Jonas's first one was revoked: a new request issues anew
    teacher.post(f"/blocks/edcissuer/issue.php?courseid={loop['courseid']}",
                 {"sesskey": teacher.sesskey, "action": "selected", "userids[]": [loop["other"]],
                  "confirmexception": 1, "exceptionreason": "Assessed again after the correction."})
    m.run_adhoc_tasks(MOODLE_DIR)
    wait_for(lambda: len(state(loop, "other")["credentials"]) == before + 1, "the ELM v3 credential stored", loop)
    jonas = m.Browser(loop["wwwroot"], "e2e_jonas", PASSWORD)
    items = [i for i in listed(jonas.get("/my/?lang=en").text) if 'data-status="revoked"' not in i]
    assert len(items) == 1 and "ELM v3 JSON-LD" in items[0] and "EDC v1 XML" not in items[0], items
    link = re.search(r'href="([^"]*pluginfile\.php[^"]*)"', items[0]).group(1).replace("&amp;", "&")
    assert link.split("?")[0].endswith(".json"), link
    download = jonas.get(link)
    assert download.status_code == 200
    assert download.headers["Content-Type"].split(";")[0] in ("application/ld+json", "application/json"), download.headers
    document = download.content
    assert json.loads(document)["signatures"]  # JAdES, JWS JSON serialization with the JSON-LD as payload
    assert b"credentialSubject" in document and b"credentialStatus" in document
    report = requests.post(loop["sidecar_url"] + "/api/v1/verify", data=document,
                           headers={"Content-Type": "application/ld+json"}, timeout=60).json()
    assert report["valid"] is True and report["format"] == "elm3-jsonld", report
    stored = [c for c in state(loop, "other")["credentials"] if c["status"] != "revoked"]
    assert [c.get("format") for c in stored] == ["elm3-jsonld"], stored
    assert m.screenshot(jonas, "/my/?lang=en", "my-credentials-elm3") == []


def test_export_for_europass_from_the_description_page(loop):
    """Issue 16: the description page's 'Export for Europass' links download what the sidecar exports, and a
    description Europass would refuse comes back to the form naming what is missing."""
    teacher = m.Browser(loop["wwwroot"], "e2e_teacher", PASSWORD)
    spec = f"/blocks/edcissuer/spec.php?courseid={loop['courseid']}"
    page = teacher.get(spec).text
    links = dict((label, href.replace("&amp;", "&")) for href, label in
                 re.findall(r'<a href="([^"]*europass\.php[^"]*)"[^>]*>([^<]+)</a>', page))
    assert set(links) == {"QDR XML (course register)", next(k for k in links if k.startswith("ELM"))}, links
    fields = [(k, "" if k in ("homepage", "isced_f") else v) for k, v in m.form_fields(page)]
    teacher.post("/blocks/edcissuer/spec.php", fields + [("submitbutton", "Save")])
    refused = teacher.get(links["QDR XML (course register)"])
    assert "Europass would refuse this description" in refused.text and "/homepage" in refused.text
    fields = [(k, {"homepage": "https://www.example.edu/data101", "isced_f": "0611"}.get(k, v))
              for k, v in m.form_fields(teacher.get(spec).text)]
    saved = teacher.post("/blocks/edcissuer/spec.php", fields + [("submitbutton", "Save")])
    assert "the sidecar accepted it" in saved.text, re.findall(r'alert[^>]*>([^<]+)', saved.text)[:3]
    exported = teacher.get(links["QDR XML (course register)"])
    assert exported.status_code == 200 and exported.headers["Content-Type"].startswith("application/xml"), \
        (exported.headers, exported.text[:500])
    assert b"learningOpportunity" in exported.content or b"LearningOpportunity" in exported.content
    assert "attachment" in exported.headers.get("Content-Disposition", "") and ".xml" in exported.headers["Content-Disposition"]
