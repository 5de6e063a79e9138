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

VECTOR_DIR = Path(__file__).resolve().parents[1] / "vectors"
VECTORS = json.loads((VECTOR_DIR / "intake-hmac-v1.json").read_text("utf-8"))
VECTORS_V2 = json.loads((VECTOR_DIR / "intake-hmac-v2.json").read_text("utf-8"))
ISSUANCES = "/api/v1/issuances"


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=[v["name"] for v in VECTORS["vectors"]])
def test_shared_vector(vector):
    """v1 vectors: still computed exactly, and accepted without X-EDC-Auth-Version (a plugin from before v2)."""
    body = vector["body"].encode("utf-8")
    canonical = auth.canonical_string(vector["method"], vector["path"], str(vector["timestamp"]), vector["nonce"], body,
                                      version="v1")
    assert canonical.decode("utf-8") == vector["canonical"]
    assert auth.sign(vector["secret"], vector["method"], vector["path"], str(vector["timestamp"]), vector["nonce"],
                     body, version="v1") == vector["signature"]
    headers = {"X-EDC-Key-Id": vector["key_id"], "X-EDC-Timestamp": str(vector["timestamp"]),
               "X-EDC-Nonce": vector["nonce"], "X-EDC-Signature": vector["signature"]}
    accepted = auth.authenticate(headers, vector["method"], vector["path"], body, {vector["key_id"]: vector["secret"]},
                                 now=vector["timestamp"] + 10)
    assert accepted.nonce == vector["nonce"] and accepted.version == "v1"
    with pytest.raises(auth.AuthError):
        auth.authenticate(headers, vector["method"], vector["path"], body + b" ",
                          {vector["key_id"]: vector["secret"]}, now=vector["timestamp"])
    # The same signature offered as v2 is not valid: the version is part of what is signed.
    with pytest.raises(auth.AuthError, match="does not match"):
        auth.authenticate(dict(headers, **{"X-EDC-Auth-Version": "v2"}), vector["method"], vector["path"], body,
                          {vector["key_id"]: vector["secret"]}, now=vector["timestamp"])


def test_v2_vector_file_covers_the_cases():
    names = {v["name"] for v in VECTORS_V2["vectors"]}
    assert {"no query", "simple query", "unsorted query", "repeated names", "non-ASCII value", "reserved characters",
            "empty value"} <= names
    assert VECTORS_V2["headers"]["version"] == auth.HEADER_VERSION and VECTORS_V2["version"] == "v2"


@pytest.mark.parametrize("vector", VECTORS_V2["vectors"], ids=[v["name"] for v in VECTORS_V2["vectors"]])
def test_shared_vector_v2(vector):
    body = vector["body"].encode("utf-8")
    ts, query, keys = str(vector["timestamp"]), vector["query"], {vector["key_id"]: vector["secret"]}
    assert auth.canonical_query(query) == vector["canonical_query"]
    assert auth.canonical_query(query.encode("utf-8")) == vector["canonical_query"], "bytes as Flask gives them"
    canonical = auth.canonical_string(vector["method"], vector["path"], ts, vector["nonce"], body, query=query)
    assert canonical.decode("utf-8") == vector["canonical"]
    assert auth.sign(vector["secret"], vector["method"], vector["path"], ts, vector["nonce"], body,
                     query=query) == vector["signature"]
    headers = auth.signed_headers(vector["key_id"], vector["secret"], vector["method"], vector["path"], body,
                                  query=query, timestamp=vector["timestamp"], nonce=vector["nonce"])
    assert headers == {"X-EDC-Key-Id": vector["key_id"], "X-EDC-Timestamp": ts, "X-EDC-Nonce": vector["nonce"],
                       "X-EDC-Signature": vector["signature"], "X-EDC-Auth-Version": "v2"}
    accepted = auth.authenticate(headers, vector["method"], vector["path"], body, keys, query=query.encode("utf-8"),
                                 now=vector["timestamp"] + 10)
    assert accepted.version == "v2"
    tampered = (query + "&x=1") if query else "x=1"
    with pytest.raises(auth.AuthError, match="does not match"):
        auth.authenticate(headers, vector["method"], vector["path"], body, keys, query=tampered,
                          now=vector["timestamp"])
    without_version = {k: v for k, v in headers.items() if k != "X-EDC-Auth-Version"}
    with pytest.raises(auth.AuthError):  # read as v1: refused for the query, or the v1 signature differs
        auth.authenticate(without_version, vector["method"], vector["path"], body, keys, query=query,
                          now=vector["timestamp"])


@pytest.mark.parametrize("a, b", [
    ("site=demo&course=1", "course=1&site=demo"),
    ("q=a%20b", "q=a+b"),
    ("t=%7E%2d%2E%5f", "t=~-._"),
    ("n=%c5%bd", "n=%C5%BD"),
    ("flag", "flag="),
    ("a=1&&b=2", "b=2&a=1"),
    ("q=a%3Db", "q=a=b"),  # split at the first "=": the same pair
])
def test_equivalent_encodings_share_one_canonical_query(a, b):
    assert auth.canonical_query(a) == auth.canonical_query(b)


@pytest.mark.parametrize("a, b", [
    ("course=1", "course=2"),
    ("q=a%2Bb", "q=a+b"),
    ("q=a%26b", "q=a&b"),
    ("t=1", "t=1&t=1"),
    ("v=%FF", "v=%25FF"),
    ("", "x"),
])
def test_different_parameters_never_share_a_canonical_query(a, b):
    assert auth.canonical_query(a) != auth.canonical_query(b)


