"""The learner's actions from Moodle: share the public page on/off, get the printable PDF (HMAC-signed)."""
from __future__ import annotations

import io
import json

import pytest
from pypdf import PdfReader

from bridge import worker
from bridge.registry.models import AuditEntry
from tests.sidecar.conftest import STAFF_HEADERS, make_event, pilot_learner, pilot_spec, post_event, put_spec, signed


@pytest.fixture
def credential(client, ctx) -> str:
    """Ona's (Moodle user 34, site demo) sealed credential of course 1."""
    put_spec(client, 1, pilot_spec())
    post_event(client, make_event(1, pilot_learner("ona-jonaite")))
    assert worker.drain(ctx) == 1
    items = client.get("/api/v1/credentials?learner=34", headers=STAFF_HEADERS).json["items"]
    return items[0]["id"]


def share(client, cred: str, body: object, **kw):
    path = f"/api/v1/credentials/{cred}/sharing"
    data = json.dumps(body).encode()
    return client.post(path, data=data, headers=signed("POST", path, data, **kw))


def pdf(client, cred: str, query: str):
    path = f"/api/v1/credentials/{cred}/pdf"
    return client.get(f"{path}?{query}", headers=signed("GET", path, query=query))


def test_the_holder_turns_the_public_page_on_and_off(client, ctx, credential):
    assert client.get(f"/credentials/{credential}").status_code == 404  # not shared: only the token opens it
    on = share(client, credential, {"site": "demo", "learner": 34, "shared": True})
    assert on.status_code == 200, on.json
    assert on.json["shared"] is True and on.json["credential_id"] == credential
    assert on.json["public_url"] == f"https://edc.example.test/credentials/{credential}"
    assert on.json["changed_at"].endswith("Z")
    assert client.get(f"/credentials/{credential}").status_code == 200  # anyone with the address
    off = share(client, credential, {"site": "demo", "learner": 34, "shared": False})
    assert off.status_code == 200 and off.json["shared"] is False
    assert client.get(f"/credentials/{credential}").status_code == 404
    with ctx.registry.reading() as session:
        entries = [e for e in session.query(AuditEntry).filter(AuditEntry.action == "credential.sharing")]
        assert [json.loads(e.details)["shared"] for e in entries] == [True, False]
        assert {e.actor for e in entries} == {"moodle:demo:learner:34"}


@pytest.mark.parametrize("body", [{"site": "demo", "learner": 35, "shared": True},
                                  {"site": "other", "learner": 34, "shared": True}])
def test_another_learner_or_site_gets_404_and_changes_nothing(client, credential, body):
    answer = share(client, credential, body)
    assert answer.status_code == 404 and answer.json["problems"][0]["pointer"] == "/id"
    assert client.get(f"/credentials/{credential}").status_code == 404
    assert share(client, "urn:credential:00000000-0000-0000-0000-000000000000",
                 {"site": "demo", "learner": 34, "shared": True}).status_code == 404


def test_bad_bodies_name_the_field(client, credential):
    cases = [([], ""), ({"site": "demo", "learner": 34, "shared": "yes"}, "/shared"),
             ({"site": "demo", "shared": True}, "/learner"), ({"site": "a b", "learner": 34, "shared": True}, "/site"),
             ({"site": "demo", "learner": "x", "shared": True}, "/learner")]
    for body, pointer in cases:
        answer = share(client, credential, body)
        assert answer.status_code == 400, (body, answer.json)
        assert answer.json["problems"][0]["pointer"] == pointer, (body, answer.json)


def test_unsigned_or_replayed_requests_are_refused(client, credential):
    path = f"/api/v1/credentials/{credential}/sharing"
    body = json.dumps({"site": "demo", "learner": 34, "shared": True}).encode()
    assert client.post(path, data=body, headers={"Content-Type": "application/json"}).status_code == 401
    headers = signed("POST", path, body)
    assert client.post(path, data=body, headers=headers).status_code == 200
    replay = client.post(path, data=body, headers=headers)
    assert replay.status_code == 401 and replay.json["problems"][0]["pointer"] == "X-EDC-Nonce"
    assert pdf(client, credential, "site=demo&learner=34").status_code == 200
    assert client.get(f"/api/v1/credentials/{credential}/pdf?site=demo&learner=34").status_code == 401


def test_the_printable_pdf_in_the_learners_language_says_revoked_once_revoked(client, credential):
    answer = pdf(client, credential, "site=demo&learner=34&lang=lt")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Content-Disposition"].startswith('inline; filename="credential-')
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.data)).pages)
    assert "Duomenų raštingumas visiems" in text
    client.post(f"/api/v1/credentials/{credential}/revoke", json={"reason": "issued in error"}, headers=STAFF_HEADERS)
    revoked = pdf(client, credential, "site=demo&learner=34&lang=en")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(revoked.data)).pages)
    assert "revoked" in text.lower() and "issued in error" in text


def test_the_pdf_is_only_the_holders(client, credential):
    assert pdf(client, credential, "site=demo&learner=35").status_code == 404
    assert pdf(client, credential, "site=other&learner=34").status_code == 404
    for query, pointer in (("site=demo", "?learner"), ("site=demo&learner=34&lang=xx", "?lang"),
                           ("site=demo&learner=34&learner=35", "?learner")):
        answer = pdf(client, credential, query)
        assert answer.status_code == 400 and answer.json["problems"][0]["pointer"] == pointer, (query, answer.json)
