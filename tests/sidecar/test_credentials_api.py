"""Staff API: listing with filters and pages, revocation (told to the learner), re-issue, verification."""
from __future__ import annotations

import pytest

from bridge import worker
from tests.sidecar.conftest import STAFF_HEADERS, make_event, pilot_learner, pilot_spec, post_event, put_spec

LEARNERS = ["ona-jonaite", "jonas-petraitis", "maria-garcia", "liam-obrien", "ruta-zemaitiene"]


@pytest.fixture
def issued(client, ctx):
    """Seven credentials: five learners in course 1, two in course 2."""
    put_spec(client, 1, pilot_spec("data101"))
    put_spec(client, 2, pilot_spec("green310"))
    for name in LEARNERS:
        post_event(client, make_event(1, pilot_learner(name)))
    for name in LEARNERS[:2]:
        post_event(client, make_event(2, pilot_learner(name)))
    assert worker.drain(ctx) == 7
    return client.get("/api/v1/credentials?limit=200", headers=STAFF_HEADERS).json["items"]


def test_staff_endpoints_need_the_token(client):
    for method, path in (("get", "/api/v1/credentials"), ("get", "/api/v1/credentials/x"),
                         ("post", "/api/v1/credentials/x/revoke"), ("post", "/api/v1/credentials/x/reissue"),
                         ("get", "/api/v1/deliveries"), ("post", "/api/v1/deliveries/1/retry")):
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic c3RhZmY="}):
            r = getattr(client, method)(path, headers=headers)
            assert r.status_code == 401, (method, path, headers)
            assert r.json["problems"][0]["pointer"] == "Authorization"


def test_list_filters_and_pages(client, issued):
    def get(query):
        r = client.get(f"/api/v1/credentials?{query}", headers=STAFF_HEADERS)
        assert r.status_code == 200, r.json
        return r.json

    assert get("")["total"] == 7
    assert get("course=2")["total"] == 2
    assert get("learner=34")["total"] == 2  # Ona (id 34) in both courses
    assert {i["learner"]["id"] for i in get("learner=34")["items"]} == {"34"}
    assert get("site=other")["total"] == 0
    assert get("status=revoked")["total"] == 0
    assert get("issued_from=2000-01-01")["total"] == 7 and get("issued_to=2000-01-01")["total"] == 0
    pages, offset = [], 0
    while offset is not None:
        page = get(f"limit=3&offset={offset}")
        pages.append([i["id"] for i in page["items"]])
        offset = page["next_offset"]
    assert [len(p) for p in pages] == [3, 3, 1]
    assert len({i for p in pages for i in p}) == 7
    bad = client.get("/api/v1/credentials?limit=0&course=x&issued_from=yesterday&status=lost", headers=STAFF_HEADERS)
    assert bad.status_code == 400
    assert {p["pointer"] for p in bad.json["problems"]} == {"?limit", "?course", "?issued_from", "?status"}


def test_get_by_urn_or_uuid_and_404(client, issued):
    cid = issued[0]["id"]
    by_urn = client.get(f"/api/v1/credentials/{cid}", headers=STAFF_HEADERS).json
    by_uuid = client.get(f"/api/v1/credentials/{cid.rsplit(':', 1)[-1]}", headers=STAFF_HEADERS).json
    assert by_urn == by_uuid and by_urn["id"] == cid
    assert {d["channel"] for d in by_urn["deliveries"]} == {"email", "moodle"}
    missing = client.get("/api/v1/credentials/urn:credential:00000000-0000-0000-0000-000000000000",
                         headers=STAFF_HEADERS)
    assert missing.status_code == 404 and missing.json["problems"][0]["pointer"] == "/id"


def test_revoke_tells_the_learner_and_verify_says_revoked(client, ctx, issued, channels):
    cid = issued[0]["id"]
    xml = client.get(f"/api/v1/credentials/{cid}.xml", headers=STAFF_HEADERS).data
    assert client.post("/api/v1/verify", data=xml, content_type="application/xml").json["valid"] is True

    no_reason = client.post(f"/api/v1/credentials/{cid}/revoke", json={}, headers=STAFF_HEADERS)
    assert no_reason.status_code == 400 and no_reason.json["problems"][0]["pointer"] == "/reason"
    r = client.post(f"/api/v1/credentials/{cid}/revoke", json={"reason": "issued in error"}, headers=STAFF_HEADERS)
    assert r.status_code == 200, r.json
    assert r.json["status"] == "revoked" and r.json["revocation"]["reason"] == "issued in error"
    again = client.post(f"/api/v1/credentials/{cid}/revoke", json={"reason": "x"}, headers=STAFF_HEADERS)
    assert again.status_code == 409

    worker.deliver_due(ctx)
    notices = [j for j in channels["email"].jobs if j.kind == "revoked"]
    assert len(notices) == 1 and notices[0].credential_id == cid and notices[0].reason == "issued in error"
    assert any(j.kind == "revoked" for j in channels["moodle"].jobs)

    verdict = client.post("/api/v1/verify", data=xml, content_type="application/xml").json
    assert verdict["valid"] is False and verdict["revoked"] is True
    assert verdict["registry"]["status"] == "revoked" and "issued in error" in verdict["problems"][0]
    upload = client.post("/api/v1/verify", data={"file": (__import__("io").BytesIO(xml), "c.xml")},
                         content_type="multipart/form-data")
    assert upload.json["revoked"] is True
    assert client.get("/api/v1/credentials?status=revoked", headers=STAFF_HEADERS).json["total"] == 1


def test_reissue_with_corrected_name_supersedes_and_revokes(client, ctx, issued, ec_token):
    old = issued[0]["id"]
    bad = client.post(f"/api/v1/credentials/{old}/reissue", json={"learner": {"email": "x@y.z"}}, headers=STAFF_HEADERS)
    assert bad.status_code == 400 and bad.json["problems"][0]["pointer"] == "/learner/email"
    r = client.post(f"/api/v1/credentials/{old}/reissue", json={"learner": {"family_name": "Corrected"},
                                                                "reason": "name misspelt"}, headers=STAFF_HEADERS)
    assert r.status_code == 202, r.json
    twice = client.post(f"/api/v1/credentials/{old}/reissue", json={}, headers=STAFF_HEADERS)
    assert twice.status_code == 409
    assert worker.drain(ctx) == 1
    issuance = client.get(f"/api/v1/issuances/{r.json['issuance_id']}", headers=STAFF_HEADERS).json
    new = client.get(f"/api/v1/credentials/{issuance['credential_id']}", headers=STAFF_HEADERS).json
    assert new["supersedes"] == old and new["status"] == "issued" and new["learner"]["name"].endswith("Corrected")
    before = client.get(f"/api/v1/credentials/{old}", headers=STAFF_HEADERS).json
    assert before["status"] == "revoked" and before["superseded_by"] == new["id"]
    assert "superseded" in before["revocation"]["reason"]
    xml = client.get(f"/api/v1/credentials/{new['id']}.xml", headers=STAFF_HEADERS).data
    assert "Corrected".encode() in xml
    assert client.post("/api/v1/verify", data=xml, content_type="application/xml").json["valid"] is True
    assert client.post(f"/api/v1/credentials/{old}/reissue", json={}, headers=STAFF_HEADERS).status_code == 409


def test_verify_refuses_garbage_and_empty(client):
    assert client.post("/api/v1/verify", data=b"", content_type="application/xml").status_code == 400
    r = client.post("/api/v1/verify", data=b"not a credential", content_type="text/plain")
    assert r.status_code == 200 and r.json["valid"] is False and r.json["problems"]
