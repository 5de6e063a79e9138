"""Open Badges 3.0 (bridge/edc/ob3.py): an OpenBadgeCredential valid against 1EdTech's JSON Schema
(../shared/reference/ob3, never copied here), secured as a VC-JWT on the HSM, checked independently with
jwcrypto, and refused when changed, expired, or sealed by a CA we do not trust.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import sys
from pathlib import Path

import jsonschema
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bridge.edc import jws, model, ob3
from hsm.signer import open_seal

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from elm3.helpers import COURSES, REFERENCE, pilot_credential  # noqa: E402

SCHEMA_FILE = REFERENCE / "ob3" / "ob_v3p0_achievementcredential_schema.json"


def sealed_now(course: Path, **kw) -> model.Credential:
    """A pilot credential issued now (the pilot helper's fixed date precedes the test tokens' certificates)."""
    fixed = pilot_credential(course, **kw)
    return model.Credential(fixed.spec, fixed.learner, model.Issuance.new(
        grade=fixed.issuance.grade, valid_for=fixed.spec.valid_for, credential_id=fixed.issuance.credential_id))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft201909Validator:
    if not SCHEMA_FILE.is_file():
        pytest.fail(f"1EdTech's Open Badges 3.0 schema is missing: {SCHEMA_FILE}")
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return jsonschema.Draft201909Validator(schema, format_checker=jsonschema.FormatChecker())


def schema_problems(validator, doc) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


@pytest.mark.parametrize("course", COURSES, ids=lambda p: p.stem)
def test_every_pilot_course_is_a_valid_open_badge(course, validator):
    credential = pilot_credential(course, grade="9")
    doc = ob3.build_ob3(credential)
    assert schema_problems(validator, doc) == []
    spec, lang = credential.spec, credential.spec.primary_language
    achievement = doc["credentialSubject"]["achievement"]
    assert doc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert doc["validFrom"] == credential.issuance.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert doc["issuer"]["name"] == spec.issuer.name.get_in(lang)
    assert {"type": "IdentifierEntry", "identifier": spec.issuer.legal_identifier,
            "identifierType": "ext:eIDASLegalIdentifier"} in doc["issuer"]["otherIdentifier"]
    assert achievement["creditsAvailable"] == spec.ects
    assert achievement["achievementType"] == "MicroCredential"
    assert achievement["description"] == (spec.description or spec.title).get_in(lang)
    for outcome in spec.learning_outcomes:
        assert outcome.text.get_in(lang) in achievement["criteria"]["narrative"]
    eqf = [a for a in achievement["alignment"] if a["targetFramework"] == "European Qualifications Framework"]
    assert eqf == [{"type": ["Alignment"], "targetName": f"EQF level {spec.eqf_level}",
                    "targetUrl": f"http://data.europa.eu/snb/eqf/{spec.eqf_level}",
                    "targetFramework": "European Qualifications Framework", "targetCode": str(spec.eqf_level),
                    "targetType": "ext:EQF"}]
    assert doc["credentialSubject"]["result"] == [{"type": ["Result"], "value": "9"}]
    email = [i for i in doc["credentialSubject"]["identifier"] if i["identityType"] == "emailAddress"][0]
    assert email["hashed"] is True and credential.learner.email not in json.dumps(doc)


def test_the_schema_check_is_a_real_one(validator):
    doc = ob3.build_ob3(pilot_credential(COURSES[0]))
    del doc["validFrom"]
    doc["credentialSubject"]["achievement"]["creditsAvailable"] = "four"
    problems = schema_problems(validator, doc)
    assert any("validFrom" in p for p in problems) and any("creditsAvailable" in p for p in problems)


@pytest.mark.parametrize("token_name, alg", [("rsa_token", "RS256"), ("ec_token", "ES256")])
def test_the_vc_jwt_is_sealed_on_the_token_and_checks_out_independently(token_name, alg, request, validator):
    from jwcrypto import jwk, jws as jose

    token = request.getfixturevalue(token_name)
    credential = sealed_now(COURSES[1])
    sealed = ob3.issue_ob3(credential, open_seal(token.config))
    header = jws.CompactJws.parse(sealed.decode()).header
    assert (header["alg"], header["typ"]) == (alg, "JWT")
    assert base64.b64decode(header["x5c"][0]) == token.seal_certificate.public_bytes(Encoding.DER)
    key = jwk.JWK.from_pem(token.seal_certificate.public_key().public_bytes(Encoding.PEM,
                                                                           PublicFormat.SubjectPublicKeyInfo))
    checked = jose.JWS()
    checked.deserialize(sealed.decode())
    checked.verify(key, alg=alg)  # jwcrypto raises unless the signature holds
    payload = json.loads(checked.payload)
    assert schema_problems(validator, payload) == []  # the JWT's payload is the credential itself
    assert payload["iss"] == payload["issuer"]["id"] and payload["jti"] == credential.issuance.credential_id
    assert payload["nbf"] == int(credential.issuance.issued_at.timestamp())
    report = ob3.verify_ob3(sealed, trust_anchors=[token.ca_cert])
    assert report.valid, report.problems
    assert (report.format, report.learner, report.credential_id, report.level) == (
        "ob3-vcjwt", "Jonas Petraitis", credential.issuance.credential_id, "B-B")


def test_a_holder_bound_badge_names_the_holder_as_subject(ec_token, validator):
    holder = {"kty": "EC", "crv": "P-256", "x": jws.b64url(b"\x01" * 32), "y": jws.b64url(b"\x02" * 32)}
    from cryptography.hazmat.primitives.asymmetric import ec

    real = jws.jwk_of(ec.generate_private_key(ec.SECP256R1()).public_key())
    with pytest.raises(jws.JwsError):
        ob3.did_jwk(holder)  # not a point on the curve: never bound into a credential
    sealed = ob3.issue_ob3(sealed_now(COURSES[1]), open_seal(ec_token.config), holder_jwk=real)
    doc = ob3.parse(sealed)[1]
    assert doc["credentialSubject"]["id"] == doc["sub"] == ob3.did_jwk(real)
    assert schema_problems(validator, doc) == []
    assert ob3.verify_ob3(sealed, trust_anchors=[ec_token.ca_cert]).valid


def test_changed_expired_foreign_and_contradicting_badges_are_refused(ec_token, rsa_token):
    seal = open_seal(ec_token.config)
    sealed = ob3.issue_ob3(sealed_now(COURSES[1]), seal)
    head, body, sig = sealed.decode().split(".")
    doc = json.loads(jws.b64url_decode(body, "payload"))
    doc["credentialSubject"]["achievement"]["creditsAvailable"] = 60.0
    forged = f"{head}.{jws.b64url(json.dumps(doc).encode())}.{sig}".encode()
    report = ob3.verify_ob3(forged, trust_anchors=[ec_token.ca_cert])
    assert not report.valid and not report.signature_intact
    assert not ob3.verify_ob3(sealed, trust_anchors=[rsa_token.ca_cert]).trusted
    old = sealed_now(COURSES[1])
    expired = model.Credential(old.spec, old.learner, model.Issuance.new(
        now=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc), valid_for="P1Y", credential_id=old.issuance.credential_id))
    report = ob3.verify_ob3(ob3.issue_ob3(expired, seal), trust_anchors=[ec_token.ca_cert])
    assert not report.valid and any("expired" in p for p in report.problems)
    two_stories = dict(ob3.build_ob3(old), iss="https://someone-else.example")
    lying = jws.sign_compact(jws.seal_header(seal, "JWT"), jws.canonical_json(two_stories), seal).encode()
    report = ob3.verify_ob3(lying, trust_anchors=[ec_token.ca_cert])
    assert not report.valid and any("'iss' is not the issuer's id" in p for p in report.problems)
    other_key = jws.seal_header(seal, "JWT", jwk=jws.jwk_of(rsa_token.seal_certificate.public_key()))
    swapped = jws.sign_compact(other_key, jws.canonical_json(ob3.build_ob3(old)), seal).encode()
    report = ob3.verify_ob3(swapped, trust_anchors=[ec_token.ca_cert])
    assert not report.valid and any("(jwk) is not the seal certificate's key" in p for p in report.problems)


@pytest.mark.parametrize("junk", [b"", b"eyJ.e30.AA", b"eyJhbGciOiJSUzI1NiJ9.e30.AA", b"\xff\xfe", b"a.b.c",
                                  b"eyJhbGciOiJub25lIn0.eyJ0eXBlIjpbIk9wZW5CYWRnZUNyZWRlbnRpYWwiXX0.AA"])
def test_garbage_gets_a_verdict_never_a_traceback(junk, ec_token):
    report = ob3.verify_ob3(junk, trust_anchors=[ec_token.ca_cert])
    assert not report.valid and report.problems