def test_canonical_query_examples():
    assert auth.canonical_query("") == "" and auth.canonical_query(b"") == ""
    assert auth.canonical_query("b=2&a=2&a=10") == "a=10&a=2&b=2", "byte order, repeated names kept"
    assert auth.canonical_query("a-b=1&a=2") == "a=2&a-b=1", "sorted by name, not by the joined text"
    assert auth.canonical_query("v=%ff%FE") == "v=%FF%FE", "bytes that are not UTF-8 are signed as sent"


def test_signing_refuses_what_a_version_cannot_express():
    with pytest.raises(ValueError, match="v1 cannot sign a query"):
        auth.canonical_string("GET", ISSUANCES, "1", "ab" * 16, b"", query="site=demo", version="v1")
    with pytest.raises(ValueError, match="unknown signature version"):
        auth.canonical_string("GET", ISSUANCES, "1", "ab" * 16, b"", version="v3")
    assert b"\n\n" in auth.canonical_string("POST", "/api/v1/events", "1", "ab" * 16, b""), "v2: empty query line"


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


# --- contract v2 over HTTP -----------------------------------------------------------------------


def _poll(client, sent_query: str, **sign_kw):
    """GET the issuance list with `sent_query` on the wire, signed as sign_kw says."""
    return client.get(f"{ISSUANCES}?{sent_query}", headers=signed("GET", ISSUANCES, **sign_kw))


def test_v2_signed_post_and_query_are_accepted(client, ctx):
    body = _body(make_event())
    headers = signed("POST", "/api/v1/events", body)
    assert headers["X-EDC-Auth-Version"] == "v2"
    assert client.post("/api/v1/events", data=body, headers=headers).status_code == 202
    r = _poll(client, "site=demo&course=1", query="site=demo&course=1")
    assert r.status_code == 200, r.json
    assert [i["status"] for i in r.json["issuances"]] == ["queued"]
    # Signed in one encoding, sent in another: the decoded parameters are what count.
    assert _poll(client, "course=1&site=%64emo", query="site=demo&course=1").status_code == 200


def test_query_changed_after_signing_is_refused(client, ctx):
    assert post_event(client, make_event(1)).status_code == 202
    before = _counts(ctx)
    for sent in ("site=demo&course=2", "site=other&course=1", "site=demo&course=1&x=1", "site=demo", ""):
        r = client.get(f"{ISSUANCES}?{sent}" if sent else ISSUANCES,
                       headers=signed("GET", ISSUANCES, query="site=demo&course=1"))
        _refused(r, ctx, before)
        assert "signature does not match" in r.json["problems"][0]["message"], sent


def test_issuance_poll_signed_for_course_1_cannot_read_course_2(client, ctx):
    assert post_event(client, make_event(2)).status_code == 202
    headers = signed("GET", ISSUANCES, query="site=demo&course=1")
    before = _counts(ctx)
    _refused(client.get(f"{ISSUANCES}?site=demo&course=2", headers=headers), ctx, before)
    # The nonce was not consumed by the refusal: the untouched request still goes through, and shows course 1.
    r = client.get(f"{ISSUANCES}?site=demo&course=1", headers=headers)
    assert r.status_code == 200 and r.json["course"] == 1 and r.json["issuances"] == []


def test_v1_with_a_query_is_refused(client, ctx):
    before = _counts(ctx)
    headers = signed("GET", ISSUANCES, version="v1")  # a valid v1 signature: it simply does not cover the query
    assert "X-EDC-Auth-Version" not in headers
    r = client.get(f"{ISSUANCES}?site=demo&course=1", headers=headers)
    _refused(r, ctx, before)
    assert r.json["problems"][0]["pointer"] == "X-EDC-Auth-Version"
    assert "v1 signature does not cover the query" in r.json["problems"][0]["message"]
    explicit = dict(signed("GET", ISSUANCES, version="v1"), **{"X-EDC-Auth-Version": "v1"})
    _refused(client.get(f"{ISSUANCES}?site=demo&course=1", headers=explicit), ctx, before)


def test_v1_without_a_query_is_still_accepted(client, ctx):
    body = _body(make_event())
    headers = signed("POST", "/api/v1/events", body, version="v1")
    assert "X-EDC-Auth-Version" not in headers
    assert client.post("/api/v1/events", data=body, headers=headers).status_code == 202
    explicit = dict(signed("PUT", "/api/v1/courses/demo/1/specification", b"{}", version="v1"),
                    **{"X-EDC-Auth-Version": "v1"})
    assert client.put("/api/v1/courses/demo/1/specification", data=b"{}", headers=explicit).status_code == 200
    # A v1 signature offered as v2 does not verify.
    body2 = _body(make_event(2))
    relabelled = dict(signed("POST", "/api/v1/events", body2, version="v1"), **{"X-EDC-Auth-Version": "v2"})
    before = _counts(ctx)
    _refused(client.post("/api/v1/events", data=body2, headers=relabelled), ctx, before)


@pytest.mark.parametrize("value", ["v3", "V2", "2", "", "v2 ", "v1,v2"])
def test_unknown_version_is_refused_without_using_the_nonce(client, ctx, value):
    body = _body(make_event())
    headers = signed("POST", "/api/v1/events", body)
    before = _counts(ctx)
    r = client.post("/api/v1/events", data=body, headers=dict(headers, **{"X-EDC-Auth-Version": value}))
    _refused(r, ctx, before)
    assert r.json["problems"][0]["pointer"] == "X-EDC-Auth-Version"
    assert "not a known signature version" in r.json["problems"][0]["message"]
    assert client.post("/api/v1/events", data=body, headers=headers).status_code == 202, "nonce still unused"


def test_repeated_query_names_are_refused_where_one_value_is_read(client, ctx):
    r = _poll(client, "site=demo&course=1&course=2", query="site=demo&course=1&course=2")
    assert r.status_code == 400
    assert {p["pointer"] for p in r.json["problems"]} == {"?course"}
