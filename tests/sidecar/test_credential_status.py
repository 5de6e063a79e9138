"""A status any verifier can check: every ELM v3 credential names <EDC_PUBLIC_URL>/status/<uuid>, which
answers with a statement sealed on the HSM (no personal data, cacheable); /api/v1/verify and
`edc-bridge verify` (over loopback HTTP) look it up and say checked | unreachable | not-offered."""
from __future__ import annotations

import dataclasses
import json
import socket
import time

import pytest

from bridge import worker
from bridge.app import create_app
from bridge.cli import main as edc_bridge
from bridge.edc import status
from bridge.edc.jades import JadesDocument
from bridge.edc.trust import describe
from bridge.registry.models import Credential
from hsm.signer import open_seal
from tests.elm3.helpers import SHACL_DIR
from tests.loopback import served_on_loopback
from tests.sidecar.conftest import STAFF_HEADERS, make_event, pilot_learner, pilot_spec, post_event, put_spec


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(settings, channels):
    """The sidecar on a loopback port (its EDC_PUBLIC_URL), with the EU's shapes checked on every credential."""
    port = _free_port()
    app = create_app(dataclasses.replace(settings, public_url=f"http://127.0.0.1:{port}", shacl_dir=str(SHACL_DIR)),
                     channels=channels)
    with served_on_loopback(app, port) as base_url:
        yield app, base_url


def _issue(app, course: int = 1, fmt: str | None = "elm3-jsonld") -> tuple[str, bytes]:
    client, ctx = app.test_client(), app.extensions["edc"]
    spec = pilot_spec() if course == 1 else pilot_spec("cyber201")
    if fmt:
        spec["format"] = fmt
    assert put_spec(client, course, spec).json["valid"] is True
    post_event(client, make_event(course))
    assert worker.drain(ctx) == 1
    with ctx.registry.reading() as session:
        cid = session.query(Credential.id).filter(Credential.course_id == course).scalar()
    return cid, client.get(f"/api/v1/credentials/{cid}.xml", headers=STAFF_HEADERS).data


def _uuid(cid: str) -> str:
    return cid.rsplit(":", 1)[1]


def test_each_elm3_credential_names_its_status_and_the_sidecar_answers_it_sealed(served, ec_token):
    app, base = served
    client = app.test_client()
    cid, document = _issue(app)
    payload = json.loads(JadesDocument.parse(document).payload)
    assert payload["credentialStatus"] == {"@value": f"{base}/status/{_uuid(cid)}", "@type": "xsd:anyURI"}
    answer = client.get(f"/status/{_uuid(cid)}")
    assert answer.status_code == 200 and answer.mimetype == "application/jose+json"
    assert answer.headers["Cache-Control"] == "public, max-age=300"
    seal = open_seal(ec_token.config)
    said, problem = status.judge(answer.data, cid, trust_anchors=[ec_token.ca_cert], sealer=describe(seal.certificate),
                                 now=status.dt.datetime.now(status.dt.timezone.utc))
    assert problem is None and said["status"] == "active"
    learner = pilot_learner()
    assert learner["family_name"].encode() not in answer.data and learner["email"].encode() not in answer.data
    assert client.get(f"/status/{_uuid(cid)}").data == answer.data  # kept, not sealed again for every ask
    assert client.get("/status/00000000-0000-4000-8000-000000000000").status_code == 404
    assert client.get("/status/not-a-uuid").status_code == 404


def test_a_revocation_is_stated_with_its_date_and_category_never_its_words(served):
    app, _ = served
    client = app.test_client()
    cid, _ = _issue(app)
    before = client.get(f"/status/{_uuid(cid)}").data
    refused = client.post(f"/api/v1/credentials/{cid}/revoke", json={"reason": "x", "category": "oops"},
                          headers=STAFF_HEADERS)
    assert refused.status_code == 400 and refused.json["problems"][0]["pointer"] == "/category"
    client.post(f"/api/v1/credentials/{cid}/revoke", json={"reason": "Ona asked us privately", "category":
                                                          "issued-in-error"}, headers=STAFF_HEADERS)
    after = client.get(f"/status/{_uuid(cid)}").data
    assert after != before  # a changed standing is sealed again at once, not after the cache time
    said = json.loads(JadesDocument.parse(after).payload)
    assert said["status"] == "revoked" and said["revoked"]["reason"] == "issued-in-error" and said["revoked"]["at"]
    assert b"privately" not in after


