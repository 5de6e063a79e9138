"""JAdES seals made on SoftHSM, checked by jwcrypto (independent of our code) and by our verifier.

Acceptance of issue 7 (ELM v3 part): for every pilot course an ELM v3 credential that conforms to
the EU's shapes, sealed on a real PKCS#11 token (RSA and P-256), whose JWS verifies with a plain JOSE
library and with our verifier, and where one changed character is caught by both. And the EU's own
sealed sample: intact, not trusted here, its certificate expired — all said in the report.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from asn1crypto import cms as asn1_cms
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from jwcrypto import jwk, jws
from jwcrypto.common import JWException
from jwcrypto.jws import JWSEHeaderParameter

from bridge.edc.elm3_builder import build_elm3, serialize_elm3
from bridge.edc.jades import JadesDocument, b64url, level_of, seal_jades, signing_input, verify_jades
from hsm.signer import open_seal

from .helpers import COURSES, EU_SIGNED, SoftSeal, pilot_credential

# jwcrypto refuses critical headers it has not been told about; these are JAdES's, which it need not check.
JADES_HEADERS = {
    "sigT": JWSEHeaderParameter("JAdES claimed signing time", True, True, None),
    "adoTst": JWSEHeaderParameter("JAdES content time-stamp", True, True, None),
    "etsiU": JWSEHeaderParameter("JAdES unsigned properties", False, True, None),
}


def jose_verify(sealed: bytes) -> bytes:
    """A plain JOSE check with jwcrypto, keyed by the certificate in x5c; returns the verified payload."""
    outer = json.loads(sealed)
    header = json.loads(base64.urlsafe_b64decode(outer["signatures"][0]["protected"] + "=="))
    cert = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    token = jws.JWS(header_registry=JADES_HEADERS)
    token.deserialize(sealed.decode("utf-8"))
    token.verify(jwk.JWK.from_pyca(cert.public_key()))
    payload = token.payload  # jwcrypto hands an unencoded (b64:false) payload back as text
    return payload.encode("utf-8") if isinstance(payload, str) else payload


def one_character_changed(sealed: bytes, needle: str) -> bytes:
    """The sealed file with one (ASCII) character of `needle`, found inside the payload, changed."""
    at = sealed.index(needle.encode("utf-8"))
    while not sealed[at:at + 1].isalpha():  # skip the bytes of a letter like Ž: the file stays UTF-8
        at += 1
    replacement = b"X" if sealed[at:at + 1] != b"X" else b"Y"
    return sealed[:at] + replacement + sealed[at + 1:]


@pytest.fixture(scope="module")
def seals(rsa_token, ec_token):
    return {"rsa": (open_seal(rsa_token.config), rsa_token), "ec": (open_seal(ec_token.config), ec_token)}


@pytest.mark.parametrize("kind", ["rsa", "ec"])
@pytest.mark.parametrize("course", COURSES, ids=[c.stem for c in COURSES])
def test_pilot_credential_sealed_on_softhsm_verifies_and_one_changed_character_is_caught(course, kind, seals, shapes):
    seal, token = seals[kind]
    credential = pilot_credential(course, COURSES.index(course))
    doc = build_elm3(credential)
    assert shapes.problems(doc) == []
    payload = serialize_elm3(doc)
    sealed = seal_jades(payload, seal)

    assert jose_verify(sealed) == payload
    report = verify_jades(sealed, trust_anchors=[token.ca_cert], shapes=shapes)
    assert report.problems == []
    assert report.valid and report.signature_intact and report.trusted and report.schema_valid
    assert (report.format, report.level) == ("elm3-jsonld", "B-B")
    assert report.learner == credential.learner.full_name
    assert report.title == credential.spec.title["en"]
    assert report.issuer == credential.spec.issuer.name["en"]
    assert (report.ects, report.eqf_level) == (credential.spec.ects, credential.spec.eqf_level)
    assert report.credential_id == credential.issuance.credential_id

    tampered = one_character_changed(sealed, credential.learner.family_name)
    with pytest.raises(JWException):
        jose_verify(tampered)
    bad = verify_jades(tampered, trust_anchors=[token.ca_cert], shapes=None)
    assert not bad.signature_intact and not bad.valid
    assert "changed after sealing" in bad.problems[0]


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_the_protected_header_is_the_one_the_eu_sample_has(kind, seals):
    seal, _ = seals[kind]
    moment = dt.datetime(2026, 11, 28, 12, 30, 5, tzinfo=dt.timezone.utc)
    sealed = seal_jades(b'{"id":"urn:credential:x"}', seal, signing_time=moment)
    document = JadesDocument.parse(sealed)
    header = document.protected
    leaf = seal.certificate.public_bytes(serialization.Encoding.DER)
    assert header["alg"] == {"rsa": "RS256", "ec": "ES256"}[kind]
    assert header["b64"] is False and header["crit"] == ["b64", "sigT"]
    assert header["sigT"] == "2026-11-28T12:30:05Z"
    assert (header["typ"], header["cty"]) == ("jose+json", "octet-stream")
    assert base64.b64decode(header["x5c"][0]) == leaf
    assert header["x5t#S256"] == b64url(hashlib.sha256(leaf).digest())
    kid = asn1_cms.IssuerSerial.load(base64.b64decode(header["kid"]))
    assert kid["serial"].native == seal.certificate.serial_number
    assert json.loads(sealed)["payload"] == '{"id":"urn:credential:x"}'  # carried unencoded, as b64:false says
    if kind == "ec":
        assert len(document.signature) == 64  # raw r||s, not DER


def test_a_changed_protected_header_breaks_the_seal(seals):
    seal, token = seals["rsa"]
    document = JadesDocument.parse(seal_jades(b'{"a":1}', seal))
    header = document.protected
    header["sigT"] = "2020-01-01T00:00:00Z"
    document.protected_b64 = b64url(json.dumps(header).encode())
    report = verify_jades(document.render(), trust_anchors=[token.ca_cert], shapes=None)
    assert not report.signature_intact and "changed after sealing" in report.problems[0]


def test_a_swapped_certificate_is_caught_by_its_digest(seals):
    seal, token = seals["rsa"]
    document = JadesDocument.parse(seal_jades(b'{"a":1}', seal))
    header = document.protected
    header["x5c"] = [base64.b64encode(token.ca_cert.public_bytes(serialization.Encoding.DER)).decode()]
    document.protected_b64 = b64url(json.dumps(header).encode())
    report = verify_jades(document.render(), trust_anchors=[token.ca_cert], shapes=None)
    assert not report.signature_intact and not report.valid
    assert "not the one the seal was made for" in report.problems[0]


def test_a_seal_from_another_ca_is_intact_but_not_trusted(seals, rsa_token, ec_token):
    seal, _ = seals["ec"]
    report = verify_jades(seal_jades(b'{"a":1}', seal), trust_anchors=[rsa_token.ca_cert], shapes=None)
    assert report.signature_intact and not report.trusted and not report.valid
    assert any("not issued by any of the trusted certificate authorities" in p for p in report.problems)


def test_unsigned_properties_set_the_level_and_survive_a_round_trip(seals):
    seal, _ = seals["rsa"]
    document = JadesDocument.parse(seal_jades(b'{"a":1}', seal))
    assert level_of(document)[0] == "B-B"
    document.add_unsigned({"sigTst": {"tstTokens": [{"val": "MAA="}]}})
    assert level_of(document)[0] == "B-T"
    document.add_unsigned({"xVals": []})
    document.add_unsigned({"rVals": {}})
    assert level_of(document)[0] == "B-LT"
    assert JadesDocument.parse(document.render()).render() == document.render()
    # the unprotected header is outside the signature: adding to it leaves the seal intact
    assert jose_verify(document.render()) == b'{"a":1}'


# --- hand-made seals: what our sealer never writes, but a file from elsewhere might ---------------


def _hand_made(header_changes: dict, drop: tuple[str, ...] = ()) -> bytes:
    """A seal signed properly over a protected header we changed (so only the header's content is odd)."""
    soft = SoftSeal()
    document = JadesDocument.parse(seal_jades(b'{"a":1}', soft))
    header = {k: v for k, v in {**document.protected, **header_changes}.items() if k not in drop}
    document.protected_b64 = b64url(json.dumps(header).encode())
    from bridge.edc.jades import _jws_signature

    _, document.signature = _jws_signature(soft, signing_input(document.protected_b64, document.payload))
    return document.render()


def test_a_critical_parameter_we_do_not_understand_is_refused():
    report = verify_jades(_hand_made({"crit": ["b64", "sigT", "sigD"], "sigD": {}}), trust_anchors=[])
    assert not report.signature_intact
    assert report.problems[0] == "the seal depends on 'sigD', which this verifier does not understand"


def test_an_unencoded_payload_must_be_declared_critical():
    report = verify_jades(_hand_made({"crit": ["sigT"]}), trust_anchors=[])
    assert not report.signature_intact and "'b64' is not declared critical" in report.problems[0]


def test_a_missing_certificate_digest_is_refused():
    assert verify_jades(_hand_made({}), trust_anchors=[]).signature_intact  # the hand-made path itself is sound
    report = verify_jades(_hand_made({}, drop=("x5t#S256",)), trust_anchors=[])
    assert not report.signature_intact and "x5t#S256" in report.problems[0]


def test_files_that_are_not_sealed_credentials_get_a_plain_answer():
    unsealed = verify_jades(serialize_elm3(build_elm3(pilot_credential(COURSES[0]))), trust_anchors=[])
    assert unsealed.format == "elm3-jsonld" and not unsealed.valid
    assert "an unsealed JSON-LD credential proves nothing" in unsealed.problems[0]
    assert verify_jades(b"{not json", trust_anchors=[]).problems[0].startswith("the file is not JSON")


# --- the EU's own sealed sample -------------------------------------------------------------------


def test_the_eu_sample_is_intact_untrusted_and_its_certificate_expired(rsa_token, shapes):
    data = EU_SIGNED.read_bytes()
    assert jose_verify(data)  # jwcrypto agrees the signature holds
    report = verify_jades(data, trust_anchors=[rsa_token.ca_cert], shapes=shapes)
    assert report.signature_intact and not report.trusted and not report.valid
    assert report.schema_valid is True
    assert (
        "the seal certificate was not issued by any of the trusted certificate authorities (it was issued by "
        "CN=ANF AC Qualified Certificates for eSeal,OU=Certificados Cualificados de Sello Electronico,"
        "2.5.4.97=VATES-G63287510,O=ANF Autoridad de Certificacion,C=ES)"
    ) in report.problems
    assert ("the seal certificate expired on 2025-05-10, and no verified time-stamp proves the seal was made "
            "before then") in report.problems
    # its time-stamps come from a TSA we do not trust either: reported, and nothing else is wrong
    assert all(p.startswith(("the seal certificate", "time-stamp:")) for p in report.problems)
    assert report.sealed_at == "2023-09-27T11:54:17Z" and report.learner == "Ana Andromeda"
    assert report.level == "B-LTA"  # sigTst, xVals, rVals and arcTst; its archive time-stamp is checked too


def test_the_eu_sample_with_one_changed_character_is_refused(rsa_token):
    tampered = one_character_changed(EU_SIGNED.read_bytes(), "Ana Andromeda")
    with pytest.raises(JWException):
        jose_verify(tampered)
    report = verify_jades(tampered, trust_anchors=[rsa_token.ca_cert], shapes=None)
    assert not report.signature_intact and "changed after sealing" in report.problems[0]


def test_a_deeply_nested_file_is_refused_in_plain_words():
    report = verify_jades(b"[" * 100_000, trust_anchors=[])
    assert report.problems == ["the file is nested too deeply to be a credential"] and not report.valid


def test_the_format_dispatch_sends_the_eu_sample_here(rsa_token):
    from bridge.edc.verifier import verify_credential

    report = verify_credential(EU_SIGNED.read_bytes(), trust_anchors=[rsa_token.ca_cert])
    assert report.format == "elm3-jsonld" and report.signature_intact and not report.trusted


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["payload", "signatures", "protected", "header", "signature", "etsiU", "x5c", "alg"]),
        inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(data=st.one_of(st.binary(max_size=200), _json.map(lambda v: json.dumps(v).encode())))
def test_whatever_the_file_holds_the_answer_is_a_report_not_a_crash(data):
    report = verify_jades(data, trust_anchors=[])
    assert report.format == "elm3-jsonld" and not report.valid and report.problems



@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(["alg", "b64", "crit", "x5c", "x5t#S256", "sigT", "kid", "typ"]), value=_json)
def test_any_odd_protected_header_value_gives_a_report_not_a_crash(name, value):
    """Properly signed over a header holding something odd: parsing after the signature must hold up too."""
    report = verify_jades(_hand_made({name: value}), trust_anchors=[])
    assert report.format == "elm3-jsonld"
    if name not in ("kid", "typ"):  # those two are informational; any value is tolerated
        assert report.problems
