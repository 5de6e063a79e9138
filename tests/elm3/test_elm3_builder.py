"""The ELM v3 JSON-LD builder: every pilot course conforms to the EU's shapes and says what Annex I asks."""
from __future__ import annotations

import base64
import copy
import dataclasses
import json

import pytest

from bridge.edc.elm3_builder import Elm3MappingError, build_elm3, serialize_elm3

from .helpers import COURSES, ISSUED_AT, pilot_credential


def _claim(doc: dict) -> dict:
    return doc["credentialSubject"]["hasClaim"]


@pytest.mark.parametrize("course", COURSES, ids=[c.stem for c in COURSES])
def test_each_pilot_credential_conforms_to_the_edc_shapes(course, shapes):
    doc = build_elm3(pilot_credential(course, COURSES.index(course)))
    assert shapes.problems(doc) == []


@pytest.mark.parametrize("course", COURSES, ids=[c.stem for c in COURSES])
def test_the_annex_i_elements_are_where_the_profile_puts_them(course):
    credential = pilot_credential(course, COURSES.index(course), grade="9")
    spec = credential.spec
    doc = build_elm3(credential)
    assert doc["type"] == ["VerifiableCredential", "EuropeanDigitalCredential"]
    assert doc["id"] == credential.issuance.credential_id
    assert doc["issued"] == "2026-11-28T10:00:00Z" and doc["validFrom"] == "2026-11-28T08:00:00Z"
    assert doc["issuer"]["eIDASIdentifier"]["notation"] == spec.issuer.legal_identifier
    assert doc["issuer"]["legalName"] == dict(spec.issuer.name)

    claim = _claim(doc)
    assert claim["type"] == "LearningAchievement" and claim["title"] == dict(spec.title)
    q = claim["specifiedBy"]
    assert q["creditPoint"]["point"] == format(spec.ects, "g")
    assert q["creditPoint"]["framework"]["prefLabel"]["en"] == "European Credit Transfer System"
    assert q["eqfLevel"]["id"] == f"http://data.europa.eu/snb/eqf/{spec.eqf_level}"
    assert [lo["title"] for lo in q["learningOutcome"]] == [dict(lo.text) for lo in spec.learning_outcomes]
    assert q["volumeOfLearning"] == f"PT{spec.hours}H"
    assert q["mode"][0]["id"].startswith("http://data.europa.eu/snb/learning-assessment/")
    if spec.prerequisites:
        assert q["entryRequirement"]["noteLiteral"] == dict(spec.prerequisites)
    subjects = {n["subject"]["prefLabel"]["en"]: n["noteLiteral"] for n in q["additionalNote"]}
    assert subjects["Quality assurance"] == dict(spec.quality_assurance)

    assessment = claim["provenBy"]
    assert assessment["grade"]["noteLiteral"] == {spec.primary_language: "9"}
    if spec.supervision in ("none", "supervised-with-id-verification", "id-verification-only"):
        assert assessment["idVerification"]["id"].startswith("http://data.europa.eu/snb/supervision-verification/")

    body = claim["awardedBy"]["awardingBody"]
    assert body["legalName"] == dict(spec.awarding_body.name)
    country = body["location"]["address"]["countryCode"]["id"]
    assert country == f"http://publications.europa.eu/resource/authority/country/{spec.awarding_body.country}"

    learner = doc["credentialSubject"]
    assert learner["fullName"] == {spec.primary_language: credential.learner.full_name}
    assert learner["contactPoint"]["emailAddress"]["id"] == f"mailto:{credential.learner.email}"


def test_a_course_without_a_grade_says_passed_in_every_language():
    credential = pilot_credential(COURSES[0])
    grade = _claim(build_elm3(credential))["provenBy"]["grade"]["noteLiteral"]
    assert grade == {"en": "passed", "lt": "įskaityta"}


