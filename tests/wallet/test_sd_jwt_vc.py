"""The micro-credential as an SD-JWT VC (bridge/edc/sd_jwt.py, sd_jwt_vc.py): claims, seal on the token, and a
strict reader that refuses every altered, added or repeated disclosure.

PyPI's `sd-jwt` 0.10 (the IETF reference implementation) is the independent check of a good credential; it
is also shown here to drop an altered disclosure silently, which is why our reader must not.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import sys
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bridge.edc import jws, model, sd_jwt, sd_jwt_vc
from hsm.signer import open_seal

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from elm3.helpers import COURSES, pilot_credential  # noqa: E402

ISSUER = "https://edc.example.test"


@pytest.fixture(scope="module")
def ec_seal(ec_token):
    return open_seal(ec_token.config)


@pytest.fixture(scope="module")
def holder():
    return ec.generate_private_key(ec.SECP256R1())


def issue(seal, holder, credential=None, **kw) -> str:
    credential = credential or pilot_credential(COURSES[2], grade="9/10")
    return sd_jwt_vc.issue_sd_jwt_vc(credential, seal, issuer=ISSUER, holder_jwk=jws.jwk_of(holder.public_key()),
                                     **kw)


def payload_of(text: str) -> dict:
    return json.loads(jws.b64url_decode(text.split("~")[0].split(".")[1], "payload"))


def disclosures_of(text: str) -> list[list]:
    return [json.loads(base64.urlsafe_b64decode(d + "==")) for d in text.split("~")[1:-1]]


def encode(disclosure: list) -> str:
    return jws.b64url(json.dumps(disclosure).encode())


# --- what the credential says ----------------------------------------------------------------------


@pytest.mark.parametrize("course", COURSES, ids=lambda p: p.stem)
def test_the_annex_i_elements_are_claims_and_the_personal_ones_are_disclosures(course):
    credential = pilot_credential(course, grade="8")
    visible, personal = sd_jwt_vc.claims_of(credential)
    spec = credential.spec
    assert visible["achievement_title"] == spec.title.get_in(spec.primary_language)
    assert visible["level_of_learning_experience"] == spec.eqf_level
    assert visible["ects_credits"] == spec.ects
    assert visible["expected_study_time"].startswith(f"{spec.ects_text} ECTS")
    assert len(visible["learning_outcomes"]) == len(spec.learning_outcomes)
    assert visible["types_of_quality_assurance"] == [spec.quality_assurance.get_in(spec.primary_language)]
    assert len(visible["issuing_country"]) == 2 and visible["language_of_classes"] == spec.primary_language
    assert visible["form_of_participation"] and visible["type_of_assessment"]
    assert visible["credential_id"] == credential.issuance.credential_id
    assert set(personal) == {"family_name", "given_name", "learner_identification", "assessment_grade"}
    assert not set(personal) & set(visible)


def test_the_credential_is_sealed_on_the_token_with_x5c_and_bound_to_the_holder(ec_token, ec_seal, holder):
    text = issue(ec_seal, holder, status={"edc_status": {"uri": "https://edc.example.test/status/x"}})
    header = jws.CompactJws.parse(text.split("~")[0]).header
    assert (header["typ"], header["alg"]) == ("dc+sd-jwt", "ES256")
    assert [base64.b64decode(c) for c in header["x5c"]][0] == ec_token.seal_certificate.public_bytes(Encoding.DER)
    claims = payload_of(text)
    assert claims["vct"] == sd_jwt_vc.VCT and claims["iss"] == ISSUER
    assert claims["cnf"]["jwk"] == jws.jwk_of(holder.public_key())
    assert claims["status"] == {"edc_status": {"uri": "https://edc.example.test/status/x"}}
    assert claims["_sd_alg"] == "sha-256" and len(claims["_sd"]) == 4 + 2  # four personal claims, two decoys
    assert {d[1] for d in disclosures_of(text)} == {"family_name", "given_name", "learner_identification",
                                                     "assessment_grade"}
    report = sd_jwt_vc.verify_sd_jwt_vc(text, trust_anchors=[ec_token.ca_cert])
    assert report.valid, report.problems
    assert (report.learner, report.eqf_level, report.ects, report.format) == (
        "Jonas Petraitis", 5, 3.0, "sd-jwt-vc")


def test_rs256_on_the_rsa_token(rsa_token, holder):
    text = issue(open_seal(rsa_token.config), holder)
    assert jws.CompactJws.parse(text.split("~")[0]).header["alg"] == "RS256"
    assert sd_jwt_vc.verify_sd_jwt_vc(text, trust_anchors=[rsa_token.ca_cert]).valid


def test_the_reference_implementation_verifies_it(ec_token, ec_seal, holder):
    from jwcrypto.jwk import JWK
    from sd_jwt.verifier import SDJWTVerifier

    text = issue(ec_seal, holder)
    key = JWK.from_pem(ec_token.seal_certificate.public_key().public_bytes(Encoding.PEM,
                                                                          PublicFormat.SubjectPublicKeyInfo))
    claims = SDJWTVerifier(text, lambda issuer, header: key).get_verified_payload()
    assert claims["family_name"] == "Petraitis" and claims["assessment_grade"] == "9/10"
    assert claims["achievement_title"] == "Data Literacy for Everyone"


# --- what the reader refuses -----------------------------------------------------------------------


def test_an_altered_disclosure_is_refused_though_the_reference_implementation_drops_it(ec_token, ec_seal, holder):
    from jwcrypto.jwk import JWK
    from sd_jwt.verifier import SDJWTVerifier

    text = issue(ec_seal, holder)
    parts = text.split("~")
    changed = json.loads(base64.urlsafe_b64decode(parts[1] + "=="))
    changed[2] = "Mallory"
    parts[1] = encode(changed)
    altered = "~".join(parts)
    key = JWK.from_pem(ec_token.seal_certificate.public_key().public_bytes(Encoding.PEM,
                                                                          PublicFormat.SubjectPublicKeyInfo))
    silently = SDJWTVerifier(altered, lambda issuer, header: key).get_verified_payload()
    assert changed[1] not in silently and "Mallory" not in json.dumps(silently)  # the fact that makes ours needed
    report = sd_jwt_vc.verify_sd_jwt_vc(altered, trust_anchors=[ec_token.ca_cert])
    assert not report.valid
    assert report.problems == ["disclosure 1 is not part of the credential: it was altered or added after the "
                               "issuer sealed it"]


def test_an_added_or_repeated_disclosure_or_a_changed_payload_is_refused(ec_token, ec_seal, holder):
    text = issue(ec_seal, holder)
    head, *rest = text.split("~")
    added = "~".join([head, *rest[:-1], encode(["c2FsdHNhbHRzYWx0", "given_name", "Eve"]), ""])
    repeated = "~".join([head, rest[0], rest[0], *rest[1:]])
    h, p, s = head.split(".")
    claims = payload_of(text)
    claims["level_of_learning_experience"] = 8
    forged = "~".join([f"{h}.{jws.b64url(json.dumps(claims).encode())}.{s}", *rest])
    for bad, words in ((added, "altered or added"), (repeated, "presented twice"),
                       (forged, "changed after sealing")):
        report = sd_jwt_vc.verify_sd_jwt_vc(bad, trust_anchors=[ec_token.ca_cert])
        assert not report.valid and any(words in p for p in report.problems), (words, report.problems)


def test_a_disclosure_that_repeats_a_plain_claim_is_refused_and_never_issued(ec_seal, ec_token):
    with pytest.raises(sd_jwt.SdJwtError, match="both visible and disclosable"):
        sd_jwt.issue({"given_name": "Ona"}, {"given_name": "Eve"}, ec_seal, typ=sd_jwt_vc.TYP)
    shadow = sd_jwt.make_disclosure("given_name", "Eve")
    payload = {"vct": sd_jwt_vc.VCT, "given_name": "Ona", "_sd": [sd_jwt.digest(shadow)], "_sd_alg": "sha-256"}
    token = jws.sign_compact(jws.seal_header(ec_seal, sd_jwt_vc.TYP), jws.canonical_json(payload), ec_seal)
    report = sd_jwt_vc.verify_sd_jwt_vc(f"{token}~{shadow}~", trust_anchors=[ec_token.ca_cert])
    assert not report.valid and any("already states" in p for p in report.problems)


def test_another_ca_an_expiry_and_a_wrong_type_are_refused(ec_token, rsa_token, ec_seal, holder):
    assert not sd_jwt_vc.verify_sd_jwt_vc(issue(ec_seal, holder), trust_anchors=[rsa_token.ca_cert]).trusted
    old = pilot_credential(COURSES[2])
    expired = model.Credential(old.spec, old.learner, model.Issuance.new(
        now=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc), valid_for="P1Y", credential_id=old.issuance.credential_id))
    report = sd_jwt_vc.verify_sd_jwt_vc(issue(ec_seal, holder, expired), trust_anchors=[ec_token.ca_cert])
    assert not report.valid and any("expired on 2021-01-01" in p for p in report.problems)
    typed = sd_jwt.issue({"vct": "urn:other"}, {}, ec_seal, typ="JWT")
    report = sd_jwt_vc.verify_sd_jwt_vc(typed, trust_anchors=[ec_token.ca_cert])
    assert not report.valid and any("typ" in p for p in report.problems) and any("vct" in p for p in report.problems)


def _key_binding(holder, text: str, *, aud: str, nonce: str) -> str:
    digest = jws.b64url(hashlib.sha256(text.encode()).digest())
    head = jws.b64url(json.dumps({"typ": "kb+jwt", "alg": "ES256"}).encode())
    body = jws.b64url(json.dumps({"iat": int(time.time()), "aud": aud, "nonce": nonce, "sd_hash": digest}).encode())
    r, s = decode_dss_signature(holder.sign(f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256())))
    return f"{head}.{body}.{jws.b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def test_a_presentation_proves_the_holder_only_for_its_audience_and_nonce(ec_token, ec_seal, holder):
    text = issue(ec_seal, holder)
    presented = text + _key_binding(holder, text, aud="https://verifier.example", nonce="n-1")
    ok = sd_jwt_vc.verify_sd_jwt_vc(presented, trust_anchors=[ec_token.ca_cert], audience="https://verifier.example",
                                    nonce="n-1")
    assert ok.valid, ok.problems
    for aud, nonce, words in (("https://other.example", "n-1", "not for"), ("https://verifier.example", "n-2",
                                                                            "another nonce")):
        report = sd_jwt_vc.verify_sd_jwt_vc(presented, trust_anchors=[ec_token.ca_cert], audience=aud, nonce=nonce)
        assert not report.valid and any(words in p for p in report.problems)
    thief = ec.generate_private_key(ec.SECP256R1())
    stolen = text + _key_binding(thief, text, aud="https://verifier.example", nonce="n-1")
    report = sd_jwt_vc.verify_sd_jwt_vc(stolen, trust_anchors=[ec_token.ca_cert], audience="https://verifier.example",
                                        nonce="n-1")
    assert not report.valid and any("not signed by the holder" in p for p in report.problems)


@pytest.mark.parametrize("junk", ["", "~", "a.b.c~", "eyJ9.e30.AA~", "eyJhbGciOiJFUzI1NiJ9.e30.AA~%%~",
                                  "x" * 100, "eyJhbGciOiJFUzI1NiJ9.WzFd.AA~WyJhIl0~", 12, None, "~" * 500])
def test_garbage_gets_a_verdict_never_a_traceback(junk, ec_token):
    report = sd_jwt_vc.verify_sd_jwt_vc(junk, trust_anchors=[ec_token.ca_cert])
    assert not report.valid and report.problems
