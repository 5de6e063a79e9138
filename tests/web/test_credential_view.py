"""One wording: the view read back from the sealed XML equals the view built from the model."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from bridge.edc import model
from bridge.edc.issuer import issue_edc_xml
from bridge.presentation.credential_view import view_from_credential, view_from_xml
from hsm.signer import open_seal

PILOT = Path(__file__).resolve().parents[2] / "examples" / "pilot"
COURSES = sorted((PILOT / "courses").glob("*.json"))
LEARNERS = sorted((PILOT / "learners").glob("*.json"))


@pytest.fixture(scope="module")
def seal(ec_token):
    return open_seal(ec_token.config)


@pytest.mark.parametrize("course", COURSES, ids=[c.stem for c in COURSES])
@pytest.mark.parametrize("lang", ["en", "lt"])
def test_sealed_xml_reads_the_same_as_the_model(course, lang, seal):
    spec = model.load_course_spec(json.loads(course.read_text()))
    learner = model.load_learner(json.loads(LEARNERS[COURSES.index(course)].read_text()))
    credential = model.Credential(spec, learner, model.Issuance.new(valid_for=spec.valid_for, grade="9"))
    from_model = view_from_credential(credential, lang)
    from_xml = view_from_xml(issue_edc_xml(credential, seal), lang)
    differences = {f.name: (getattr(from_xml, f.name), getattr(from_model, f.name))
                   for f in dataclasses.fields(from_model) if getattr(from_xml, f.name) != getattr(from_model, f.name)}
    assert differences == {}
    assert from_xml.title and from_xml.learner and from_xml.issuer and from_xml.learning_outcomes
    assert from_xml.ects and from_xml.eqf_level and from_xml.assessment and from_xml.participation
    assert from_xml.quality_assurance
