"""Acceptance of the sealed-credential core (issue 2): issue on SoftHSM, validate, verify, tamper.

Every pilot course is issued through the real CLI on a real SoftHSM token, validated against the
official EU schema from ../shared, verified by our verifier *and* by the independent xmlsec1; then
one character is changed and both must refuse it.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from lxml import etree

from bridge.cli import main as edc_bridge
from bridge.edc import model, trust, xades
from bridge.edc.issuer import issue_edc_xml
from bridge.edc.schema_check import EdcSchema
from bridge.edc.verifier import verify_credential
from hsm.signer import open_seal
from tests.sidecar.conftest import token_env

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "reference" / "edc"
COURSES = sorted((REPO / "examples" / "pilot" / "courses").glob("*.json"))
LEARNERS = sorted((REPO / "examples" / "pilot" / "learners").glob("*.json"))
NOW = dt.datetime.now(dt.timezone.utc)


@pytest.fixture(scope="module")
def schema() -> EdcSchema:
    return EdcSchema(SHARED / "v1_xsd")


def _credential(course: Path, learner: Path) -> model.Credential:
    spec = model.load_course_spec(json.loads(course.read_text()))
    person = model.load_learner(json.loads(learner.read_text()))
    return model.Credential(spec, person, model.Issuance.new(valid_for=spec.valid_for))


def _xmlsec_verify(path: Path, *trusted_pems: Path) -> subprocess.CompletedProcess:
    """xmlsec1 as the independent verifier: it checks the signature and the certificate path itself."""
    trusted = [arg for pem in trusted_pems for arg in ("--trusted-pem", str(pem))]
    return subprocess.run(
        ["xmlsec1", "--verify", *trusted, "--id-attr:Id", "SignedProperties", "--id-attr:Id", "KeyInfo", str(path)],
        capture_output=True, text=True,
    )


@pytest.mark.parametrize("course", COURSES, ids=[c.stem for c in COURSES])
def test_cli_issues_each_pilot_course_and_both_verifiers_agree(course, rsa_token, schema, tmp_path, monkeypatch,
                                                               capsys):
    learner = LEARNERS[COURSES.index(course) % len(LEARNERS)]
    for name, value in token_env(rsa_token).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("EDC_SCHEMA_DIR", str(SHARED / "v1_xsd"))
    monkeypatch.setenv("EDC_TRUST_ANCHORS", str(rsa_token.ca_cert_path))
    out = tmp_path / "cred.xml"
    assert edc_bridge(["issue", "--spec", str(course), "--learner", str(learner), "--out", str(out)]) == 0
    data = out.read_bytes()
    assert schema.problems(data) == []

    capsys.readouterr()
    assert edc_bridge(["verify", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    person = json.loads(learner.read_text())
    assert report["valid"] and report["signature_intact"] and report["trusted"] and report["schema_valid"]
    assert report["learner"] == f"{person['given_names']} {person['family_name']}"
    assert report["ects"] == json.loads(course.read_text())["workload"]["ects"]
    assert report["eqf_level"] == json.loads(course.read_text())["eqf_level"]
    assert report["level"] == "B-B"

    seal_pem = tmp_path / "seal.pem"
    seal_pem.write_bytes(rsa_token.seal_certificate.public_bytes(serialization.Encoding.PEM))
    ok = _xmlsec_verify(out, seal_pem, rsa_token.ca_cert_path)
    assert ok.returncode == 0, ok.stderr

    # One character of the learner's family name changes: both verifiers refuse.
    family = person["family_name"].encode()
    changed = (person["family_name"][:-1] + ("x" if not person["family_name"].endswith("x") else "y")).encode()
    assert data.count(b">" + family + b"<") >= 1
    tampered = tmp_path / "tampered.xml"
    tampered.write_bytes(data.replace(b">" + family + b"<", b">" + changed + b"<", 1))
    assert edc_bridge(["verify", str(tampered), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert not report["valid"] and not report["signature_intact"]
    assert any("changed after it was sealed" in p for p in report["problems"]), report["problems"]
    assert _xmlsec_verify(tampered, seal_pem, rsa_token.ca_cert_path).returncode != 0


@pytest.fixture(scope="module")
def sealed(rsa_token, schema) -> bytes:
    seal = open_seal(rsa_token.config)
    return issue_edc_xml(_credential(COURSES[0], LEARNERS[0]), seal, schema=schema)


def _verify(data: bytes, token, schema, **kw):
    return verify_credential(data, trust_anchors=[token.ca_cert], schema=schema, **kw)


def test_ecdsa_seal_verifies_with_both_verifiers(ec_token, rsa_token, schema, tmp_path):
    data = issue_edc_xml(_credential(COURSES[1], LEARNERS[1]), open_seal(ec_token.config), schema=schema)
    report = _verify(data, ec_token, schema)
    assert report.valid, report.problems
    sig = etree.fromstring(data).find(".//{http://www.w3.org/2000/09/xmldsig#}SignatureMethod")
    assert sig.get("Algorithm").endswith("ecdsa-sha256")
    (tmp_path / "c.xml").write_bytes(data)
    (tmp_path / "s.pem").write_bytes(ec_token.seal_certificate.public_bytes(serialization.Encoding.PEM))
    ok = _xmlsec_verify(tmp_path / "c.xml", tmp_path / "s.pem", ec_token.ca_cert_path)
    assert ok.returncode == 0, ok.stderr
    # The seal carries no bare key: xmlsec1 trusting only another CA cannot verify it.
    assert _xmlsec_verify(tmp_path / "c.xml", rsa_token.ca_cert_path).returncode != 0
    assert etree.fromstring(data).find(".//{http://www.w3.org/2000/09/xmldsig#}KeyValue") is None


def test_sealed_credential_has_xades_baseline_b_properties(sealed):
    root = etree.fromstring(sealed)
    sig = root.find("{http://data.europa.eu/snb}proof/{http://www.w3.org/2000/09/xmldsig#}Signature")
    assert sig is not None, "the signature must sit in <proof>"
    ns = xades.NS
    assert sig.find("ds:SignedInfo/ds:CanonicalizationMethod", ns).get("Algorithm") == xades.EXC_C14N
    props = sig.find(".//xades:SignedProperties/xades:SignedSignatureProperties", ns)
    assert props.find("xades:SigningTime", ns) is not None
    assert props.find("xades:SigningCertificateV2/xades:Cert/xades:CertDigest", ns) is not None
    assert sig.find(".//xades:SignedDataObjectProperties/xades:DataObjectFormat/xades:MimeType", ns).text == "text/xml"
    for ref in sig.findall("ds:SignedInfo/ds:Reference", ns):
        algs = [t.get("Algorithm") for t in ref.findall("ds:Transforms/ds:Transform", ns)]
        assert xades.EXC_C14N in algs, f"reference {ref.get('URI')!r} lacks its exclusive c14n transform"


def test_changed_attribute_is_caught(sealed, rsa_token, schema):
    root = etree.fromstring(sealed)
    eqf = root.find(".//{http://data.europa.eu/snb}eqfLevel")
    level = eqf.get("uri")[-1]
    eqf.set("uri", eqf.get("uri")[:-1] + ("7" if level == "8" else "8"))
    report = _verify(etree.tostring(root), rsa_token, schema)
    assert not report.valid and not report.signature_intact
    assert any("changed after it was sealed" in p for p in report.problems)


def test_moved_signature_is_caught(sealed, rsa_token, schema):
    root = etree.fromstring(sealed)
    sig = root.find(".//{http://www.w3.org/2000/09/xmldsig#}Signature")
    root.append(sig)  # out of <proof>, to the end of the credential
    report = _verify(etree.tostring(root), rsa_token, schema)
    assert not report.valid
    assert any("moved" in p for p in report.problems)


def test_duplicated_signature_is_caught(sealed, rsa_token, schema):
    root = etree.fromstring(sealed)
    sig = root.find(".//{http://www.w3.org/2000/09/xmldsig#}Signature")
    root.find("{http://data.europa.eu/snb}credentialSubject").append(copy.deepcopy(sig))
    report = _verify(etree.tostring(root), rsa_token, schema)
    assert not report.valid
    assert any("2 signatures" in p for p in report.problems)


def test_signature_wrapping_with_forged_content_is_caught(sealed, rsa_token, schema):
    """Classic wrapping: keep the genuine signed content hidden, show a forged one."""
    root = etree.fromstring(sealed)
    forged = copy.deepcopy(root)
    name = forged.find(".//{http://data.europa.eu/snb}credentialSubject/{http://data.europa.eu/snb}fullName")
    name[0].text = "Mallory Forger"
    sig = forged.find(".//{http://www.w3.org/2000/09/xmldsig#}Signature")
    genuine = copy.deepcopy(root)
    for s in genuine.iter("{http://www.w3.org/2000/09/xmldsig#}Signature"):
        s.getparent().remove(s)
    obj = etree.SubElement(sig, "{http://www.w3.org/2000/09/xmldsig#}Object")
    obj.append(genuine)
    report = _verify(etree.tostring(forged), rsa_token, schema)
    assert not report.valid
    assert report.learner == "Mallory Forger"  # what the forger shows ...
    assert not report.signature_intact  # ... is not what was sealed


def test_certificate_from_another_ca_is_not_trusted(sealed, rsa_token, ec_token, schema):
    report = verify_credential(sealed, trust_anchors=[ec_token.ca_cert], schema=schema)
    assert report.signature_intact and not report.trusted and not report.valid
    assert any("not issued by any of the trusted" in p for p in report.problems), report.problems


def test_expired_certificate_is_not_trusted(tmp_path, schema):
    from hsm.demo_token import create_demo_token

    token = create_demo_token(tmp_path / "expired", key_type="ecp256",
                              cert_not_before=NOW - dt.timedelta(days=400), cert_not_after=NOW - dt.timedelta(days=10))
    data = issue_edc_xml(_credential(COURSES[2], LEARNERS[2]), open_seal(token.config), schema=schema)
    report = verify_credential(data, trust_anchors=[token.ca_cert], schema=schema)
    assert report.signature_intact and not report.trusted and not report.valid
    assert any("expired" in p for p in report.problems)


def test_b_b_seal_is_not_trusted_after_its_certificate_expires(sealed, rsa_token, schema):
    later = rsa_token.seal_certificate.not_valid_after_utc + dt.timedelta(days=1)
    report = _verify(sealed, rsa_token, schema, now=later)
    assert report.signature_intact and not report.trusted
    assert any("no time-stamp" in n for n in report.notes)


def test_no_trust_anchors_means_not_valid(sealed, schema):
    report = verify_credential(sealed, trust_anchors=[], schema=schema)
    assert report.signature_intact and not report.valid
    assert any("no trust anchors" in p for p in report.problems)


def test_schema_check_skipped_is_said(sealed, rsa_token):
    report = verify_credential(sealed, trust_anchors=[rsa_token.ca_cert], schema=None)
    assert report.valid and report.schema_valid is None
    assert any("schema check was skipped" in n for n in report.notes)


@pytest.mark.parametrize("payload", [
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    b'<europassCredential xmlns="http://data.europa.eu/snb">&b;</europassCredential>',
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<europassCredential xmlns="http://data.europa.eu/snb">&xxe;</europassCredential>',
], ids=["entity-bomb", "xxe"])
def test_dtds_and_entities_are_refused(payload, rsa_token, schema):
    report = verify_credential(payload, trust_anchors=[rsa_token.ca_cert], schema=schema)
    assert not report.valid
    assert "root:" not in json.dumps(report.as_dict())
    assert any("not a well-formed, safe XML" in p for p in report.problems)


def test_eu_signed_sample_is_parsed_and_called_broken(schema):
    data = (SHARED / "v1_signed_samples" / "credential-generic-profile-xsd-signed.xml").read_bytes()
    report = verify_credential(data, trust_anchors=[], schema=schema)
    assert report.format == "edc-xml" and report.schema_valid is True
    assert report.level == "B-LT"
    assert not report.signature_intact and not report.valid
    assert any("changed after it was sealed" in p for p in report.problems)
    assert report.signer and "E Seal" in report.signer


def test_cli_takes_the_course_format_when_none_is_asked(rsa_token, tmp_path, monkeypatch, capsys):
    for name, value in token_env(rsa_token).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("EDC_TRUST_ANCHORS", str(rsa_token.ca_cert_path))
    doc = json.loads(COURSES[3].read_text())
    doc["format"] = "elm3-jsonld"
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(doc))
    out = tmp_path / "cred.jsonld"
    assert edc_bridge(["issue", "--spec", str(spec), "--learner", str(LEARNERS[0]), "--out", str(out)]) == 0
    assert out.read_bytes().lstrip().startswith(b"{")
    capsys.readouterr()
    assert edc_bridge(["verify", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["format"] == "elm3-jsonld"
