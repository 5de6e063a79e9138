"""The staff and public pages over HTTP (Flask's test client on the real app and registry)."""
from __future__ import annotations

import csv
import io
import re
import subprocess

import zxingcpp
from PIL import Image

import pytest
from pypdf import PdfReader

from bridge.registry import links
from bridge.web.public import CredentialLink, public_url, set_sharing

from .conftest import STAFF_TOKEN


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the form has no CSRF token"
    return match.group(1)


@pytest.fixture()
def staff_client(sidecar):
    client = sidecar.app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    answer = client.post("/staff/login", data={"token": STAFF_TOKEN, "csrf_token": _csrf(page)})
    assert answer.status_code == 303
    return client


def test_staff_pages_need_a_login(sidecar):
    client = sidecar.app.test_client()
    for path in ("/staff/", "/staff/credentials", "/staff/credentials.csv"):
        answer = client.get(path)
        assert answer.status_code == 303 and "/staff/login" in answer.headers["Location"], path


def test_wrong_token_is_refused_and_session_cookie_is_strict(sidecar):
    client = sidecar.app.test_client()
    page = client.get("/staff/login")
    cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    answer = client.post("/staff/login", data={"token": "wrong", "csrf_token": _csrf(page.get_data(as_text=True))})
    assert answer.status_code == 401
    assert client.get("/staff/").status_code == 303


def test_post_without_csrf_token_changes_nothing(sidecar, staff_client):
    credential_id = sidecar.credentials["DATA101/María José García López"]
    answer = staff_client.post(f"/staff/credentials/{credential_id}/revoke", data={"reason": "no token"})
    assert answer.status_code == 303
    detail = staff_client.get(f"/staff/credentials/{credential_id}").get_data(as_text=True)
    assert 'id="status">issued<' in detail


def test_search_by_learner_course_and_status(sidecar, staff_client):
    page = staff_client.get("/staff/credentials?q=jonait").get_data(as_text=True)
    assert "Ona Jonaitė" in page and "Liam" not in page
    page = staff_client.get("/staff/credentials?q=žemaitienė").get_data(as_text=True)
    assert "Rūta Žemaitienė" in page  # case-insensitive beyond ASCII, on SQLite too
    page = staff_client.get(f"/staff/credentials?course=test-site/31").get_data(as_text=True)
    assert "LTLANG01" in page and "DATA101" not in page.split('id="results"')[1]
    page = staff_client.get("/staff/credentials?status=revoked&from=2000-01-01").get_data(as_text=True)
    assert "No credential matches." in page or "revoked" in page


def test_csv_export_has_every_match_and_neutralises_formulas(sidecar, staff_client):
    answer = staff_client.get("/staff/credentials.csv?course=test-site/12")
    assert answer.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert len(rows) >= 5 and {r["course"] for r in rows} == {"DATA101"}  # 5 learners (+ a re-issue, if run)
    assert all(r["credential_id"].startswith("urn:credential:") and len(r["sha256"]) == 64 for r in rows)


def test_dashboard_draws_the_chart_and_shows_failing_deliveries(sidecar, staff_client):
    page = staff_client.get("/staff/").get_data(as_text=True)
    assert "<svg" in page and "DATA101" in page and "LTLANG01" in page
    failing = re.search(r'id="tile-failing">\s*<div class="big">(\d+)</div>', page)
    assert failing and int(failing.group(1)) >= 1  # SMTP points at a closed port
    assert "dash_seal" not in page and "expires on" in page


def test_lithuanian_staff_pages(sidecar, staff_client):
    page = staff_client.get("/staff/?lang=lt").get_data(as_text=True)
    assert "Apžvalga" in page and "Šiuo metu nepavykstantys pristatymai" in page
    assert 'lang="lt"' in page


def test_public_page_needs_the_link_token_or_sharing(sidecar):
    credential_id = sidecar.credentials["LTLANG01/Jonas Petraitis"]
    client = sidecar.app.test_client()
    assert client.get(f"/credentials/{credential_id}").status_code == 404
    assert client.get(f"/credentials/{credential_id}?t=guess").status_code == 404
    with sidecar.ctx.registry.transaction() as session:
        url = public_url(session, credential_id, sidecar.base_url)
    page = client.get(url.removeprefix(sidecar.base_url))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Jonas Petraitis" in html and "Lithuanian for Beginners (A1)" in html
    assert 'data-verdict="valid"' in html
    with sidecar.ctx.registry.transaction() as session:
        set_sharing(session, credential_id, True, "learner")
    short = credential_id.rsplit(":", 1)[-1]
    assert client.get(f"/credentials/{short}").status_code == 200  # shared: the id alone is enough
    with sidecar.ctx.registry.transaction() as session:
        set_sharing(session, credential_id, False, "learner")
    assert client.get(f"/credentials/{short}").status_code == 404


