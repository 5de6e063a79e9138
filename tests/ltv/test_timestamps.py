"""The RFC 3161 client and verifier against a real TSA (OpenSSL `ts -reply`) on loopback."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import requests
from asn1crypto import cms

from bridge.edc import timestamps
from ltv_pki import UTC, LoopbackTSA, TestCA, closed_port_url


def _stamp(tsa, data: bytes) -> bytes:
    return timestamps.request_timestamp(tsa.url, hashlib.sha256(data).digest(), "sha256", timeout=5)


def test_token_from_openssl_verifies_with_its_time_and_tsa(tsa, ca):
    before = dt.datetime.now(UTC).replace(microsecond=0)
    token = _stamp(tsa, b"the signature value")
    result = timestamps.verify_timestamp(token, b"the signature value", [ca.cert])
    assert result.ok, result.problems
    assert before - dt.timedelta(seconds=2) <= result.time <= dt.datetime.now(UTC) + dt.timedelta(seconds=2)
    assert result.tsa_cert == tsa.cert
    # certReq=true: the TSA put its certificate in the token, and signed ESSCertIDv2 naming it.
    assert tsa.cert in result.certificates
    signer = cms.ContentInfo.load(token)["content"]["signer_infos"][0]
    assert "signing_certificate_v2" in [a["type"].native for a in signer["signed_attrs"]]


def test_sha512_imprint_is_supported(tsa, ca):
    token = timestamps.request_timestamp(tsa.url, hashlib.sha512(b"x").digest(), "sha512")
    assert timestamps.verify_timestamp(token, b"x", [ca.cert]).ok


def test_token_for_other_data_is_refused(tsa, ca):
    token = _stamp(tsa, b"the signature value")
    result = timestamps.verify_timestamp(token, b"another signature value", [ca.cert])
    assert not result.ok and result.time is None
    assert any("message imprint does not match" in p for p in result.problems)


def test_changed_time_in_token_is_caught(tsa, ca):
    token = _stamp(tsa, b"data")
    info = cms.ContentInfo.load(token)["content"]["encap_content_info"]["content"].parsed
    when = info["gen_time"].dump()
    later = bytearray(when)
    later[-2] = ord("0") + (later[-2] - ord("0") + 1) % 10  # the last seconds digit of the GeneralizedTime
    tampered = token.replace(when, bytes(later), 1)
    assert tampered != token
    result = timestamps.verify_timestamp(tampered, b"data", [ca.cert])
    assert not result.ok
    assert any("content was changed" in p for p in result.problems), result.problems


def test_changed_signature_is_caught(tsa, ca):
    token = _stamp(tsa, b"data")
    content = cms.ContentInfo.load(token)
    signature = content["content"]["signer_infos"][0]["signature"].native
    forged = signature[:-8] + bytes(8)
    tampered = token.replace(signature, forged, 1)
    result = timestamps.verify_timestamp(tampered, b"data", [ca.cert])
    assert not result.ok
    assert any("signature does not match" in p for p in result.problems)


def test_tsa_of_an_untrusted_ca_is_refused(tsa):
    token = _stamp(tsa, b"data")
    stranger = TestCA.create("TEST some other CA")
    result = timestamps.verify_timestamp(token, b"data", [stranger.cert])
    assert not result.ok
    assert result.problems == [] and result.time is None  # intact, but not believed
    assert any("TSA certificate was not issued by any of the trusted" in p for p in result.untrusted)


def test_revoked_tsa_certificate_is_refused(ca):
    own = LoopbackTSA(ca)
    try:
        token = _stamp(own, b"data")
        ca.revoke(own.cert, dt.datetime.now(UTC) - dt.timedelta(hours=1))
        result = timestamps.verify_timestamp(token, b"data", [ca.cert], crls=[ca.crl()])
        assert not result.ok
        assert any("TSA certificate had been revoked" in p for p in result.untrusted)
    finally:
        own.close()


def test_tsa_down_is_a_retryable_error_without_secrets_in_the_message():
    url = closed_port_url().replace("http://", "http://user:s3cret-pw@")
    with pytest.raises(timestamps.TsaUnavailableError) as err:
        timestamps.request_timestamp(url, hashlib.sha256(b"x").digest(), timeout=2)
    assert err.value.retryable
    assert "cannot be reached" in str(err.value) and "s3cret-pw" not in str(err.value)


def test_tsa_overloaded_is_retryable_and_bad_request_is_not(tsa):
    digest = hashlib.sha256(b"x").digest()
    try:
        tsa.fail_with = 503
        with pytest.raises(timestamps.TsaUnavailableError, match="HTTP 503"):
            timestamps.request_timestamp(tsa.url, digest)
        tsa.fail_with = 400
        with pytest.raises(timestamps.TsaRefusedError, match="HTTP 400"):
            timestamps.request_timestamp(tsa.url, digest)
    finally:
        tsa.fail_with = None


def test_reply_to_another_request_is_refused(tsa):
    digest = hashlib.sha256(b"x").digest()
    query, nonce = timestamps.build_request(digest)
    reply = requests.post(tsa.url, data=query, headers={"Content-Type": timestamps.QUERY_TYPE}, timeout=5).content
    assert timestamps.read_response(reply, digest, nonce)  # the genuine pairing works
    with pytest.raises(timestamps.TsaRefusedError, match="another nonce"):
        timestamps.read_response(reply, digest, nonce + 1)
    with pytest.raises(timestamps.TsaRefusedError, match="message imprint differs"):
        timestamps.read_response(reply, hashlib.sha256(b"y").digest(), nonce)
    with pytest.raises(timestamps.TsaRefusedError, match="not an RFC 3161"):
        timestamps.read_response(b"<html>proxy error</html>", digest, nonce)


def test_wrong_digest_length_is_refused_before_asking():
    with pytest.raises(ValueError, match="not a sha256 digest"):
        timestamps.build_request(b"short", "sha256")
    with pytest.raises(ValueError, match="unsupported time-stamp hash"):
        timestamps.build_request(hashlib.md5(b"x").digest(), "md5")