def test_each_language_gets_its_own_png_picture():
    doc = build_elm3(pilot_credential(COURSES[0]))
    displays = doc["displayParameter"]["individualDisplay"]
    assert [d["language"]["id"].rsplit("/", 1)[1] for d in displays] == ["ENG", "LIT"]
    for display in displays:
        png = base64.b64decode(display["displayDetail"][0]["image"]["content"])
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) < 30_000


def test_same_credential_gives_the_same_bytes_and_another_learner_other_bytes():
    one = serialize_elm3(build_elm3(pilot_credential(COURSES[1], 2)))
    again = serialize_elm3(build_elm3(pilot_credential(COURSES[1], 2)))
    other = serialize_elm3(build_elm3(pilot_credential(COURSES[1], 3)))
    assert one == again and one != other
    assert json.loads(one) == build_elm3(pilot_credential(COURSES[1], 2))
    assert b"\n" not in one and "į".encode() in one  # compact UTF-8, not \u escapes


def test_a_moment_without_time_zone_is_refused_by_name():
    credential = pilot_credential(COURSES[0])
    naive = dataclasses.replace(credential.issuance, issued_at=ISSUED_AT.replace(tzinfo=None))
    with pytest.raises(Elm3MappingError, match="issue date has no time zone"):
        build_elm3(dataclasses.replace(credential, issuance=naive))


def test_a_different_awarding_body_is_its_own_organisation(shapes):
    credential = pilot_credential(COURSES[0])
    other = dataclasses.replace(credential.spec.awarding_body, legal_identifier="LT-JAR-999", country="LVA")
    credential = dataclasses.replace(credential, spec=dataclasses.replace(credential.spec, awarding_body=other))
    doc = build_elm3(credential)
    assert doc["issuer"]["id"] != _claim(doc)["awardedBy"]["awardingBody"]["id"]
    assert shapes.problems(doc) == []


def _drop_everywhere(node, key: str) -> None:
    if isinstance(node, dict):
        node.pop(key, None)
        for value in node.values():
            _drop_everywhere(value, key)
    elif isinstance(node, list):
        for value in node:
            _drop_everywhere(value, key)


def test_the_shapes_catch_what_a_broken_builder_would_write(shapes):
    doc = build_elm3(pilot_credential(COURSES[0]))
    broken = copy.deepcopy(doc)
    _drop_everywhere(broken, "eIDASIdentifier")  # the issuer is also embedded as awarding body
    assert any("eidasLegalIdentifier" in p and "missing" in p for p in shapes.problems(broken))
    broken = copy.deepcopy(doc)
    del _claim(broken)["provenBy"]["grade"]
    assert any("elm:grade: is missing" in p for p in shapes.problems(broken))


def test_a_course_with_a_validity_period_gets_valid_until(shapes):
    course = next(c for c in COURSES if c.stem == "green310")
    credential = pilot_credential(course)
    doc = build_elm3(credential)
    assert credential.spec.valid_for and doc["validUntil"] > doc["issued"]
    assert shapes.problems(doc) == []


def test_supervision_without_a_code_is_said_in_words(shapes):
    course = next(c for c in COURSES if '"supervised-no-id-verification"' in c.read_text(encoding="utf-8"))
    assessment = _claim(build_elm3(pilot_credential(course)))["provenBy"]
    assert "idVerification" not in assessment
    [note] = assessment["additionalNote"]
    assert note["noteLiteral"]["en"] == "Supervised, without identity verification"


def test_an_esco_skill_is_linked_and_still_conforms(shapes):
    credential = pilot_credential(COURSES[0])
    skill = "http://data.europa.eu/esco/skill/ccdf3597-5c80-410f-896d-e1bdfa223de9"
    first = dataclasses.replace(credential.spec.learning_outcomes[0], esco_skill=skill)
    spec = dataclasses.replace(credential.spec, learning_outcomes=(first, *credential.spec.learning_outcomes[1:]))
    doc = build_elm3(dataclasses.replace(credential, spec=spec))
    assert _claim(doc)["specifiedBy"]["learningOutcome"][0]["relatedESCOSkill"][0]["id"] == skill
    assert shapes.problems(doc) == []
