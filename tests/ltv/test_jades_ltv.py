"""JAdES B-T and B-LT for ELM v3 credentials, against the same loopback OpenSSL TSA and TEST CA."""
from __future__ import annotations

import base64
import datetime as dt
import json

import pytest

from bridge.edc import formats, jades, ltv, timestamps
from bridge.edc.elm3_builder import build_elm3, serialize_elm3
from bridge.edc.jades import JadesDocument, seal_jades
from bridge.edc.verifier import verify_credential
from ltv_pki import UTC, LoopbackTSA, TestCA, closed_port_url

NOW = dt.datetime.now(UTC)
LATER = NOW + dt.timedelta(days=200)  # after the seal certificates expired, before the TSA's (365 days)
CLAIMED = (NOW - dt.timedelta(hours=3)).replace(microsecond=0)


def _seal(credential, seal, tsa, level, **kwargs) -> bytes:
    payload = serialize_elm3(build_elm3(credential))
    client = ltv.TsaClient(tsa.url, timeout=5) if tsa else None
    return seal_jades(payload, seal, signing_time=CLAIMED, tsa=client, level=level, **kwargs)


def _verify(data, ca, now=None):
    return verify_credential(data, trust_anchors=[ca.cert], now=now or NOW)


def _components(data: bytes) -> list[dict]:
    return JadesDocument.parse(data).etsi_unsigned()


def test_b_t_jades_is_dated_by_its_sig_tst(credential, ca, tsa):
    data = _seal(credential, ca.issue_seal(), tsa, "B-T")
    [component] = _components(data)
    token = base64.b64decode(component["sigTst"]["tstTokens"][0]["val"])
    report = _verify(data, ca)
    assert report.valid, report.problems
    assert report.level == "B-T" and report.format == "elm3-jsonld"
    assert report.sealed_at == timestamps.token_time(token).isoformat().replace("+00:00", "Z")
    assert timestamps.token_time(token) - CLAIMED > dt.timedelta(hours=2)
    assert any("valid at the time of sealing" in n for n in report.notes)


def test_jades_sig_tst_for_another_signature_is_caught(credential, ca, tsa):
    seal = ca.issue_seal()
    first = json.loads(_seal(credential, seal, tsa, "B-T"))
    second = json.loads(_seal(credential, seal, tsa, "B-T"))
    first["signatures"][0]["header"] = second["signatures"][0]["header"]  # a time-stamp of the other seal
    report = _verify(json.dumps(first).encode(), ca)
    assert not report.valid
    assert any("message imprint does not match" in p for p in report.problems)


def test_jades_b_lt_valid_after_expiry_and_later_revocation(credential, ca, tsa):
    seal = ca.issue_seal(days=30)
    b_t = _seal(credential, seal, tsa, "B-T")
    stamped = timestamps.token_time(base64.b64decode(_components(b_t)[0]["sigTst"]["tstTokens"][0]["val"]))
    ca.revoke(seal.certificate, stamped + dt.timedelta(days=5))
    document = JadesDocument.parse(b_t)
    jades.long_term(document).add_validation_data(
        ltv.StaticRevocationSource(crls=[ca.crl(this_update=stamped + dt.timedelta(days=6))]))
    data = document.render()
    names = [next(iter(c)) for c in _components(data)]
    assert names == ["sigTst", "xVals", "rVals"]
    report = _verify(data, ca, now=LATER)
    assert report.level == "B-LT"
    assert report.valid, report.problems
    assert any("valid at the time of sealing" in n for n in report.notes)
    # The same credential at B-B is not valid any more.
    late_b_b = _verify(_seal(credential, seal, None, "B-B"), ca, now=LATER)
    assert not late_b_b.valid


def test_jades_b_lt_revoked_before_the_time_stamp_is_not_trusted(credential, ca, tsa):
    seal = ca.issue_seal(days=30)
    ca.revoke(seal.certificate, NOW - dt.timedelta(hours=1))
    data = _seal(credential, seal, tsa, "B-LT", revocation_source=ltv.CrlDistributionPointSource(timeout=5))
    report = _verify(data, ca, now=LATER)
    assert report.level == "B-LT"
    assert not report.valid and not report.trusted
    assert any("had been revoked" in p for p in report.problems)


def test_jades_b_lt_on_softhsm_is_valid_after_expiry(credential, rsa_token):
    from hsm.signer import open_seal

    token_ca = TestCA(key=rsa_token.ca_key, cert=rsa_token.ca_cert)
    token_tsa = LoopbackTSA(token_ca, days=900)  # outlives the token's TEST seal (730 days)
    try:
        seal = open_seal(rsa_token.config)
        data = _seal(credential, seal, token_tsa, "B-LT",
                     revocation_source=ltv.StaticRevocationSource(crls=[token_ca.crl()]))
    finally:
        token_tsa.close()
    after_expiry = seal.certificate.not_valid_after_utc + dt.timedelta(days=30)
    report = verify_credential(data, trust_anchors=[rsa_token.ca_cert], now=after_expiry)
    assert report.level == "B-LT" and report.valid, report.problems


def test_jades_tsa_down_seal_then_stamp_and_complete_later(credential, ca, tsa):
    payload = serialize_elm3(build_elm3(credential))
    down = ltv.TsaClient(closed_port_url(), timeout=2)
    with pytest.raises(timestamps.TsaUnavailableError):
        seal_jades(payload, ca.issue_seal(), tsa=down, level="B-T", tsa_policy="wait")
    with pytest.raises(ltv.TimestampPending) as pending:
        seal_jades(payload, ca.issue_seal(), tsa=down, level="B-T", tsa_policy="seal-then-stamp")
    stored = pending.value.sealed
    assert formats.long_term(stored).signature_timestamp() is None
    assert _verify(stored, ca).level == "B-B"
    up = ltv.SealLevelSettings(level="B-T", tsa=ltv.TsaClient(tsa.url))
    completed = ltv.complete(formats.long_term(stored), up)
    assert formats.long_term(completed).signature_timestamp() is not None
    report = _verify(completed, ca)
    assert report.valid and report.level == "B-T", report.problems
    assert JadesDocument.parse(completed).signature == JadesDocument.parse(stored).signature
