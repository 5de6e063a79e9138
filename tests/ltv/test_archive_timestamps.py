"""B-LTA: archive time-stamps over B-LT seals (XAdES xadesv141:ArchiveTimeStamp, JAdES arcTst), made with
the loopback OpenSSL TSA and checked by our verifier with the clock moved forward.

The TSA certificates here are short-lived on purpose: a time-stamp only counts while its TSA
certificate is good, unless a later archive time-stamp proves it existed while it was (ETSI EN 319
102-1). So a B-LT seal stops verifying once its TSA certificate expires; a renewed B-LTA one does not.
"""
from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from lxml import etree

from bridge.edc import formats, jades_ltv, ltv, timestamps, xades, xades_ltv
from bridge.edc.elm3_builder import build_elm3, serialize_elm3
from bridge.edc.issuer import issue_edc_xml
from bridge.edc.jades import JadesDocument, seal_jades
from bridge.edc.schema_check import safe_parse
from bridge.edc.verifier import verify_credential
from ltv_pki import LoopbackTSA
from tests.fuzz.mutate import replace_value_everywhere

NOW = dt.datetime.now(dt.timezone.utc)
SEAL_DAYS, FIRST_TSA_DAYS = 30, 60
AFTER_BOTH_EXPIRED = NOW + dt.timedelta(days=90)
YEARS_LATER = NOW + dt.timedelta(days=1500)
FORMATS = ("edc-xml", "elm3-jsonld")


@pytest.fixture(scope="module")
def first_tsa(ca):
    server = LoopbackTSA(ca, days=FIRST_TSA_DAYS)
    yield server
    server.close()


@pytest.fixture(scope="module")
def second_tsa(ca):
    server = LoopbackTSA(ca, days=3650)
    yield server
    server.close()


def _seal(fmt, credential, seal, tsa, level="B-LTA") -> bytes:
    options = dict(tsa=ltv.TsaClient(tsa.url, timeout=5), level=level,
                   revocation_source=ltv.CrlDistributionPointSource(timeout=5))
    if fmt == "edc-xml":
        return issue_edc_xml(credential, seal, **options)
    return seal_jades(serialize_elm3(build_elm3(credential)), seal, **options)


def _verify(data, ca, now):
    return verify_credential(data, trust_anchors=[ca.cert], now=now)


def _renew(data, tsa) -> bytes:
    return ltv.renew(formats.long_term(data), ltv.TsaClient(tsa.url, timeout=5), ltv.CrlDistributionPointSource(timeout=5))


def _archive_tokens(data: bytes) -> list[bytes]:
    return formats.long_term(data).archive_timestamps()


def _alter_token(data: bytes, token: bytes) -> bytes:
    """`data` with one byte inside the TSA's signature of `token` flipped."""
    return replace_value_everywhere(data, token, token[:-5] + bytes([token[-5] ^ 0x01]) + token[-4:])


@pytest.mark.parametrize("fmt", FORMATS)
def test_b_lta_seal_carries_an_archive_time_stamp_and_verifies(fmt, credential, ca, first_tsa):
    data = _seal(fmt, credential, ca.issue_seal(days=SEAL_DAYS), first_tsa)
    assert len(_archive_tokens(data)) == 1
    report = _verify(data, ca, NOW)
    assert report.valid and report.level == "B-LTA", report.problems
    assert any(n.startswith("archive time-stamp 1 proves the seal and its values existed") for n in report.notes)


@pytest.mark.parametrize("fmt", FORMATS)
def test_renewed_b_lta_verifies_after_the_seal_and_the_first_tsa_certificate_expired(fmt, credential, ca, first_tsa,
                                                                                     second_tsa):
    seal = ca.issue_seal(days=SEAL_DAYS)
    b_lt = _seal(fmt, credential, seal, first_tsa, level="B-LT")
    b_lta = _seal(fmt, credential, seal, first_tsa)
    renewed = _renew(b_lta, second_tsa)
    assert len(_archive_tokens(renewed)) == 2
    assert seal.certificate.not_valid_after_utc < AFTER_BOTH_EXPIRED and first_tsa.cert.not_valid_after_utc < AFTER_BOTH_EXPIRED
    # Before the renewal's TSA vouches for them, the first TSA's time-stamps no longer count ...
    for stale in (b_lt, b_lta):
        late = _verify(stale, ca, AFTER_BOTH_EXPIRED)
        assert not late.valid and any("expired" in p for p in late.problems), late.problems
    # ... after it, the seal is valid at the time of sealing, years on, and dated by its signature time-stamp.
    for moment in (AFTER_BOTH_EXPIRED, YEARS_LATER):
        report = _verify(renewed, ca, moment)
        assert report.valid and report.level == "B-LTA", (moment, report.problems)
        assert "valid at the time of sealing (as proven by the time-stamp)" in report.notes
    assert report.sealed_at == _verify(b_lta, ca, NOW).sealed_at
    assert _verify(b_lta, ca, NOW).valid  # the learner's first copy is untouched and still good today


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("which", [0, 1], ids=["first-archive-time-stamp", "second-archive-time-stamp"])
def test_any_altered_archive_time_stamp_fails(fmt, which, credential, ca, first_tsa, second_tsa):
    renewed = _renew(_seal(fmt, credential, ca.issue_seal(days=SEAL_DAYS), first_tsa), second_tsa)
    token = _archive_tokens(renewed)[which]
    altered = _alter_token(renewed, token)
    assert altered != renewed
    for moment in (NOW, AFTER_BOTH_EXPIRED):
        report = _verify(altered, ca, moment)
        assert not report.valid
        assert any(p.startswith(f"archive time-stamp {which + 1}: ") for p in report.problems), report.problems


