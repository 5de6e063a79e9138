"""XAdES B-T and B-LT credentials: issued against a loopback OpenSSL TSA and a TEST CA with a CRL
server, checked against the EU schema and the XAdES 1.3.2 schema, by xmlsec1, and by our verifier
with the clock moved past the seal certificate's expiry and past a later revocation.
"""
from __future__ import annotations

import base64
import datetime as dt
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from bridge.edc import formats, ltv, timestamps, xades
from bridge.edc.xades_ltv import XadesLongTerm
from bridge.edc.issuer import issue_edc_xml
from bridge.edc.schema_check import safe_parse
from bridge.edc.verifier import verify_credential
from ltv_pki import UTC, LoopbackTSA, TestCA, closed_port_url

SHARED_XSD = Path(__file__).resolve().parents[3] / "shared" / "reference" / "edc" / "v1_xsd"
NOW = dt.datetime.now(UTC)
LATER = NOW + dt.timedelta(days=200)  # after every seal certificate below expired, before the TSA's (365 days)
CLAIMED = (NOW - dt.timedelta(hours=3)).replace(microsecond=0)  # a signing time unlike the time-stamp's


def _issue(credential, seal, tsa, level, **kwargs) -> bytes:
    client = ltv.TsaClient(tsa.url, timeout=5) if tsa else None
    return issue_edc_xml(credential, seal, signing_time=CLAIMED, tsa=client, level=level, **kwargs)


def _verify(data: bytes, ca, schema=None, now=None):
    return verify_credential(data, trust_anchors=[ca.cert], schema=schema, now=now or NOW)


def _token(data: bytes) -> bytes:
    node = safe_parse(data).getroot().find(f".//{{{xades.XADES_NS}}}EncapsulatedTimeStamp")
    return base64.b64decode(node.text)


# --- B-T ------------------------------------------------------------------------------------------


def test_b_t_seal_is_dated_by_the_time_stamp_not_the_claimed_time(credential, ca, tsa, schema):
    seal = ca.issue_seal()
    data = _issue(credential, seal, tsa, "B-T")
    report = _verify(data, ca, schema)
    assert report.valid, report.problems
    assert report.level == "B-T"
    stamped = timestamps.token_time(_token(data))
    assert report.sealed_at == stamped.isoformat().replace("+00:00", "Z")
    assert stamped - CLAIMED > dt.timedelta(hours=2)  # the claimed SigningTime is not what is reported
    assert any("valid at the time of sealing" in n for n in report.notes)


def test_b_t_still_verifies_after_the_certificate_expired_but_b_b_does_not(credential, ca, tsa):
    seal = ca.issue_seal(days=30)
    b_t = _issue(credential, seal, tsa, "B-T")
    b_b = _issue(credential, seal, None, "B-B")
    assert _verify(b_t, ca, now=LATER).valid
    late_b_b = _verify(b_b, ca, now=LATER)
    assert not late_b_b.valid and late_b_b.level == "B-B"
    assert any("expired" in p for p in late_b_b.problems)


def test_replaced_time_stamp_token_is_caught(credential, ca, tsa):
    seal = ca.issue_seal()
    data = _issue(credential, seal, tsa, "B-T")
    other = _issue(credential, seal, tsa, "B-T")  # same content, another signature value and time-stamp
    forged = data.replace(base64.b64encode(_token(data)), base64.b64encode(_token(other)))
    assert forged != data
    report = _verify(forged, ca)
    assert not report.valid and report.sealed_at == CLAIMED.isoformat().replace("+00:00", "Z")
    assert any("time-stamp: " in p and "message imprint does not match" in p for p in report.problems)


def test_tampered_time_stamp_token_is_caught(credential, ca, tsa):
    data = _issue(credential, ca.issue_seal(), tsa, "B-T")
    token = _token(data)
    tampered_token = token[:-5] + bytes([token[-5] ^ 0x01]) + token[-4:]  # inside the TSA's signature
    forged = data.replace(base64.b64encode(token), base64.b64encode(tampered_token))
    report = _verify(forged, ca)
    assert not report.valid
    assert any(p.startswith("time-stamp: ") for p in report.problems), report.problems


def test_claimed_signing_time_after_the_time_stamp_is_refused(credential, ca, tsa):
    future = NOW + dt.timedelta(days=2)
    data = issue_edc_xml(credential, ca.issue_seal(), signing_time=future, tsa=ltv.TsaClient(tsa.url), level="B-T")
    report = _verify(data, ca)
    assert not report.valid
    assert any("after its own time-stamp" in p for p in report.problems)


