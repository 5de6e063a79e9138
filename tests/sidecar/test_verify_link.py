"""A link to verify this very credential: the mail, Moodle's "Verify", the page and the PDF lead to the
verdict on the stored credential at once (its id and the holder's token); the upload page stays."""
from __future__ import annotations

import re

from bridge import worker
from bridge.registry.models import CredentialLink
from tests.sidecar.conftest import STAFF_HEADERS, make_event, pilot_spec, post_event, put_spec

LINK = re.compile(r"^https://edc\.example\.test/verify/(urn:credential:[0-9a-f-]{36})\?t=([A-Za-z0-9_-]{32})$")


def _issue(client, ctx) -> None:
    put_spec(client, 1, pilot_spec())
    post_event(client, make_event())
    assert worker.drain(ctx) == 1


def test_mail_and_moodle_carry_the_holders_link_to_verify_this_credential(client, ctx, channels):
    _issue(client, ctx)
    (mail,), (moodle,) = channels["email"].jobs, channels["moodle"].jobs
    assert mail.verify_url == moodle.verify_url
    credential_id, token = LINK.match(mail.verify_url).groups()
    assert credential_id == mail.credential_id
    with ctx.registry.reading() as session:
        assert session.get(CredentialLink, credential_id).token == token
    assert mail.view_url == f"https://edc.example.test/credentials/{credential_id}?t={token}"


def test_the_link_shows_the_verdict_at_once_and_today_s(client, ctx, channels):
    _issue(client, ctx)
    url = channels["email"].jobs[0].verify_url
    path = url.removeprefix("https://edc.example.test")
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-verdict="valid"' in html
    assert channels["email"].jobs[0].credential_id in html and "Ona Jonaitė" in html
    assert 'type="file"' not in html  # nothing to upload: it is the stored credential
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"
    assert client.get(path.split("?")[0]).status_code == 404  # the id alone shows nothing (not shared)
    assert client.get(path[:-4] + "AAAA").status_code == 404
    cid = channels["email"].jobs[0].credential_id
    client.post(f"/api/v1/credentials/{cid}/revoke", json={"reason": "issued by mistake"}, headers=STAFF_HEADERS)
    assert 'data-verdict="revoked"' in client.get(path).get_data(as_text=True)
    upload = client.get("/verify").get_data(as_text=True)
    assert 'type="file"' in upload  # the upload page stays, for files from elsewhere


def test_the_page_links_to_the_verification_and_its_qr_code_leads_there(client, ctx, channels):
    _issue(client, ctx)
    job = channels["email"].jobs[0]
    html = client.get(job.view_url.removeprefix("https://edc.example.test")).get_data(as_text=True)
    assert f'href="{job.verify_url}"' in html.replace("&amp;", "&")
