"""Intake authentication: the shared vectors, and every refusal leaves the registry untouched."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bridge.intake import auth
from bridge.registry.models import AuditEntry, Issuance, Nonce
from tests.sidecar.conftest import KEY_ID, SECRET, make_event, post_event, signed

VECTORS = json.loads((Path(__file__).resolve().parents[1] / "vectors" / "intake-hmac-v1.json").read_text("utf-8"))


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=[v["name"] for v in VECTORS["vectors"]])
def test_shared_vector(vector):
    body = vector["body"].encode("utf-8")
    canonical = auth.canonical_string(vector["method"], vector["path"], str(vector["timestamp"]), vector["nonce"], body)
    assert canonical.decode("utf-8") == vector["canonical"]
    assert auth.sign(vector["secret"], vector["method"], vector["path"], str(vector["timestamp"]), vector["nonce"],
                     body) == vector["signature"]
    headers = {"X-EDC-Key-Id": vector["key_id"], "X-EDC-Timestamp": str(vector["timestamp"]),
               "X-EDC-Nonce": vector["nonce"], "X-EDC-Signature": vector["signature"]}
    accepted = auth.authenticate(headers, vector["method"], vector["path"], body, {vector["key_id"]: vector["secret"]},
                                 now=vector["timestamp"] + 10)
    assert accepted.nonce == vector["nonce"]
    with pytest.raises(auth.AuthError):
        auth.authenticate(headers, vector["method"], vector["path"], body + b" ",
                          {vector["key_id"]: vector["secret"]}, now=vector["timestamp"])


def _counts(ctx) -> tuple[int, int, int]:
    with ctx.registry.sessions() as s:
        return tuple(s.execute(select(func.count()).select_from(t)).scalar_one() for t in (Issuance, Nonce, AuditEntry))


def _refused(response, ctx, before) -> None:
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.json["problems"], "a refusal says why"
    assert _counts(ctx) == before, "a refused request must store nothing"


def _body(event) -> bytes:
    return json.dumps(event).encode()


def test_unsigned_request_refused(client, ctx):
    before = _counts(ctx)
    r = client.post("/api/v1/events", data=_body(make_event()), content_type="application/json")
    _refused(r, ctx, before)
    assert "missing header" in r.json["problems"][0]["message"]


def test_wrong_key_refused(client, ctx):
    body = _body(make_event())
    headers = auth.signed_headers(KEY_ID, "not-the-secret", "POST", "/api/v1/events", body)
    before = _counts(ctx)
    _refused(client.post("/api/v1/events", data=body, headers=headers), ctx, before)
    headers = auth.signed_headers("unknown-key", SECRET, "POST", "/api/v1/events", body)
    r = client.post("/api/v1/events", data=body, headers=headers)
    _refused(r, ctx, before)
    assert "unknown key id" in r.json["problems"][0]["message"]


def test_stale_and_future_timestamps_refused(client, ctx):
    before = _counts(ctx)
    for skew in (-301, 301):
        r = post_event(client, make_event(), timestamp=int(time.time()) + skew)
        _refused(r, ctx, before)
        assert "window" in r.json["problems"][0]["message"]


def test_replayed_request_refused(client, ctx):
    body = _body(make_event())
    headers = signed("POST", "/api/v1/events", body)
    assert client.post("/api/v1/events", data=body, headers=headers).status_code == 202
    before = _counts(ctx)
    r = client.post("/api/v1/events", data=body, headers=headers)
    _refused(r, ctx, before)
    assert "nonce" in r.json["problems"][0]["message"]


def test_tampered_body_path_and_method_refused(client, ctx):
    event = make_event()
    body = _body(event)
    headers = signed("POST", "/api/v1/events", body)
    tampered = _body(dict(event, completed_at="2026-11-29T10:00:00Z"))
    before = _counts(ctx)
    _refused(client.post("/api/v1/events", data=tampered, headers=headers), ctx, before)
    spec_headers = signed("PUT", "/api/v1/courses/demo/1/specification", b"{}")
    _refused(client.put("/api/v1/courses/demo/2/specification", data=b"{}", headers=spec_headers), ctx, before)


def test_oversized_body_refused_before_anything(client, ctx, settings):
    body = b"{" + b" " * (settings.max_body_bytes + 1) + b"}"
    before = _counts(ctx)
    r = client.post("/api/v1/events", data=body, headers=signed("POST", "/api/v1/events", body))
    assert r.status_code == 413
    assert _counts(ctx) == before


def test_invalid_event_names_the_fields(client, ctx):
    event = make_event()
    del event["learner"]["email"]
    event["course"]["id"] = "twelve"
    event["completed_at"] = None
    r = post_event(client, event)
    assert r.status_code == 400
    pointers = {p["pointer"] for p in r.json["problems"]}
    assert {"/learner/email", "/course/id"} <= pointers
    assert any(p.startswith("/completed_at") for p in pointers), pointers
    with ctx.registry.sessions() as s:
        assert s.execute(select(func.count()).select_from(Issuance)).scalar_one() == 0