def test_time_stamp_from_an_untrusted_tsa_is_set_aside(credential, ca):
    stranger = TestCA.create("TEST CA of an unknown TSA")
    rogue = LoopbackTSA(stranger)
    try:
        data = _issue(credential, ca.issue_seal(days=30), rogue, "B-T")
    finally:
        rogue.close()
    # Intact but unbelieved: the seal is judged as of now, as if it had no time-stamp ...
    today = _verify(data, ca)
    assert today.valid and today.sealed_at == CLAIMED.isoformat().replace("+00:00", "Z")
    assert any("time-stamp was not used" in n and "not issued by any of the trusted" in n for n in today.notes)
    late = _verify(data, ca, now=LATER)
    assert not late.valid and any("expired" in p for p in late.problems)
    # ... unless TSAs are trusted through their own anchors (EDC_TSA_TRUST_ANCHORS).
    believed = verify_credential(data, trust_anchors=[ca.cert], tsa_anchors=[stranger.cert], now=LATER)
    assert believed.valid, believed.problems


# --- B-LT -----------------------------------------------------------------------------------------


def test_b_lt_carries_chain_and_crl_and_is_valid_after_expiry(credential, ca, tsa, schema):
    seal = ca.issue_seal(days=30)
    data = _issue(credential, seal, tsa, "B-LT", revocation_source=ltv.CrlDistributionPointSource(timeout=5))
    root = safe_parse(data).getroot()
    embedded = root.xpath("//xades:CertificateValues/xades:EncapsulatedX509Certificate", namespaces=xades.NS)
    assert len(embedded) == 3  # seal certificate, TEST CA, TSA certificate
    assert root.xpath("count(//xades:RevocationValues/xades:CRLValues/xades:EncapsulatedCRLValue)",
                      namespaces=xades.NS) == 1  # one CA, one CRL for both the seal and the TSA
    report = _verify(data, ca, schema, now=LATER)
    assert report.valid, report.problems
    assert report.level == "B-LT"
    assert any("valid at the time of sealing" in n for n in report.notes)
    assert any("expired" in n for n in report.notes)


def test_b_lt_revoked_after_the_time_stamp_is_valid_at_the_time_of_sealing(credential, ca, tsa):
    seal = ca.issue_seal(days=30)
    b_t = _issue(credential, seal, tsa, "B-T")
    stamped = timestamps.token_time(_token(b_t))
    ca.revoke(seal.certificate, stamped + dt.timedelta(days=5))
    later_crl = ca.crl(this_update=stamped + dt.timedelta(days=6))  # issued after sealing, lists the revocation
    root = safe_parse(b_t).getroot()
    XadesLongTerm(root).add_validation_data(ltv.StaticRevocationSource(crls=[later_crl]))
    report = _verify(xades.serialize(root), ca, now=LATER)
    assert report.level == "B-LT"
    assert report.valid, report.problems
    assert any("valid at the time of sealing" in n for n in report.notes)


def test_b_lt_revoked_before_the_time_stamp_is_not_trusted(credential, ca, tsa):
    seal = ca.issue_seal(days=30)
    ca.revoke(seal.certificate, NOW - dt.timedelta(hours=1))
    data = _issue(credential, seal, tsa, "B-LT", revocation_source=ltv.CrlDistributionPointSource(timeout=5))
    report = _verify(data, ca, now=LATER)
    assert report.level == "B-LT"
    assert not report.valid and not report.trusted
    assert any("had been revoked" in p for p in report.problems)


@pytest.mark.parametrize("revoked_before", [False, True], ids=["good", "revoked-before-sealing"])
def test_b_lt_with_ocsp_responses_instead_of_a_crl(credential, revoked_before):
    ocsp_ca = TestCA.create("TEST OCSP-only CA", crl_url=None)
    ocsp_ca.ocsp_url = "http://127.0.0.1:9/ocsp"  # named in its certificates; responses are made directly
    own_tsa = LoopbackTSA(ocsp_ca)
    seal = ocsp_ca.issue_seal(days=30)
    if revoked_before:
        ocsp_ca.revoke(seal.certificate, NOW - dt.timedelta(hours=1))
    try:
        source = ltv.StaticRevocationSource(ocsps=[ocsp_ca.ocsp(seal.certificate), ocsp_ca.ocsp(own_tsa.cert)])
        data = _issue(credential, seal, own_tsa, "B-LT", revocation_source=source)
    finally:
        own_tsa.close()
    root = safe_parse(data).getroot()
    assert len(root.xpath("//xades:OCSPValues/xades:EncapsulatedOCSPValue", namespaces=xades.NS)) == 2
    assert not root.xpath("//xades:CRLValues", namespaces=xades.NS)
    report = _verify(data, ocsp_ca, now=LATER)
    assert report.level == "B-LT"
    assert report.valid is (not revoked_before), report.problems
    if revoked_before:
        assert any("had been revoked" in p for p in report.problems)