def test_public_pdf_is_the_same_credential(sidecar, tmp_path):
    credential_id = sidecar.credentials["GREEN310/Jonas Petraitis"]
    with sidecar.ctx.registry.transaction() as session:
        url = public_url(session, credential_id, sidecar.base_url)
    path, _, query = url.removeprefix(sidecar.base_url).partition("?")
    answer = sidecar.app.test_client().get(f"{path}/pdf?{query}&lang=lt")
    assert answer.mimetype == "application/pdf"
    text = " ".join(PdfReader(io.BytesIO(answer.data)).pages[0].extract_text().split())
    assert "Jonas Petraitis" in text and "Galioja" in text
    (tmp_path / "c.pdf").write_bytes(answer.data)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(tmp_path / "c.pdf"), str(tmp_path / "c")],
                   check=True)
    codes = zxingcpp.read_barcodes(Image.open(tmp_path / "c.png"))
    with sidecar.ctx.registry.transaction() as session:
        check = links.verify_url(session, credential_id, sidecar.base_url)
    assert [c.text for c in codes] == [check]  # the paper leads to the verification of this very credential


def test_verify_page_refuses_empty_upload(sidecar):
    answer = sidecar.app.test_client().post("/verify", data={}, content_type="multipart/form-data")
    assert answer.status_code == 400 and "Please choose a file." in answer.get_data(as_text=True)


def test_links_table_exists_with_unique_tokens(sidecar):
    with sidecar.ctx.registry.transaction() as session:
        tokens = [public_url(session, cid, sidecar.base_url) for cid in sidecar.credentials.values()]
        assert session.query(CredentialLink).count() >= len(tokens)
    assert len(set(tokens)) == len(tokens)


def test_link_holder_can_share_and_unshare_the_page(sidecar):
    credential_id = sidecar.credentials["DATA101/Liam O'Brien"]
    client = sidecar.app.test_client()
    with sidecar.ctx.registry.transaction() as session:
        url = public_url(session, credential_id, sidecar.base_url)
    token = url.rsplit("t=", 1)[1]
    page = client.get(url.removeprefix(sidecar.base_url)).get_data(as_text=True)
    assert 'id="sharing"' in page and "Only people who have this link" in page
    assert client.post(f"/credentials/{credential_id}/sharing", data={"t": "forged", "shared": "1"}).status_code == 404
    assert client.get(f"/credentials/{credential_id}").status_code == 404
    answer = client.post(f"/credentials/{credential_id}/sharing", data={"t": token, "shared": "1"})
    assert answer.status_code == 303
    anyone = sidecar.app.test_client().get(f"/credentials/{credential_id}").get_data(as_text=True)
    assert "Liam O&#39;Brien" in anyone and 'id="sharing"' not in anyone  # a visitor cannot change it
    client.post(f"/credentials/{credential_id}/sharing", data={"t": token, "shared": "0"})
    assert sidecar.app.test_client().get(f"/credentials/{credential_id}").status_code == 404


def test_pages_send_no_referrer_and_a_strict_content_security_policy(sidecar):
    credential_id = sidecar.credentials["DATA101/Jonas Petraitis"]
    with sidecar.ctx.registry.transaction() as session:
        url = public_url(session, credential_id, sidecar.base_url)
    client = sidecar.app.test_client()
    for path in (url.removeprefix(sidecar.base_url), "/verify", "/staff/login"):
        headers = client.get(path).headers
        assert headers["Referrer-Policy"] == "no-referrer", path  # the link token must not leak
        assert "script-src" not in headers["Content-Security-Policy"] and "default-src 'none'" in headers[
            "Content-Security-Policy"], path
        assert headers["X-Frame-Options"] == "DENY"
    assert client.get(url.removeprefix(sidecar.base_url)).headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("upload", [b"not a credential at all", b"<europassCredential xmlns='http://data.europa.eu/snb'>",
                                    b'{"@context": [], "type": ["VerifiableCredential"]}'],
                         ids=["text", "broken-xml", "json"])