@pytest.mark.parametrize("fmt", FORMATS)
def test_validation_data_covered_by_an_archive_time_stamp_cannot_be_swapped(fmt, credential, ca, first_tsa, second_tsa):
    """The archive time-stamp covers the CRLs carried before it: putting another (valid, newer) CRL in
    their place breaks its message imprint."""
    renewed = _renew(_seal(fmt, credential, ca.issue_seal(days=SEAL_DAYS), first_tsa), second_tsa)
    first_crl = _crls(renewed)[0]
    swapped = replace_value_everywhere(renewed, first_crl, ca.crl(days=3))
    assert swapped != renewed
    report = _verify(swapped, ca, NOW)
    assert not report.valid
    assert any(p.startswith("archive time-stamp 1: ") and "message imprint does not match" in p
               for p in report.problems), report.problems


def _crls(data: bytes) -> list[bytes]:
    if data.lstrip()[:1] == b"<":
        return [base64.b64decode(n.text) for n in safe_parse(data).getroot().iter(f"{{{xades.XADES_NS}}}EncapsulatedCRLValue")]
    return jades_ltv.carried(JadesDocument.parse(data))[1].crls


def test_xades_archive_time_stamp_and_its_validation_data_follow_en_319_132(credential, ca, first_tsa, second_tsa):
    renewed = _renew(_seal("edc-xml", credential, ca.issue_seal(days=SEAL_DAYS), first_tsa), second_tsa)
    props = safe_parse(renewed).getroot().find(f".//{{{xades.XADES_NS}}}UnsignedSignatureProperties")
    names = [etree.QName(child).localname for child in props]
    assert names == ["SignatureTimeStamp", "CertificateValues", "RevocationValues", "ArchiveTimeStamp",
                     "TimeStampValidationData", "ArchiveTimeStamp"]
    assert {etree.QName(c).namespace for c in props if etree.QName(c).localname != "SignatureTimeStamp"
            and "Values" not in etree.QName(c).localname} == {xades.XADES141_NS}
    signature = next(safe_parse(renewed).getroot().iter(f"{{{xades.DS_NS}}}Signature"))
    stamps = signature.findall(f".//{{{xades.XADES141_NS}}}ArchiveTimeStamp")
    # the second covers strictly more than the first: what the first covered, itself and its validation data
    first, second = (xades_ltv.archive_octets(signature, s) for s in stamps)
    assert len(second) > len(first)
    token = _archive_tokens(renewed)[1]
    assert timestamps.verify_timestamp(token, second, [ca.cert]).ok


def test_jades_arc_tst_of_the_eus_own_b_lta_sample_matches_our_reading():
    """Interoperability: the EU issuer's arcTst (DSS) is over exactly what archive_octets builds."""
    from pathlib import Path

    sample = Path(__file__).resolve().parents[3] / "shared" / "reference" / "edc" / "v3_jsonld" / "Sample-MC-Annex1-signed.jsonld"
    document = JadesDocument.parse(sample.read_bytes())
    [(index, token)] = jades_ltv.archive_tokens(document)
    certs, revocation = jades_ltv.carried(document)
    roots = [c for c in certs if c.subject == c.issuer]
    result = timestamps.verify_timestamp(token, jades_ltv.archive_octets(document, index), roots, extra_certs=certs,
                                         crls=revocation.crls, ocsps=revocation.ocsps)
    assert result.problems == [] and result.gen_time == dt.datetime(2023, 9, 27, 11, 54, 20, tzinfo=dt.timezone.utc)
    names = [next(iter(c)) for c in document.etsi_unsigned()]
    assert names == ["sigTst", "xVals", "rVals", "arcTst"]


def test_renewal_is_due_before_the_newest_tsa_certificate_expires(credential, ca, first_tsa, second_tsa):
    data = _seal("elm3-jsonld", credential, ca.issue_seal(days=SEAL_DAYS), first_tsa)
    horizon = dt.timedelta(days=30)
    assert ltv.proof_expires(formats.long_term(data)) == first_tsa.cert.not_valid_after_utc
    assert not ltv.renewal_due(formats.long_term(data), NOW, horizon)
    assert ltv.renewal_due(formats.long_term(data), NOW + dt.timedelta(days=FIRST_TSA_DAYS - 29), horizon)
    renewed = _renew(data, second_tsa)
    assert ltv.proof_expires(formats.long_term(renewed)) == second_tsa.cert.not_valid_after_utc
    assert not ltv.renewal_due(formats.long_term(renewed), NOW + dt.timedelta(days=FIRST_TSA_DAYS), horizon)
    assert json.loads(renewed)["payload"] == json.loads(data)["payload"]  # the credential itself is untouched
