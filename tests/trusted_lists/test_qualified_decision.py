"""The qualified-seal decision (bridge/edc/qualified.py) on lists the tests make and sign themselves: a TEST
key configured as the LOTL signer, a TEST LT operator the LOTL names, and a TEST CA listed as a CA/QC
service whose status history the tests choose.
"""
from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from bridge.edc import qualified, trusted_lists as tl
from hsm.demo_token import QUALIFIED_SEAL_STATEMENTS, SEAL_NAME, make_test_ca, seal_certificate

from .tsl_factory import ListSigner, Service, State, make_lists

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC).replace(microsecond=0)
DAY = dt.timedelta(days=1)
SEALED = NOW - 2 * DAY  # the moment the trust decision used (a time-stamp's)
ISSUED = NOW - 20 * DAY  # the seal certificate's notBefore


@pytest.fixture(scope="module")
def ca():
    return make_test_ca(NOW)


def _seal_cert(ca, statements=QUALIFIED_SEAL_STATEMENTS, **kwargs) -> x509.Certificate:
    key, cert = ca
    subject_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    return seal_certificate(subject_key, SEAL_NAME, key, cert, kwargs.get("not_before", ISSUED), NOW + 300 * DAY,
                            qc_statements=statements)


def _lists(commission, lt_operator, services, **kwargs) -> tl.TrustedLists:
    return make_lists(commission, lt_operator, services, now=NOW, **kwargs)


def _granted(ca, *states: State, **kwargs) -> Service:
    return Service(ca[1], list(states or [State("granted", NOW - 400 * DAY)]), **kwargs)


def _assess(cert, lists, *, at=SEALED, confirmed=True) -> qualified.Qualification:
    return qualified.assess(cert, lists, sealed_at=at, now=NOW, seal_confirmed=confirmed)


def test_a_qualified_seal_certificate_of_a_granted_ca_qc_service_is_qualified(ca, commission, lt_operator):
    answer = _assess(_seal_cert(ca), _lists(commission, lt_operator, [_granted(ca)]))
    assert answer.qualified is True and answer.word == "true", answer.why
    assert answer.provider == "Nemunas University TEST trust service provider"
    assert answer.country == "LT" and answer.service == "TEST qualified certificates for electronic seals"
    assert answer.why.startswith("a qualified electronic seal")


def test_withdrawn_before_the_sealing_time_is_not_qualified(ca, commission, lt_operator):
    service = _granted(ca, State("granted", NOW - 400 * DAY), State("withdrawn", SEALED - DAY))
    answer = _assess(_seal_cert(ca), _lists(commission, lt_operator, [service]))
    assert answer.qualified is False
    assert "its status was “withdrawn”" in answer.why and "when the seal was made" in answer.why


def test_withdrawn_after_the_sealing_time_the_history_still_says_granted(ca, commission, lt_operator):
    service = _granted(ca, State("granted", NOW - 400 * DAY), State("withdrawn", SEALED + dt.timedelta(hours=1)))
    lists = _lists(commission, lt_operator, [service])
    assert _assess(_seal_cert(ca), lists).qualified is True
    assert _assess(_seal_cert(ca), lists, at=NOW).qualified is False  # a seal made now is not


def test_a_certificate_issued_before_the_service_was_granted_is_not_qualified(ca, commission, lt_operator):
    service = _granted(ca, State("granted", ISSUED + DAY))
    answer = _assess(_seal_cert(ca), _lists(commission, lt_operator, [service]))
    assert answer.qualified is False and "not yet on the list when the seal certificate was issued" in answer.why


@pytest.mark.parametrize("statements, words", [
    (("compliance", "esign", "qscd"), "lacks the QcType eseal statement; its QcType: esign"),
    (("compliance", "qscd"), "lacks the QcType eseal statement; its QcType: none"),
    (("compliance", "eseal"), "not on a qualified seal creation device"),
    (("eseal", "qscd"), "no QcCompliance statement"),
    ((), "no QcCompliance statement"),
])
def test_the_seal_certificates_qc_statements_decide(ca, commission, lt_operator, statements, words):
    answer = _assess(_seal_cert(ca, statements), _lists(commission, lt_operator, [_granted(ca)]))
    assert answer.qualified is False and words in answer.why


