"""issue_elm3: the EDC shapes are checked before the token is asked to seal, when they are configured."""
from __future__ import annotations

import datetime as dt

import pytest

from bridge.edc import elm3_issuer
from bridge.edc.elm3_builder import build_elm3
from bridge.edc.jades import verify_jades
from bridge.edc.shacl_check import ShapesViolation
from hsm.signer import open_seal

from .helpers import COURSES, SHACL_DIR, SoftSeal, pilot_credential

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def test_issued_on_softhsm_with_the_shapes_from_the_environment(ec_token, monkeypatch, shapes):
    monkeypatch.setenv("EDC_SHACL_DIR", str(SHACL_DIR))
    sealed = elm3_issuer.issue_elm3(pilot_credential(COURSES[3], 1), open_seal(ec_token.config), signing_time=NOW)
    report = verify_jades(sealed, trust_anchors=[ec_token.ca_cert], shapes=shapes)
    assert report.valid, report.problems
    assert report.sealed_at == NOW.isoformat().replace("+00:00", "Z")


def _without_grade(credential):
    doc = build_elm3(credential)
    del doc["credentialSubject"]["hasClaim"]["provenBy"]["grade"]
    return doc


def test_a_credential_that_breaks_the_shapes_never_reaches_the_key(monkeypatch):
    monkeypatch.setenv("EDC_SHACL_DIR", str(SHACL_DIR))
    monkeypatch.setattr(elm3_issuer, "build_elm3", _without_grade)  # a builder bug, simulated
    seal = SoftSeal()
    with pytest.raises(ShapesViolation) as refused:
        elm3_issuer.issue_elm3(pilot_credential(COURSES[0]), seal, signing_time=NOW)
    assert refused.value.problems == [
        "urn:epass:learningAssessment:1, elm:grade: is missing (at least 1 required) — "
        "A resulting grade of the assessment."
    ]
    assert seal.signed == 0


def test_without_configured_shapes_there_is_no_check(monkeypatch):
    monkeypatch.delenv("EDC_SHACL_DIR", raising=False)
    monkeypatch.setattr(elm3_issuer, "build_elm3", _without_grade)
    seal = SoftSeal()
    assert elm3_issuer.issue_elm3(pilot_credential(COURSES[0]), seal, signing_time=NOW)
    assert seal.signed == 1
