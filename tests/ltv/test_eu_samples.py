"""Interoperability: the signature time-stamps in the EU's own signed samples (made by DSS with real
TSAs) check out with our verifier, so what we time-stamp is what DSS time-stamps.
"""
from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

from bridge.edc import jades_ltv, timestamps, xades, xades_ltv
from bridge.edc.jades import JadesDocument
from bridge.edc.schema_check import safe_parse

SHARED = Path(__file__).resolve().parents[3] / "shared" / "reference" / "edc"
UTC = dt.timezone.utc


def test_jades_sample_sig_tst_verifies_with_its_own_root_and_revocation_data():
    document = JadesDocument.parse((SHARED / "v3_jsonld" / "Sample-MC-Annex1-signed.jsonld").read_bytes())
    [token] = jades_ltv.signature_tokens(document)
    certs, revocation = jades_ltv.carried(document)
    roots = [c for c in certs if c.subject == c.issuer]
    result = timestamps.verify_timestamp(token, jades_ltv.timestamped_octets(document), roots, extra_certs=certs,
                                         crls=revocation.crls, ocsps=revocation.ocsps)
    assert result.ok, (result.problems, result.untrusted)
    assert result.time == dt.datetime(2023, 9, 27, 11, 54, 20, tzinfo=UTC)
    # One changed bit of the signature value and the imprint no longer matches.
    document.signature = bytes([document.signature[0] ^ 1]) + document.signature[1:]
    broken = timestamps.verify_timestamp(token, jades_ltv.timestamped_octets(document), roots, extra_certs=certs)
    assert any("message imprint does not match" in p for p in broken.problems)


def test_xades_sample_signature_time_stamp_covers_the_exclusive_c14n_signature_value():
    """The sample was re-indented after signing (its own digests no longer match), which also put
    whitespace into ds:SignatureValue; with that removed, DSS's imprint is ours exactly."""
    root = safe_parse((SHARED / "v1_signed_samples" / "credential-generic-profile-xsd-signed.xml").read_bytes()).getroot()
    signature = next(root.iter(f"{{{xades.DS_NS}}}Signature"))
    value = signature.find(f"{{{xades.DS_NS}}}SignatureValue")
    node = signature.find(f".//{{{xades.XADES_NS}}}SignatureTimeStamp/{{{xades.XADES_NS}}}EncapsulatedTimeStamp")
    token = base64.b64decode("".join(node.text.split()))
    certs = xades.certificates(signature)
    as_published = timestamps.verify_timestamp(token, xades_ltv.timestamped_octets(signature), [], extra_certs=certs)
    assert any("message imprint does not match" in p for p in as_published.problems)
    value.text = "".join(value.text.split())
    result = timestamps.verify_timestamp(token, xades_ltv.timestamped_octets(signature), [], extra_certs=certs)
    assert result.problems == []  # imprint, CMS signature, ESS certificate id: all as DSS made them
    assert result.gen_time == dt.datetime(2020, 11, 12, 9, 53, 37, tzinfo=UTC)
    assert "ZetesConfidens" in result.tsa_cert.subject.rfc4514_string()


def test_cli_verifies_the_eus_b_lt_sample_with_trust_anchors_to_a_verdict(tmp_path):
    """The command of issue 13: with anchors configured it ended in a traceback (a PEM CRL in RevocationValues)."""
    import os
    import subprocess
    import sys

    from ltv_pki import TestCA

    anchors = TestCA.create("TEST anchors of a deployment").write_pem(tmp_path / "ca.pem")
    env = {**os.environ, "EDC_SCHEMA_DIR": str(SHARED / "v1_xsd"), "EDC_TRUST_ANCHORS": str(anchors)}
    done = subprocess.run([sys.executable, "-m", "bridge.cli", "verify",
                           str(SHARED / "v1_signed_samples" / "credential-generic-profile-xsd-signed.xml")],
                          capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parents[2], timeout=120)
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 1 and done.stdout.startswith("NOT VALID: ")
    assert "Seal level: B-LT" in done.stdout and "PEM-armoured CRL" in done.stdout


def test_jades_revocation_values_swapped_are_named_not_raised():
    """The EU's JAdES sample with its rVals crlVals and ocspVals swapped: each value is named."""
    import json

    from bridge.edc.verifier import verify_credential

    outer = json.loads((SHARED / "v3_jsonld" / "Sample-MC-Annex1-signed.jsonld").read_bytes())
    header = outer["signatures"][0]["header"]
    components = [json.loads(base64.urlsafe_b64decode(e + "=" * (-len(e) % 4))) if isinstance(e, str) else e
                  for e in header["etsiU"]]
    for component in components:
        if "rVals" in component:
            r_vals = component["rVals"]
            r_vals["crlVals"], r_vals["ocspVals"] = r_vals.get("ocspVals", []), r_vals.get("crlVals", [])
    header["etsiU"] = components  # plain JSON entries, which JAdES allows too
    document = JadesDocument.parse(json.dumps(outer).encode())
    certs = [c for c in jades_ltv.carried(document)[0] if c.subject == c.issuer]
    report = verify_credential(json.dumps(outer).encode(), trust_anchors=certs)
    assert not report.valid
    assert any(p.startswith("revocation value 1 of the OCSP responses in rVals cannot be read") for p in report.problems), \
        report.problems