def test_the_lists_qualifications_override_the_certificate(ca, commission, lt_operator):
    corrected = _granted(ca, State("granted", NOW - 400 * DAY, qualifiers=(("QCStatement", "QCForESeal", "QCWithQSCD"),)))
    answer = _assess(_seal_cert(ca, ("esign",)), _lists(commission, lt_operator, [corrected]))
    assert answer.qualified is True, answer.why
    withdrawn_qc = _granted(ca, State("granted", NOW - 400 * DAY, qualifiers=(("NotQualified",),)))
    assert _assess(_seal_cert(ca), _lists(commission, lt_operator, [withdrawn_qc])).qualified is False
    no_qscd = _granted(ca, State("granted", NOW - 400 * DAY, qualifiers=(("QCNoQSCD",),)))
    assert "not on a qualified seal creation device" in _assess(
        _seal_cert(ca), _lists(commission, lt_operator, [no_qscd])).why


def test_a_service_for_signatures_only_or_of_another_type_is_not_qualified_for_seals(ca, commission, lt_operator):
    signatures = _granted(ca, State("granted", NOW - 400 * DAY, usages=("ForeSignatures",)))
    answer = _assess(_seal_cert(ca), _lists(commission, lt_operator, [signatures]))
    assert answer.qualified is False and "other uses than electronic seals" in answer.why
    pkc = _granted(ca, State("granted", NOW - 400 * DAY, type_identifier="http://uri.etsi.org/TrstSvc/Svctype/CA/PKC"))
    answer = _assess(_seal_cert(ca), _lists(commission, lt_operator, [pkc]))
    assert answer.qualified is False and "not a qualified certificate service" in answer.why


def test_a_certificate_no_listed_service_issued_is_not_qualified(ca, commission, lt_operator):
    stranger = make_test_ca(NOW)
    answer = _assess(_seal_cert(stranger), _lists(commission, lt_operator, [_granted(ca)]))
    assert answer.qualified is False and "no trust service on the trusted list of LT" in answer.why
    # Same name, other key: a look-alike CA is not the listed one.
    assert stranger[1].subject == ca[1].subject


def test_a_national_list_with_a_wrong_signature_or_pointer_gives_false(ca, commission, lt_operator):
    impostor = ListSigner.create("not the LT operator")
    answer = _assess(_seal_cert(ca), _lists(commission, lt_operator, [_granted(ca)], lt_signer=impostor))
    assert answer.qualified is False and "not signed by any of the 1 certificate(s)" in answer.why
    answer = _assess(_seal_cert(ca), _lists(commission, lt_operator, [_granted(ca)], pointer_certs=[impostor.cert]))
    assert answer.qualified is False and "trusted list of LT is not signed" in answer.why


def test_a_lotl_not_signed_by_the_configured_signers_gives_false(ca, commission, lt_operator):
    answer = _assess(_seal_cert(ca), _lists(commission, lt_operator, [_granted(ca)], lotl_signers=[lt_operator.cert]))
    assert answer.qualified is False and "List of Trusted Lists is not signed" in answer.why


def test_without_usable_lists_the_answer_is_unknown(ca, commission, lt_operator):
    cert = _seal_cert(ca)
    assert _assess(cert, None).qualified is None
    assert "EDC_TRUSTED_LISTS" in _assess(cert, None).why
    missing = _assess(cert, _lists(commission, lt_operator, [_granted(ca)], national=False))
    assert missing.qualified is None and "trusted list of LT is not available" in missing.why
    stale = _assess(cert, _lists(commission, lt_operator, [_granted(ca)], lt_next_update=NOW - DAY))
    assert stale.qualified is None and "out of date" in stale.why
    stale_lotl = _assess(cert, _lists(commission, lt_operator, [_granted(ca)], lotl_next_update=NOW - DAY))
    assert stale_lotl.qualified is None and "List of Trusted Lists (sequence 1) is out of date" in stale_lotl.why
    assert _assess(cert, tl.load_trusted_lists(None, {}, [commission.cert], at=NOW)).qualified is None


def test_a_seal_that_is_not_valid_is_not_qualified(ca, commission, lt_operator):
    answer = _assess(_seal_cert(ca), _lists(commission, lt_operator, [_granted(ca)]), confirmed=False)
    assert answer.qualified is False and "the seal itself is not valid" in answer.why
    assert answer.provider == "Nemunas University TEST trust service provider"


def test_malformed_qc_statements_are_a_reason_not_a_crash(ca, commission, lt_operator):
    key, ca_cert = ca
    subject_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    cert = (x509.CertificateBuilder().subject_name(SEAL_NAME).issuer_name(ca_cert.subject).public_key(subject_key)
            .serial_number(x509.random_serial_number()).not_valid_before(ISSUED).not_valid_after(NOW + DAY)
            .add_extension(x509.UnrecognizedExtension(qualified.QC_STATEMENTS, b"\x30\x03\x06\x01"), critical=False)
            .sign(key, hashes.SHA256()))
    answer = _assess(cert, _lists(commission, lt_operator, [_granted(ca)]))
    assert answer.qualified is False and "QC statements are not valid DER" in answer.why