def test_verify_page_gives_a_verdict_for_files_it_cannot_read(sidecar, upload):
    answer = sidecar.app.test_client().post("/verify", data={"file": (io.BytesIO(upload), "x.xml")},
                                            content_type="multipart/form-data")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and 'data-verdict="not_valid"' in html


def test_reissue_with_a_corrected_name_supersedes_the_old_credential(sidecar, staff_client):
    from bridge import worker
    from bridge.registry.models import Credential

    old_id = sidecar.credentials["DATA101/Ona Jonaitė"]
    page = staff_client.get(f"/staff/credentials/{old_id}").get_data(as_text=True)
    answer = staff_client.post(f"/staff/credentials/{old_id}/reissue",
                               data={"csrf_token": _csrf(page), "given_names": "Ona Marija", "family_name": ""})
    assert answer.status_code == 303
    assert worker.drain(sidecar.ctx) == 1
    with sidecar.ctx.registry.transaction() as session:
        old = session.get(Credential, old_id)
        new = session.get(Credential, old.superseded_by)
        assert old.status == "revoked" and new.learner_name == "Ona Marija Jonaitė" and new.supersedes == old_id
        new_id = new.id
    detail = staff_client.get(f"/staff/credentials/{old_id}").get_data(as_text=True)
    assert "credential.reissue_requested" in detail and 'id="status">revoked<' in detail
    assert "Ona Marija Jonaitė" in staff_client.get(f"/staff/credentials/{new_id}").get_data(as_text=True)


def test_a_sent_delivery_can_be_sent_again_from_its_credential_page_with_a_reason(sidecar, staff_client):
    from sqlalchemy import select, update

    from bridge.registry.models import AuditEntry, Delivery

    credential_id = next(v for k, v in sidecar.credentials.items() if k.startswith("LTLANG01/"))
    with sidecar.ctx.registry.transaction() as session:  # the test sidecar's SMTP is closed: mark it delivered
        delivery_id = session.execute(select(Delivery.id).where(Delivery.credential_id == credential_id,
                                                                Delivery.kind == "issued")).scalar_one()
        session.execute(update(Delivery).where(Delivery.id == delivery_id).values(state="sent", last_error=None))
    page = staff_client.get(f"/staff/credentials/{credential_id}").get_data(as_text=True)
    assert f'action="/staff/deliveries/{delivery_id}/resend"' in page and "Send again" in page
    refused = staff_client.post(f"/staff/deliveries/{delivery_id}/resend",
                                data={"csrf_token": _csrf(page), "reason": " "}, follow_redirects=True)
    refused = refused.get_data(as_text=True)
    assert "A reason is needed to send it again." in refused
    page = staff_client.get(f"/staff/credentials/{credential_id}").get_data(as_text=True)
    done = staff_client.post(f"/staff/deliveries/{delivery_id}/resend",
                             data={"csrf_token": _csrf(page), "reason": "the learner asked at the desk"},
                             follow_redirects=True).get_data(as_text=True)
    assert "It will be sent again now, as a new message." in done and "sent again: 1" in done
    with sidecar.ctx.registry.reading() as session:
        row = session.get(Delivery, delivery_id)
        assert row.state == "pending" and row.resends == 1
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "delivery.resend_requested",
                                                         AuditEntry.subject == str(delivery_id))).scalar_one()
        assert "the learner asked at the desk" in entry.details and "staff" in entry.actor
    page = staff_client.get(f"/staff/credentials/{credential_id}").get_data(as_text=True)
    twice = staff_client.post(f"/staff/deliveries/{delivery_id}/resend",  # still pending: refused, in words
                              data={"csrf_token": _csrf(page), "reason": "again"}, follow_redirects=True)
    assert "Only a delivery that was sent can be sent again" in twice.get_data(as_text=True)
    in_lithuanian = staff_client.post(f"/staff/deliveries/{delivery_id}/resend?lang=lt",
                                      data={"csrf_token": _csrf(page), "reason": "again"}, follow_redirects=True)
    assert "Dar kartą siųsti galima tik išsiųstą pristatymą" in in_lithuanian.get_data(as_text=True)
    staff_client.get("/staff/?lang=en")  # the language choice is remembered: leave the session in English
    with sidecar.ctx.registry.reading() as session:
        assert session.get(Delivery, delivery_id).resends == 1
