"""A demo credential, of both formats, sealed on a SoftHSM token whose TEST seal certificate carries the QC
statements of a qualified seal, verified with lists the tests make and sign: the TEST CA listed as a granted
CA/QC service makes the seal `qualified: true`; withdrawn before the sealing time, a certificate without the
eseal QC type, a wrong list signature or a wrong pointer make it `false`; no lists leave it `unknown`. A B-T
seal is judged by the service's history at its time-stamp, after the service was withdrawn.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import sys
from pathlib import Path

import pytest

from bridge.edc import formats, model
from bridge.edc.ltv import TsaClient
from bridge.edc.verifier import verify_credential
from hsm.demo_token import QUALIFIED_SEAL_STATEMENTS, SEAL_NAME, create_demo_token
from hsm.signer import open_seal

from .tsl_factory import ListSigner, Service, State, make_lists

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ltv"))
from ltv_pki import LoopbackTSA, TestCA  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
PILOT = REPO / "examples" / "pilot"
UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC)
DAY = dt.timedelta(days=1)
FORMATS = ("edc-xml", "elm3-jsonld")


@pytest.fixture(scope="module")
def qc_token(tmp_path_factory):
    """A demo token whose TEST seal certificate states QcCompliance, QcType eseal and QcSSCD."""
    return create_demo_token(tmp_path_factory.mktemp("qc-token"), key_type="ecp256", token_label="edc-test-qc",
                             qc_statements=QUALIFIED_SEAL_STATEMENTS)


@pytest.fixture(scope="module")
def seal(qc_token):
    return open_seal(qc_token.config)


@pytest.fixture(scope="module")
def credential() -> model.Credential:
    spec = model.load_course_spec(json.loads((PILOT / "courses" / "data101.json").read_text()))
    learner = model.load_learner(json.loads((PILOT / "learners" / "ona-jonaite.json").read_text()))
    return model.Credential(spec, learner, model.Issuance.new(valid_for=spec.valid_for))


@pytest.fixture(scope="module")
def sealed(credential, seal) -> dict[str, bytes]:
    return {name: formats.get(name).issue(credential, seal, checks=formats.Checks()) for name in FORMATS}


def _service(token, *states: State) -> Service:
    return Service(token.ca_cert, list(states or [State("granted", NOW - 400 * DAY)]))


def _verify(data, token, lists, *, now=NOW, anchors=()):
    return verify_credential(data, trust_anchors=[token.ca_cert, *anchors], trusted_lists=lists, now=now)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_granted_ca_qc_service_makes_the_demo_seal_qualified(fmt, sealed, qc_token, commission, lt_operator):
    lists = make_lists(commission, lt_operator, [_service(qc_token)], now=NOW)
    report = _verify(sealed[fmt], qc_token, lists)
    assert report.valid, report.problems
    assert report.qualified is True, report.qualified_why
    assert (report.provider, report.provider_country) == ("Nemunas University TEST trust service provider", "LT")
    body = report.as_dict()
    assert body["qualified"] is True and body["provider"] == report.provider and body["qualified_why"]
    assert "seal_certificate" not in body and "judged_at" not in body
    json.dumps(body)  # the API's answer stays plain JSON
    assert "Qualified electronic seal: yes, by Nemunas University TEST trust service provider (LT)" \
        in report.plain_words()
    assert "TEST SEAL – NOT A QUALIFIED eSEAL" in report.signer  # the demo seal still says what it is


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_service_withdrawn_before_the_sealing_time_gives_false(fmt, sealed, qc_token, commission, lt_operator):
    service = _service(qc_token, State("granted", NOW - 400 * DAY), State("withdrawn", NOW - DAY))
    report = _verify(sealed[fmt], qc_token, make_lists(commission, lt_operator, [service], now=NOW))
    assert report.valid and report.qualified is False
    assert "its status was “withdrawn”" in report.qualified_why
    assert report.as_dict()["qualified"] is False


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_seal_certificate_without_the_eseal_qc_type_gives_false(fmt, credential, qc_token, seal, commission,
                                                                   lt_operator):
    esign = copy.copy(seal)  # the same key on the token, certified for signatures instead of seals
    esign.certificate = qc_token.issue_certificate(seal.public, SEAL_NAME, not_before=NOW - DAY,
                                                   not_after=NOW + 300 * DAY,
                                                   qc_statements=("compliance", "esign", "qscd"))
    data = formats.get(fmt).issue(credential, esign, checks=formats.Checks())
    report = _verify(data, qc_token, make_lists(commission, lt_operator, [_service(qc_token)], now=NOW))
    assert report.valid and report.qualified is False
    assert "lacks the QcType eseal statement" in report.qualified_why


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_wrong_list_signature_or_pointer_gives_false(fmt, sealed, qc_token, commission, lt_operator):
    impostor = ListSigner.create("not the LT operator")
    for kwargs in ({"lt_signer": impostor}, {"pointer_certs": [impostor.cert]}):
        lists = make_lists(commission, lt_operator, [_service(qc_token)], now=NOW, **kwargs)
        report = _verify(sealed[fmt], qc_token, lists)
        assert report.valid and report.qualified is False, kwargs
        assert "the trusted list of LT is not signed by any of the 1 certificate(s)" in report.qualified_why
    lotl_by_stranger = make_lists(commission, lt_operator, [_service(qc_token)], now=NOW,
                                  lotl_signers=[impostor.cert])
    assert _verify(sealed[fmt], qc_token, lotl_by_stranger).qualified is False


@pytest.mark.parametrize("fmt", FORMATS)
def test_without_trusted_lists_the_answer_is_unknown_and_validity_is_unchanged(fmt, sealed, qc_token):
    report = _verify(sealed[fmt], qc_token, None)
    assert report.valid and report.qualified is None
    assert report.as_dict()["qualified"] == "unknown"
    assert "Qualified electronic seal: unknown: no EU trusted lists are configured" in report.plain_words()


def test_an_untrusted_or_broken_seal_is_not_qualified(sealed, qc_token, commission, lt_operator):
    lists = make_lists(commission, lt_operator, [_service(qc_token)], now=NOW)
    untrusted = verify_credential(sealed["edc-xml"], trust_anchors=[], trusted_lists=lists, now=NOW)
    assert not untrusted.valid and untrusted.qualified is False
    assert "the seal itself is not valid" in untrusted.qualified_why
    broken = sealed["edc-xml"].replace(b"Ona", b"Ana", 1)
    assert _verify(broken, qc_token, lists).qualified is False
    not_a_credential = _verify(b"%PDF-1.7", qc_token, lists)
    assert not_a_credential.as_dict()["qualified"] == "unknown"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_time_stamped_seal_is_judged_by_the_history_at_its_time_stamp(fmt, credential, seal, qc_token,
                                                                          commission, lt_operator):
    tsa_ca = TestCA.create("TEST CA of the TSA")
    tsa = LoopbackTSA(tsa_ca)
    try:
        data = formats.get(fmt).issue(credential, seal, checks=formats.Checks(), level="B-T",
                                      tsa=TsaClient(tsa.url, timeout=5))
    finally:
        tsa.close()
    later = NOW + 3 * DAY
    service = _service(qc_token, State("granted", NOW - 400 * DAY), State("withdrawn", NOW + DAY))
    lists = make_lists(commission, lt_operator, [service], now=later)
    stamped = _verify(data, qc_token, lists, now=later, anchors=[tsa_ca.cert])
    assert stamped.level == "B-T" and stamped.valid, stamped.problems
    assert stamped.qualified is True, stamped.qualified_why  # granted when the time-stamp was made