def test_a_superseded_credential_says_which_one_replaced_it(served):
    app, _ = served
    client, ctx = app.test_client(), app.extensions["edc"]
    cid, _ = _issue(app)
    client.post(f"/api/v1/credentials/{cid}/reissue", json={}, headers=STAFF_HEADERS)
    worker.drain(ctx)
    said = json.loads(JadesDocument.parse(client.get(f"/status/{_uuid(cid)}").data).payload)
    with ctx.registry.reading() as session:
        successor = session.get(Credential, cid).superseded_by
    assert said["status"] == "revoked" and said["revoked"]["reason"] == "superseded"
    assert said["supersededBy"] == successor and successor


def test_verify_reports_the_status_beside_the_registrys_view(served):
    app, _ = served
    client = app.test_client()
    cid, document = _issue(app)
    verdict = client.post("/api/v1/verify", data=document, content_type="application/ld+json").json
    assert verdict["valid"] is True and verdict["revocation"] == "checked"
    assert verdict["credential_status"]["status"] == "active" and verdict["registry"]["known"] is True
    client.post(f"/api/v1/credentials/{cid}/revoke", json={"reason": "r"}, headers=STAFF_HEADERS)
    verdict = client.post("/api/v1/verify", data=document, content_type="application/ld+json").json
    assert verdict["valid"] is False and verdict["revocation"] == "checked"
    assert verdict["credential_status"]["revoked"]["reason"] == "unspecified"
    _, xml = _issue(app, course=2, fmt=None)  # EDC v1 XML, the site default: it has no status field
    verdict = client.post("/api/v1/verify", data=xml, content_type="application/xml").json
    assert verdict["revocation"] == "not-offered" and any("no status field" in n for n in verdict["notes"])


def test_edc_bridge_verify_looks_the_status_up_over_http(served, ec_token, tmp_path, capsys, monkeypatch):
    app, base = served
    monkeypatch.delenv("EDC_SHACL_DIR", raising=False)
    cid, document = _issue(app)
    path = tmp_path / "credential.json"
    path.write_bytes(document)

    def verify(*extra: str) -> dict:
        edc_bridge(["verify", str(path), "--json", "--trust-anchors", str(ec_token.ca_cert_path), *extra])
        return json.loads(capsys.readouterr().out)

    assert verify()["revocation"] == "checked"
    assert verify("--offline")["revocation"] is None
    app.test_client().post(f"/api/v1/credentials/{cid}/revoke", json={"reason": "r", "category": "withdrawn"},
                           headers=STAFF_HEADERS)
    revoked = verify()
    assert revoked["valid"] is False and revoked["credential_status"]["status"] == "revoked"
    assert revoked["credential_status"]["revoked"]["reason"] == "withdrawn"


def test_a_status_resource_that_does_not_answer_in_time_is_unreachable(ec_token):
    """A server that accepts the connection and never answers: the verdict comes within the bound."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/status/x"
    try:
        started = time.monotonic()
        check = status.look_up("urn:credential:x", url, status.http_fetch, trust_anchors=[ec_token.ca_cert],
                               sealer=None, now=status.dt.datetime.now(status.dt.timezone.utc))
        assert check.revocation == "unreachable" and "gave no answer" in check.notes[0]
        assert time.monotonic() - started < status.TIMEOUT_SECONDS + 2
    finally:
        silent.close()


def test_the_verify_pages_say_what_the_status_resource_answered(served):
    app, _ = served
    client = app.test_client()
    _, document = _issue(app)
    import io

    page = client.post("/verify?lang=lt", data={"file": (io.BytesIO(document), "c.json")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert 'data-revocation="checked"' in page and "Išdavėjo būsenos šaltinis: paklausta: atsakė" in page
