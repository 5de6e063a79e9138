"""Issue 3 acceptance, end to end: real EDC credentials sealed before and after a key rotation both verify.

The ceremony runs through `edc-hsm` on a token made by the vendor's tool; the credentials are issued
by the same code the sidecar uses, through a SealProvider that must pick up `activate` without restart.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from bridge.edc import model
from bridge.edc.issuer import issue_edc_xml
from bridge.edc.schema_check import EdcSchema
from bridge.edc.verifier import verify_credential
from hsm.demo_token import make_test_ca, seal_certificate
from hsm.signer import SealProvider

REPO = Path(__file__).resolve().parents[2]
SCHEMA = EdcSchema(REPO.parent / "shared" / "reference" / "edc" / "v1_xsd")
SUBJECT = "CN=Nemunas University eSeal (rotation test),O=Nemunas University,organizationIdentifier=VATLT-119502413,C=LT"
NOW = dt.datetime.now(dt.timezone.utc)


def _credential() -> model.Credential:
    spec = model.load_course_spec(json.loads((REPO / "examples/pilot/courses/cyber201.json").read_text()))
    learner = model.load_learner(json.loads((REPO / "examples/pilot/learners/ruta-zemaitiene.json").read_text()))
    return model.Credential(spec, learner, model.Issuance.new())


def _enrol(token, label: str, key_type: str, ca_key, ca_cert, tmp_path: Path) -> x509.Certificate:
    """keygen → csr → the test CA certifies → import-cert → activate, as security staff would."""
    token.run("keygen", "--label", label, "--type", key_type)
    csr_file = tmp_path / f"{label}.csr"
    token.run("csr", "--label", label, "--subject", SUBJECT, "--out", str(csr_file))
    csr = x509.load_pem_x509_csr(csr_file.read_bytes())
    cert = seal_certificate(csr.public_key(), csr.subject, ca_key, ca_cert, NOW - dt.timedelta(hours=1),
                            NOW + dt.timedelta(days=365))
    (tmp_path / f"{label}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "chain.pem").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    token.run("import-cert", "--label", label, "--cert", str(tmp_path / f"{label}.pem"),
              "--chain", str(tmp_path / "chain.pem"))
    token.run("activate", "--label", label)
    return cert


def test_credentials_sealed_before_and_after_rotation_both_verify(fresh_token, tmp_path):
    ca_key, ca_cert = make_test_ca(NOW)
    first = _enrol(fresh_token, "seal-2026", "rsa3072", ca_key, ca_cert, tmp_path)
    provider = SealProvider(fresh_token.config, recheck_seconds=0)
    before = issue_edc_xml(_credential(), provider.current(), schema=SCHEMA)

    second = _enrol(fresh_token, "seal-2027", "ecp256", ca_key, ca_cert, tmp_path)
    after = issue_edc_xml(_credential(), provider.current(), schema=SCHEMA)

    for data, cert in ((before, first), (after, second)):
        report = verify_credential(data, trust_anchors=[ca_cert], schema=SCHEMA)
        assert report.valid, report.problems
        assert report.signer == cert.subject.rfc4514_string()
    assert first.serial_number != second.serial_number
    assert b"ecdsa-sha256" in after and b"rsa-sha256" in before
