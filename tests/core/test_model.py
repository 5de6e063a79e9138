"""The course credential description: every Annex I element required, each refusal names its element."""
from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest

from bridge.cli import main as edc_bridge
from bridge.edc import model

REPO = Path(__file__).resolve().parents[2]
COURSES = sorted((REPO / "examples" / "pilot" / "courses").glob("*.json"))
LEARNERS = sorted((REPO / "examples" / "pilot" / "learners").glob("*.json"))


@pytest.fixture
def doc() -> dict:
    return json.loads((REPO / "examples" / "pilot" / "courses" / "data101.json").read_text())


def test_pilot_is_five_distinct_courses_in_en_and_lt():
    specs = [model.load_course_spec(json.loads(p.read_text())) for p in COURSES]
    assert len(specs) >= 5
    assert len({s.ects for s in specs}) >= 4
    assert len({s.eqf_level for s in specs}) >= 4
    assert {s.assessment_type for s in specs} >= {"written-examination", "oral-examination", "practical-assessment"}
    assert {s.participation_mode for s in specs} == {"online", "onsite", "blended"}
    for spec in specs:
        assert set(spec.title) >= {"en", "lt"}
        assert all(set(lo.text) >= {"en", "lt"} for lo in spec.learning_outcomes)
    learners = [model.load_learner(json.loads(p.read_text())) for p in LEARNERS]
    assert {lr.lang for lr in learners} == {"en", "lt"}


MANDATORY = {
    "title": "title of the micro-credential",
    "issuer": "identification",
    "awarding_body": "awarding body",
    "learning_outcomes": "learning outcomes",
    "workload": "ECTS",
    "eqf_level": "EQF level",
    "assessment": "type of assessment",
    "participation": "form of participation",
    "quality_assurance": "quality assurance",
}


@pytest.mark.parametrize("element", sorted(MANDATORY))
def test_each_missing_mandatory_element_is_named(doc, element):
    del doc[element]
    with pytest.raises(model.ModelError) as caught:
        model.load_course_spec(doc)
    problems = caught.value.problems
    assert [p.pointer for p in problems] == [f"/{element}"]
    assert MANDATORY[element] in problems[0].message


@pytest.mark.parametrize("mutate, pointer, words", [
    (lambda d: d["workload"].update(ects=0), "/workload/ects", "less than or equal to the minimum of 0"),
    (lambda d: d.update(eqf_level=9), "/eqf_level", "maximum of 8"),
    (lambda d: d["issuer"].update(country="Lithuania"), "/issuer/country", "does not match"),
    (lambda d: d["assessment"].update(type="vibes"), "/assessment/type", "is not one of"),
    (lambda d: d.update(learning_outcomes=[]), "/learning_outcomes", "should be non-empty"),
    (lambda d: d["learning_outcomes"][1]["text"].pop("en"), "/learning_outcomes/1/text", "primary language 'en'"),
    (lambda d: d["learning_outcomes"][0].update(text={"en": "   "}), "/learning_outcomes/0/text/en", "does not match"),
    (lambda d: d.update(colour="blue"), "", "unknown element"),
], ids=["ects-zero", "eqf-9", "country-name", "assessment-type", "no-outcomes", "missing-primary-language",
        "blank-text", "unknown-element"])
def test_malformed_elements_are_refused_with_pointer_and_reason(doc, mutate, pointer, words):
    mutate(doc)
    with pytest.raises(model.ModelError) as caught:
        model.load_course_spec(doc)
    found = {p.pointer: p.message for p in caught.value.problems}
    assert pointer in found, found
    assert words in found[pointer]


def test_every_problem_is_reported_at_once(doc):
    del doc["eqf_level"]
    doc["workload"]["ects"] = -1
    with pytest.raises(model.ModelError) as caught:
        model.load_course_spec(doc)
    assert {p.pointer for p in caught.value.problems} == {"/eqf_level", "/workload/ects"}


def test_optional_elements_reach_the_model():
    spec = model.load_course_spec(json.loads((REPO / "examples/pilot/courses/cyber201.json").read_text()))
    assert spec.prerequisites.get_in("lt").startswith("Tinklų")
    assert spec.supervision == "supervised-with-id-verification"
    assert spec.grading_scheme and spec.stackability == "integrated"
    assert spec.further_information and spec.qf_ehea_cycle == "first"


@pytest.mark.parametrize("bad, pointer", [
    ({"id": 1, "email": "not-an-email", "given_names": "A", "family_name": "B"}, "/email"),
    ({"id": 1, "email": "a@b.lt", "given_names": "", "family_name": "B"}, "/given_names"),
    ({"id": 1, "email": "a@b.lt", "given_names": "A"}, "/family_name"),
])
def test_learner_refusals_name_the_field(bad, pointer):
    with pytest.raises(model.ModelError) as caught:
        model.load_learner(bad)
    assert pointer in {p.pointer for p in caught.value.problems}


def test_valid_for_sets_expiry_with_month_end_clamping():
    start = dt.datetime(2024, 2, 29, tzinfo=dt.timezone.utc)
    assert model.add_iso_duration(start, "P1Y") == dt.datetime(2025, 2, 28, tzinfo=dt.timezone.utc)
    assert model.add_iso_duration(start, "P1M10D") == dt.datetime(2024, 4, 8, tzinfo=dt.timezone.utc)
    with pytest.raises(ValueError):
        model.add_iso_duration(start, "P")


def test_cli_refuses_incomplete_description_and_writes_nothing(doc, tmp_path, capsys):
    del doc["quality_assurance"]
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(doc))
    out = tmp_path / "cred.xml"
    code = edc_bridge(["issue", "--spec", str(spec), "--learner", str(LEARNERS[0]), "--out", str(out)])
    assert code == 2
    assert "/quality_assurance: missing mandatory element (type of quality assurance)" in capsys.readouterr().err
    assert not out.exists()


def test_course_may_choose_its_credential_format(doc, tmp_path, capsys):
    doc["format"] = "pdf"
    with pytest.raises(model.ModelError) as caught:
        model.load_course_spec(doc)
    assert [p.pointer for p in caught.value.problems] == ["/format"]
    doc["format"] = "elm3-jsonld"
    assert model.load_course_spec(doc).source["format"] == "elm3-jsonld"
