"""Interoperability: the signature time-stamps in the EU's own signed samples (made by DSS with real
TSAs) check out with our verifier, so what we time-stamp is what DSS time-stamps.
"""
from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

from bridge.edc import ltv, timestamps, xades
from bridge.edc.jades import JadesDocument
from bridge.edc.schema_check import safe_parse

SHARED = Path(__file__).resolve().parents[3] / "shared" / "reference" / "edc"
UTC = dt.timezone.utc


def test_jades_sample_sig_tst_verifies_with_its_own_root_and_revocation_data():
    document = JadesDocument.parse((SHARED / "v3_jsonld" / "Sample-MC-Annex1-signed.jsonld").read_bytes())
    [token] = ltv._jades_tokens(document)
    certs, revocation = ltv._jades_carried(document)
    roots = [c for c in certs if c.subject == c.issuer]
    result = timestamps.verify_timestamp(token, ltv.jades_timestamped_octets(document), roots, extra_certs=certs,
                                         crls=revocation.crls, ocsps=revocation.ocsps)
    assert result.ok, (result.problems, result.untrusted)
    assert result.time == dt.datetime(2023, 9, 27, 11, 54, 20, tzinfo=UTC)
    # One changed bit of the signature value and the imprint no longer matches.
    document.signature = bytes([document.signature[0] ^ 1]) + document.signature[1:]
    broken = timestamps.verify_timestamp(token, ltv.jades_timestamped_octets(document), roots, extra_certs=certs)
    assert any("message imprint does not match" in p for p in broken.problems)


def test_xades_sample_signature_time_stamp_covers_the_exclusive_c14n_signature_value():
    """The sample was re-indented after signing (its own digests no longer match), which also put
    whitespace into ds:SignatureValue; with that removed, DSS's imprint is ours exactly."""
    root = safe_parse((SHARED / "v1_signed_samples" / "credential-generic-profile-xsd-signed.xml").read_bytes()).getroot()
    signature = next(root.iter(f"{{{xades.DS_NS}}}Signature"))
    value = signature.find(f"{{{xades.DS_NS}}}SignatureValue")
    node = signature.find(f".//{{{xades.XADES_NS}}}SignatureTimeStamp/{{{xades.XADES_NS}}}EncapsulatedTimeStamp")
    token = base64.b64decode("".join(node.text.split()))
    certs = xades._certificates(signature)
    as_published = timestamps.verify_timestamp(token, ltv.timestamped_octets(signature), [], extra_certs=certs)
    assert any("message imprint does not match" in p for p in as_published.problems)
    value.text = "".join(value.text.split())
    result = timestamps.verify_timestamp(token, ltv.timestamped_octets(signature), [], extra_certs=certs)
    assert result.problems == []  # imprint, CMS signature, ESS certificate id: all as DSS made them
    assert result.gen_time == dt.datetime(2020, 11, 12, 9, 53, 37, tzinfo=UTC)
    assert "ZetesConfidens" in result.tsa_cert.subject.rfc4514_string()