def test_b_lt_without_reachable_crl_is_not_produced(credential, ca, tsa):
    seal = ca.issue_seal()
    empty = ltv.StaticRevocationSource(crls=[TestCA.create("TEST unrelated CA").crl()])
    with pytest.raises(ltv.RevocationUnavailableError):
        _issue(credential, seal, tsa, "B-LT", revocation_source=empty)


def test_b_lt_on_softhsm_seal_is_valid_after_expiry(credential, ec_token, tsa):
    """The seal key on a real PKCS#11 token; its TEST CA also certifies a TSA and signs a CRL."""
    from hsm.signer import open_seal

    token_ca = TestCA(key=ec_token.ca_key, cert=ec_token.ca_cert)
    token_tsa = LoopbackTSA(token_ca, days=900)  # outlives the token's TEST seal (730 days)
    try:
        seal = open_seal(ec_token.config)
        data = _issue(credential, seal, token_tsa, "B-LT",
                      revocation_source=ltv.StaticRevocationSource(crls=[token_ca.crl()]))
    finally:
        token_tsa.close()
    after_expiry = seal.certificate.not_valid_after_utc + dt.timedelta(days=30)
    report = verify_credential(data, trust_anchors=[ec_token.ca_cert], now=after_expiry)
    assert report.level == "B-LT"
    assert report.valid, report.problems


# --- schemas and the independent verifier ----------------------------------------------------------


class _LocalXsd(etree.Resolver):
    def resolve(self, system_url, public_id, context):
        name = Path(system_url).name
        return self.resolve_filename(str(SHARED_XSD / name), context) if (SHARED_XSD / name).exists() else None


@pytest.fixture(scope="module")
def xades_schema() -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(_LocalXsd())
    return etree.XMLSchema(etree.parse(str(SHARED_XSD / "XAdES01903v132-201601.xsd"), parser))


@pytest.mark.parametrize("level", ["B-T", "B-LT"])
def test_long_term_documents_follow_the_edc_and_xades_schemas(credential, ca, tsa, schema, xades_schema, level):
    data = _issue(credential, ca.issue_seal(), tsa, level, revocation_source=ltv.CrlDistributionPointSource())
    assert schema.problems(data) == []
    # The EDC schema leaves the ds:Object content open; the XAdES schema checks what we added.
    qualifying = safe_parse(data).getroot().find(f".//{{{xades.XADES_NS}}}QualifyingProperties")
    assert xades_schema.validate(etree.ElementTree(qualifying)), xades_schema.error_log
    broken = etree.ElementTree(qualifying)
    stamp = broken.getroot().find(f".//{{{xades.XADES_NS}}}SignatureTimeStamp")
    stamp.append(etree.Element(f"{{{xades.XADES_NS}}}Unexpected"))
    assert not xades_schema.validate(broken)  # the schema check can fail


