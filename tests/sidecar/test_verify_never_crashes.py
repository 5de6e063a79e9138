"""Anyone may upload anything to POST /api/v1/verify and /verify: every file gets a verdict, never a 500
(issue 11 point 2, issue 13 "never a traceback"). The app has trust anchors configured, as a deployment does.
"""
from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import pytest

EU_XADES_B_LT = (Path(__file__).resolve().parents[3] / "shared" / "reference" / "edc" / "v1_signed_samples"
                 / "credential-generic-profile-xsd-signed.xml")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _jws(protected: str) -> bytes:
    return json.dumps({"payload": "{}", "signatures": [{"protected": protected, "signature": "AA"}]}).encode()


def _crl_slot_holding_the_ocsp_response(document: bytes) -> bytes:
    """The EU sample with its OCSP response moved into CRLValues (a CRL and an OCSP response swapped)."""
    ocsp = re.search(rb"<xades:EncapsulatedOCSPValue[^>]*>([^<]+)<", document).group(1)
    return re.sub(rb"(<xades:EncapsulatedCRLValue[^>]*>)[^<]+(<)", lambda m: m.group(1) + ocsp + m.group(2),
                  document, count=1)


MALFORMED = {
    "protected header not JSON": (_jws("bm90IGpzb24"), "the protected header is not JSON"),
    "protected header not UTF-8": (_jws(_b64url(b"\xff\xfe{\x00")), "the protected header is not UTF-8 text"),
    "protected header nested 100,000 deep": (_jws(_b64url(b"[" * 100_000)), "nested too deeply"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_malformed_jades_header_gets_a_verdict_from_the_api_and_the_page(client, name):
    data, words = MALFORMED[name]
    answer = client.post("/api/v1/verify", data=data, content_type="application/json")
    assert answer.status_code == 200, answer.data[:300]
    assert answer.json["valid"] is False and answer.json["format"] == "elm3-jsonld"
    assert any(words in p for p in answer.json["problems"]), answer.json["problems"]
    page = client.post("/verify", data={"file": (io.BytesIO(data), "c.json")}, content_type="multipart/form-data")
    assert page.status_code == 200 and words.encode() in page.data


def test_the_eus_b_lt_sample_gets_a_verdict_with_trust_anchors_configured(client, ctx):
    assert ctx.trust_anchors  # the crash needed anchors: without them trust is never asked
    answer = client.post("/api/v1/verify", data=EU_XADES_B_LT.read_bytes(), content_type="application/xml")
    assert answer.status_code == 200, answer.data[:300]
    body = answer.json
    assert body["valid"] is False and body["level"] == "B-LT" and not body["trusted"]
    assert any("PEM-armoured CRL" in n for n in body["notes"])  # the sample's CRL is PEM inside base64
    assert any("not issued by any of the trusted certificate authorities" in p for p in body["problems"])


def test_a_revocation_value_of_the_wrong_kind_is_named_in_the_verdict(client):
    swapped = _crl_slot_holding_the_ocsp_response(EU_XADES_B_LT.read_bytes())
    answer = client.post("/api/v1/verify", data=swapped, content_type="application/xml")
    assert answer.status_code == 200, answer.data[:300]
    assert answer.json["valid"] is False
    assert ("revocation value 1 of the CRLs in RevocationValues cannot be read: it is not a DER certificate "
            "revocation list") in answer.json["problems"]
    page = client.post("/verify", data={"file": (io.BytesIO(swapped), "c.xml")}, content_type="multipart/form-data")
    assert page.status_code == 200 and b"revocation value 1 of the CRLs" in page.data
