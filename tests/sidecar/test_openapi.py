"""schemas/openapi.yaml against the running app: the document is valid OpenAPI 3.1, every API route
is documented, and real answers of every documented operation match the documented status codes,
media types and schemas. (schemathesis was not used: not installed here, and this is faster.)"""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from bridge import worker
from tests.sidecar.conftest import STAFF_HEADERS, make_event, pilot_spec, post_event, put_spec, signed

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
DOC_URI = (SCHEMAS / "openapi.yaml").as_uri()
DOC = yaml.safe_load((SCHEMAS / "openapi.yaml").read_text(encoding="utf-8"))
PAGE_BLUEPRINTS = ("edc_pages.", "staff.", "static")  # HTML pages: documented in bridge/web


def _registry() -> Registry:
    resources = [(DOC_URI, Resource.from_contents(DOC, default_specification=DRAFT202012))]
    for path in SCHEMAS.glob("*.schema.json"):
        resources.append((path.as_uri(), Resource.from_contents(json.loads(path.read_text("utf-8")))))
    return Registry().with_resources(resources)


REGISTRY = _registry()


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _response_object(path: str, method: str, status: int) -> tuple[dict, str]:
    responses = DOC["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path} answered {status}, which is not documented"
    obj, where = responses[str(status)], _pointer("paths", path, method, "responses", str(status))
    if "$ref" in obj:
        where = obj["$ref"][2:]
        obj = DOC
        for part in where.split("/"):
            obj = obj[part.replace("~1", "/").replace("~0", "~")]
    return obj, where


class Checked:
    def __init__(self) -> None:
        self.operations: set[tuple[str, str]] = set()

    def __call__(self, path: str, method: str, response, status: int | None = None):
        if status is not None:
            assert response.status_code == status, (path, method, response.status_code, response.get_data(as_text=True))
        obj, where = _response_object(path, method, response.status_code)
        media = response.mimetype
        content = obj.get("content", {})
        assert media in content, f"{method.upper()} {path} {response.status_code}: {media} not documented ({list(content)})"
        if media == "application/json":
            ref = f"{DOC_URI}#/{where}/content/{_pointer(media)}/schema"
            validator = jsonschema.Draft202012Validator({"$ref": ref}, registry=REGISTRY)
            errors = sorted(validator.iter_errors(response.json), key=str)
            assert not errors, f"{method.upper()} {path} {response.status_code}: {errors[0].message} at {list(errors[0].absolute_path)}"
        self.operations.add((path, method))
        return response


def test_document_is_valid_openapi():
    validate(DOC, base_uri=DOC_URI)


def test_every_api_route_is_documented(app):
    documented = {(p, m) for p, ops in DOC["paths"].items() for m in ops if m in ("get", "post", "put", "delete", "patch")}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(PAGE_BLUEPRINTS):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((path, method.lower()))
    assert served - documented == set(), "routes missing from schemas/openapi.yaml"
    assert documented - served == set(), "documented operations the app does not serve"


def test_real_answers_match_the_document(client, ctx, settings):
    check = Checked()
    spec_path = "/api/v1/courses/{site}/{course}/specification"
    check(spec_path, "put", put_spec(client, 1, pilot_spec()), 200)
    incomplete = {k: v for k, v in pilot_spec().items() if k != "eqf_level"}
    assert check(spec_path, "put", put_spec(client, 2, incomplete), 200).json["valid"] is False
    check(spec_path, "put", client.put("/api/v1/courses/demo/1/specification", data=b"{}"), 401)
    check(spec_path, "put", client.put("/api/v1/courses/demo/1/specification", data=b"{", headers={
        **STAFF_HEADERS, "Content-Type": "application/json"}), 400)

    events = "/api/v1/events"
    accepted = check(events, "post", post_event(client, make_event()), 202).json
    check(events, "post", post_event(client, make_event(2)), 202)
    check(events, "post", post_event(client, dict(make_event(), type="graduated")), 400)
    check(events, "post", client.post(events, data=b"{}"), 401)
    big = b" " * (settings.max_body_bytes + 10)
    check(events, "post", client.post(events, data=big, headers=signed("POST", events, big)), 413)
    worker.drain(ctx)

    check("/api/v1/issuances", "get", client.get("/api/v1/issuances?site=demo&course=1", headers=signed(
        "GET", "/api/v1/issuances", query="site=demo&course=1")), 200)
    check("/api/v1/issuances", "get", client.get("/api/v1/issuances?site=demo", headers=signed(
        "GET", "/api/v1/issuances", query="site=demo")), 400)
    check("/api/v1/issuances", "get", client.get("/api/v1/issuances?site=demo&course=1"), 401)
    one = "/api/v1/issuances/{issuance_id}"
    issuance = check(one, "get", client.get(f"/api/v1/issuances/{accepted['issuance_id']}", headers=STAFF_HEADERS), 200)
    check(one, "get", client.get("/api/v1/issuances/nope", headers=STAFF_HEADERS), 404)
    check(one, "get", client.get("/api/v1/issuances/nope"), 401)
    cid = issuance.json["credential_id"]

    listing = "/api/v1/credentials"
    check(listing, "get", client.get(listing + "?limit=1&course=1", headers=STAFF_HEADERS), 200)
    check(listing, "get", client.get(listing + "?limit=x", headers=STAFF_HEADERS), 400)
    check(listing, "get", client.get(listing), 401)
    single = "/api/v1/credentials/{cred_id}"
    check(single, "get", client.get(f"/api/v1/credentials/{cid}", headers=STAFF_HEADERS), 200)
    check(single, "get", client.get("/api/v1/credentials/unknown", headers=STAFF_HEADERS), 404)
    check(single, "get", client.get(f"/api/v1/credentials/{cid}"), 401)
    doc = "/api/v1/credentials/{cred_id}.xml"
    xml = check(doc, "get", client.get(f"/api/v1/credentials/{cid}.xml", headers=STAFF_HEADERS), 200).data
    check(doc, "get", client.get("/api/v1/credentials/unknown.xml", headers=STAFF_HEADERS), 404)
    check(doc, "get", client.get(f"/api/v1/credentials/{cid}.xml"), 401)

    verify = "/api/v1/verify"
    check(verify, "post", client.post(verify, data=xml, content_type="application/xml"), 200)
    check(verify, "post", client.post(verify, data={"file": (io.BytesIO(xml), "c.xml")},
                                      content_type="multipart/form-data"), 200)
    check(verify, "post", client.post(verify, data=b"", content_type="application/xml"), 400)
    check("/status/{uuid}", "get", client.get(f"/status/{cid.rsplit(':', 1)[1]}"), 200)
    check("/status/{uuid}", "get", client.get("/status/00000000-0000-4000-8000-000000000000"), 404)

    reissue = "/api/v1/credentials/{cred_id}/reissue"
    check(reissue, "post", client.post(f"/api/v1/credentials/{cid}/reissue", json={"learner": []},
                                       headers=STAFF_HEADERS), 400)
    check(reissue, "post", client.post("/api/v1/credentials/unknown/reissue", json={}, headers=STAFF_HEADERS), 404)
    check(reissue, "post", client.post(f"/api/v1/credentials/{cid}/reissue", json={}, headers=STAFF_HEADERS), 202)
    check(reissue, "post", client.post(f"/api/v1/credentials/{cid}/reissue", json={}, headers=STAFF_HEADERS), 409)
    check(reissue, "post", client.post(f"/api/v1/credentials/{cid}/reissue", json={}), 401)
    worker.drain(ctx)  # the re-issue supersedes (revokes) cid

    revoke = "/api/v1/credentials/{cred_id}/revoke"
    fresh = client.get(listing + "?status=issued&course=1", headers=STAFF_HEADERS).json["items"][0]["id"]
    check(revoke, "post", client.post(f"/api/v1/credentials/{fresh}/revoke", json={}, headers=STAFF_HEADERS), 400)
    check(revoke, "post", client.post("/api/v1/credentials/unknown/revoke", json={"reason": "x"},
                                      headers=STAFF_HEADERS), 404)
    check(revoke, "post", client.post(f"/api/v1/credentials/{fresh}/revoke", json={"reason": "test"},
                                      headers=STAFF_HEADERS), 200)
    check(revoke, "post", client.post(f"/api/v1/credentials/{fresh}/revoke", json={"reason": "again"},
                                      headers=STAFF_HEADERS), 409)
    check(revoke, "post", client.post(f"/api/v1/credentials/{fresh}/revoke", json={"reason": "x"}), 401)
    check(verify, "post", client.post(verify, data=xml, content_type="application/xml"), 200)  # now with revocation

    deliveries = "/api/v1/deliveries"
    sent = check(deliveries, "get", client.get(deliveries + "?state=sent", headers=STAFF_HEADERS), 200).json
    check(deliveries, "get", client.get(deliveries + "?state=lost", headers=STAFF_HEADERS), 400)
    check(deliveries, "get", client.get(deliveries), 401)
    retry = "/api/v1/deliveries/{delivery_id}/retry"
    check(retry, "post", client.post(f"/api/v1/deliveries/{sent['items'][0]['id']}/retry", headers=STAFF_HEADERS), 409)
    check(retry, "post", client.post("/api/v1/deliveries/999999/retry", headers=STAFF_HEADERS), 404)
    check(retry, "post", client.post("/api/v1/deliveries/1/retry"), 401)
    pending = client.get(deliveries + "?state=pending", headers=STAFF_HEADERS).json["items"]
    if pending:
        check(retry, "post", client.post(f"/api/v1/deliveries/{pending[0]['id']}/retry", headers=STAFF_HEADERS), 202)
    check(deliveries, "get", client.get(deliveries + "?recovered=1", headers=STAFF_HEADERS), 200)
    check(deliveries, "get", client.get(deliveries + "?recovered=yes", headers=STAFF_HEADERS), 400)
    resend = "/api/v1/deliveries/{delivery_id}/resend"
    worker.drain(ctx)  # the revocation notices go out
    sent = client.get(deliveries + "?state=sent&limit=200", headers=STAFF_HEADERS).json["items"]
    live = next(d for d in sent if d["kind"] == "revoked")  # a notice may be sent again; a revoked credential not
    dead = next(d for d in sent if d["kind"] == "issued" and d["credential_id"] == live["credential_id"])
    check(resend, "post", client.post(f"/api/v1/deliveries/{dead['id']}/resend", json={"reason": "lost"},
                                      headers=STAFF_HEADERS), 409)
    check(resend, "post", client.post(f"/api/v1/deliveries/{live['id']}/resend", json={}, headers=STAFF_HEADERS), 400)
    check(resend, "post", client.post("/api/v1/deliveries/999999/resend", json={"reason": "lost"},
                                      headers=STAFF_HEADERS), 404)
    check(resend, "post", client.post(f"/api/v1/deliveries/{live['id']}/resend", json={"reason": "lost"}), 401)
    check(resend, "post", client.post(f"/api/v1/deliveries/{live['id']}/resend", json={"reason": "learner lost it"},
                                      headers=STAFF_HEADERS), 202)
    check(resend, "post", client.post(f"/api/v1/deliveries/{live['id']}/resend", json={"reason": "twice"},
                                      headers=STAFF_HEADERS), 409)  # pending again, not sent yet

    check("/healthz", "get", client.get("/healthz"), 200)
    check("/readyz", "get", client.get("/readyz"), 200)
    metrics = check("/metrics", "get", client.get("/metrics"), 200)
    assert b"edc_credentials_issued_total" in metrics.data

    europass = "/api/v1/courses/{site}/{course}/europass"  # more of their answers: tests/europass
    check(europass, "get", client.get("/api/v1/courses/demo/1/europass", headers=STAFF_HEADERS), 200)
    every = "/api/v1/courses/europass"
    check(every, "get", client.get(every, headers=STAFF_HEADERS), 422)  # course 2's description is incomplete

    programme = "/api/v1/programmes/{site}/{programme}"  # more of their answers: tests/programmes
    pilot = json.loads((SCHEMAS.parent / "examples" / "pilot" / "programmes" / "digital-skills.json").read_text("utf-8"))
    stored = check(programme, "put", client.put("/api/v1/programmes/demo/digital-skills", json=pilot,
                                                headers=STAFF_HEADERS), 200)
    assert stored.json["valid"] is False  # course 1 here is DATA101, not the AIETH800 the programme names
    check(programme, "put", client.put("/api/v1/programmes/demo/Bad_Id", json=pilot, headers=STAFF_HEADERS), 400)
    check("/api/v1/programmes", "get", client.get("/api/v1/programmes", headers=STAFF_HEADERS), 200)
    awards = "/api/v1/programme-awards"
    check(awards, "get", client.get(awards + "?status=review", headers=STAFF_HEADERS), 200)
    check(awards, "get", client.get(awards + "?status=x", headers=STAFF_HEADERS), 400)
    check(awards + "/{award_id}/reviewed", "post", client.post(awards + "/none/reviewed", json={}, headers=STAFF_HEADERS),
          404)

    wallet = "/api/v1/credentials/{cred_id}/wallet-offer"  # the wallet flow's answers: tests/sidecar/test_openid4vci.py
    check(wallet, "post", client.post("/api/v1/credentials/unknown/wallet-offer", json={}, headers=STAFF_HEADERS), 404)
    check(wallet, "post", client.post("/api/v1/credentials/unknown/wallet-offer", json={"channel": "sms"},
                                      headers=STAFF_HEADERS), 400)
    check(wallet, "post", client.post("/api/v1/credentials/unknown/wallet-offer", json={}), 401)
    sharing = "/api/v1/credentials/{cred_id}/sharing"  # the learner's actions: tests/sidecar/test_learner_api.py
    share_path = f"/api/v1/credentials/{cid}/sharing"
    for body, code in (({"site": "demo", "learner": 34, "shared": True}, 200), ([], 400),
                       ({"site": "demo", "learner": 35, "shared": True}, 404)):
        data = json.dumps(body).encode()
        check(sharing, "post", client.post(share_path, data=data, headers=signed("POST", share_path, data)), code)
    check(sharing, "post", client.post(share_path, json={}), 401)
    printable, pdf_path = "/api/v1/credentials/{cred_id}/pdf", f"/api/v1/credentials/{cid}/pdf"
    for query, code in (("site=demo&learner=34&lang=lt", 200), ("site=demo", 400), ("site=demo&learner=35", 404)):
        check(printable, "get", client.get(f"{pdf_path}?{query}", headers=signed("GET", pdf_path, query=query)), code)
    check(printable, "get", client.get(f"{pdf_path}?site=demo&learner=34"), 401)
    code_doc, code_path = "/api/v1/credentials/{cred_id}/wallet-code", f"/api/v1/credentials/{cid}/wallet-code"
    raw = json.dumps({"site": "demo", "learner": 34}).encode()  # no mailed offer here (EDC_WALLET_IN_MAIL off)
    check(code_doc, "post", client.post(code_path, data=raw, headers=signed("POST", code_path, raw)), 404)
    check(code_doc, "post", client.post(code_path, json={"site": "demo", "learner": 34}), 401)
    for metadata in ("/.well-known/openid-credential-issuer", "/.well-known/oauth-authorization-server"):
        check(metadata, "get", client.get(metadata), 200)
    check("/oid4vci/offers/{token}", "get", client.get("/oid4vci/offers/unknown"), 404)
    check("/oid4vci/token", "post", client.post("/oid4vci/token", data={"grant_type": "password"}), 400)
    check("/oid4vci/nonce", "post", client.post("/oid4vci/nonce"), 200)
    check("/oid4vci/credential", "post", client.post("/oid4vci/credential", json={}), 401)

    # bulk cohorts (course demo/1 has a valid description from above)
    check("/api/v1/bulk/template", "get", client.get("/api/v1/bulk/template?course=demo/1&format=csv",
                                                     headers=STAFF_HEADERS), 200)
    check("/api/v1/bulk/template", "get", client.get("/api/v1/bulk/template?course=demo/9999", headers=STAFF_HEADERS), 404)
    check("/api/v1/bulk/template", "get", client.get("/api/v1/bulk/template?course=demo/1"), 401)
    cohort = ("given_names,family_name,email,completed_on\r\nOna,Jonaitė,ona.bulk@example.edu,2026-11-02\r\n"
              "Jonas,Petraitis,not-an-address,2026-11-02\r\n").encode()
    uploaded = check("/api/v1/bulk/batches", "post", client.post("/api/v1/bulk/batches?course=demo/1&filename=c.csv",
                                                                 data=cohort, headers=STAFF_HEADERS), 201)
    batch_path = f"/api/v1/bulk/batches/{uploaded.json['batch_id']}"
    check("/api/v1/bulk/batches", "post", client.post("/api/v1/bulk/batches?course=demo/1", data=b"\x89PNG\r\n\x1a\n",
                                                      headers=STAFF_HEADERS), 400)
    check("/api/v1/bulk/batches/{batch_id}", "get", client.get(batch_path, headers=STAFF_HEADERS), 200)
    check("/api/v1/bulk/batches/{batch_id}", "get", client.get("/api/v1/bulk/batches/nope", headers=STAFF_HEADERS), 404)
    issue_doc = "/api/v1/bulk/batches/{batch_id}/issue"
    check(issue_doc, "post", client.post(f"{batch_path}/issue", json={}, headers=STAFF_HEADERS), 409)
    check(issue_doc, "post", client.post(f"{batch_path}/issue", json={"valid_only": True}, headers=STAFF_HEADERS), 200)
    check("/api/v1/bulk/batches/{batch_id}/results.csv", "get", client.get(f"{batch_path}/results.csv",
                                                                           headers=STAFF_HEADERS), 200)

    documented = {(p, m) for p, ops in DOC["paths"].items() for m in ops if m in ("get", "post", "put")}
    assert documented - check.operations == set(), "documented operations not exercised by this test"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_verify_is_rate_limited(settings, channels):
    import dataclasses

    from bridge.app import create_app, stop_app

    app = create_app(dataclasses.replace(settings, verify_rate_limit="3/minute"), channels=channels)
    try:
        client = app.test_client()
        codes = [client.post("/api/v1/verify", data=b"<x/>", content_type="application/xml").status_code
                 for _ in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        limited = client.post("/api/v1/verify", data=b"<x/>", content_type="application/xml")
        Checked()("/api/v1/verify", "post", limited, 429)
        assert client.get("/healthz").status_code == 200  # only verification is limited
        if "edc_pages.verify" in app.view_functions:  # the public page shares the limit per address
            assert client.get("/verify").status_code == 200
            assert client.post("/verify", data={"file": (io.BytesIO(b"<x/>"), "x.xml")},
                               content_type="multipart/form-data").status_code == 429
    finally:
        stop_app(app)
        app.extensions["edc"].registry.dispose()
