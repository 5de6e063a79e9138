"""The verdict joined with the registry's revocation is made in one place (bridge/verification.py):
the API, the /verify page and a credential's own page say the same about a revoked credential."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from bridge import worker
from tests.sidecar.conftest import STAFF_HEADERS, make_event, pilot_spec, post_event, put_spec

BRIDGE = Path(__file__).resolve().parents[2] / "bridge"


@pytest.fixture
def issued(client, ctx):
    put_spec(client, 1, pilot_spec("data101"))
    post_event(client, make_event(1))
    assert worker.drain(ctx) == 1
    return client.get("/api/v1/credentials", headers=STAFF_HEADERS).json["items"]


def test_api_and_page_give_the_same_verdict_on_a_revoked_credential(client, issued):
    cid = issued[0]["id"]
    xml = client.get(f"/api/v1/credentials/{cid}.xml", headers=STAFF_HEADERS).data
    assert client.post(f"/api/v1/credentials/{cid}/revoke", json={"reason": "issued in error"},
                       headers=STAFF_HEADERS).status_code == 200
    sentence = "the issuer revoked this credential: issued in error"
    api = client.post("/api/v1/verify", data=xml, content_type="application/xml").json
    assert api["revoked"] is True and sentence in api["problems"]
    assert api["registry"]["known"] is True and api["registry"]["sha256_matches"] is True
    page = client.post("/verify", data={"file": (io.BytesIO(xml), "c.xml")}, content_type="multipart/form-data")
    assert page.status_code == 200
    assert b'data-verdict="revoked"' in page.data and sentence.encode() in page.data


def test_a_credential_unknown_to_the_registry_is_said_so(client, issued):
    xml = client.get(f"/api/v1/credentials/{issued[0]['id']}.xml", headers=STAFF_HEADERS).data
    other = xml.replace(issued[0]["id"].encode(), b"urn:credential:00000000-0000-4000-8000-000000000000")
    api = client.post("/api/v1/verify", data=other, content_type="application/xml").json
    assert api["registry"] == {"known": False, "status": None}
    assert any("not in this issuer's registry" in n for n in api["notes"])


def test_only_the_verification_module_joins_revocation_into_a_verdict():
    """On the service floor; the credential logic (bridge/edc) may read a revocation from the file's own
    public status resource, which is not the registry's word."""
    joins = {str(p.relative_to(BRIDGE)) for p in BRIDGE.rglob("*.py") if p.relative_to(BRIDGE).parts[0] != "edc"
             and re.search(r"\breport\.revoked\s*=", p.read_text(encoding="utf-8"))}
    assert joins == {"verification.py"}