def test_xmlsec1_verifies_the_signature_of_a_b_lt_document(credential, ca, tsa, tmp_path):
    seal = ca.issue_seal()
    data = _issue(credential, seal, tsa, "B-LT", revocation_source=ltv.CrlDistributionPointSource())
    path = tmp_path / "b-lt.xml"
    path.write_bytes(data)
    pem = ca.write_pem(tmp_path / "ca.pem")  # xmlsec1 builds the seal certificate's chain to the TEST CA
    command = ["xmlsec1", "--verify", "--trusted-pem", str(pem), "--id-attr:Id", "SignedProperties",
               "--id-attr:Id", "KeyInfo", str(path)]
    ok = subprocess.run(command, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    tampered = data.replace("García López".encode(), "García Lopes".encode(), 1)
    assert tampered != data
    path.write_bytes(tampered)
    assert subprocess.run(command, capture_output=True, text=True).returncode != 0


# --- the TSA being down ----------------------------------------------------------------------------


def test_tsa_down_with_policy_wait_raises_retryable_and_seals_nothing(credential, ca):
    down = ltv.TsaClient(closed_port_url(), timeout=2)
    with pytest.raises(timestamps.TsaUnavailableError) as err:
        issue_edc_xml(credential, ca.issue_seal(), tsa=down, level="B-T", tsa_policy="wait")
    assert err.value.retryable


def test_tsa_down_with_seal_then_stamp_gives_b_b_and_a_pending_time_stamp(credential, ca, tsa, schema):
    seal = ca.issue_seal()
    down = ltv.TsaClient(closed_port_url(), timeout=2)
    with pytest.raises(ltv.TimestampPending) as pending:
        issue_edc_xml(credential, seal, signing_time=CLAIMED, tsa=down, level="B-LT", tsa_policy="seal-then-stamp")
    stored = pending.value.sealed
    assert "cannot be reached" in pending.value.reason and pending.value.wanted_level == "B-LT"
    assert formats.long_term(stored).signature_timestamp() is None
    first = _verify(stored, ca, schema)
    assert first.valid and first.level == "B-B"

    # Later, the TSA answers: the stored credential is completed, its seal untouched.
    up = ltv.SealLevelSettings(level="B-LT", tsa=ltv.TsaClient(tsa.url), policy="seal-then-stamp")
    completed = ltv.complete(formats.long_term(stored), up, ltv.CrlDistributionPointSource())
    assert formats.long_term(completed).signature_timestamp() is not None
    report = _verify(completed, ca, schema, now=LATER)
    assert report.valid and report.level == "B-LT", report.problems
    assert report.sealed_at != first.sealed_at  # the later time-stamp's time, not the claimed signing time
    sig = lambda d: safe_parse(d).getroot().findtext(f".//{{{xades.DS_NS}}}SignatureValue")  # noqa: E731
    assert sig(completed) == sig(stored)


def test_extend_to_t_keeps_an_existing_time_stamp(credential, ca, tsa):
    data = _issue(credential, ca.issue_seal(), tsa, "B-T")
    root = safe_parse(data).getroot()
    asked = tsa.requests
    assert XadesLongTerm(root).add_signature_timestamp(ltv.TsaClient(tsa.url)) == timestamps.token_time(_token(data))
    assert tsa.requests == asked
    assert len(root.xpath("//xades:SignatureTimeStamp", namespaces=xades.NS)) == 1


# --- configuration ----------------------------------------------------------------------------------


def test_settings_from_environment_name_the_wrong_variable():
    assert ltv.SealLevelSettings.parse({}).level == "B-B"
    assert ltv.SealLevelSettings.parse({"EDC_TSA_URL": "http://127.0.0.1:9/"}).level == "B-T"
    with pytest.raises(ltv.LtvConfigError, match="EDC_SEAL_LEVEL"):
        ltv.SealLevelSettings.parse({"EDC_SEAL_LEVEL": "B-LTX", "EDC_TSA_URL": "http://127.0.0.1:9/"})
    with pytest.raises(ltv.LtvConfigError, match="EDC_TSA_URL"):
        ltv.SealLevelSettings.parse({"EDC_SEAL_LEVEL": "B-T"})
    with pytest.raises(ltv.LtvConfigError, match="EDC_TSA_POLICY"):
        ltv.SealLevelSettings.parse({"EDC_TSA_URL": "http://127.0.0.1:9/", "EDC_TSA_POLICY": "later"})
    client = ltv.SealLevelSettings.parse({"EDC_TSA_URL": "https://u:pw@tsa.example/ts"}).tsa
    assert "pw" not in repr(client)


# --- fetching CRLs ----------------------------------------------------------------------------------


def test_crl_fetcher_reuses_a_crl_and_refuses_one_from_another_ca(ca, crl_server):
    seal = ca.issue_seal()
    fetcher = ltv.CrlDistributionPointSource(timeout=5)
    before = crl_server.requests
    first = fetcher.collect(seal.certificate, ca.cert)
    again = fetcher.collect(ca.issue_seal().certificate, ca.cert)
    assert first.crls == again.crls and crl_server.requests == before + 1  # cached until nextUpdate
    try:
        crl_server.serve_instead(TestCA.create("TEST impostor CA").crl())
        with pytest.raises(ltv.RevocationUnavailableError, match="not signed by"):
            ltv.CrlDistributionPointSource(timeout=5).collect(seal.certificate, ca.cert)
    finally:
        crl_server.serve_instead(None)


def test_crl_fetcher_without_distribution_point_or_server_says_so(ca):
    no_cdp = TestCA.create("TEST CA without CRL distribution point")
    with pytest.raises(ltv.RevocationUnavailableError, match="names no CRL distribution point"):
        ltv.CrlDistributionPointSource().collect(no_cdp.issue_seal().certificate, no_cdp.cert)
    offline = TestCA.create("TEST CA whose CRL server is down", crl_url=closed_port_url() + "ca.crl")
    with pytest.raises(ltv.RevocationUnavailableError, match="no CRL could be fetched"):
        ltv.CrlDistributionPointSource(timeout=2).collect(offline.issue_seal().certificate, offline.cert)
