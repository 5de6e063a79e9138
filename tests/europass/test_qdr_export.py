"""Course descriptions exported for Europass's course register: QDR learning-opportunity XML (loq.xsd)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

import pytest
from lxml import etree

from bridge.edc import exports, model
from bridge.edc.qdr_schema import STANDINS, QdrSchema
from bridge.edc.qdr_xml import CourseEntry, build_qdr, read_qdr

from .conftest import QDR_DIR, everything_doc, pilot_doc, pilot_entries

LOQ = "{http://data.europa.eu/snb/model/ap/loq-constraints/}"


def test_the_stand_ins_take_the_eus_own_sample_and_refuse_what_loq_xsd_refuses(qdr_schema):
    """The stand-ins are no stricter than the EU's files on its sample, and not toothless either."""
    sample = (QDR_DIR / "loq.xml").read_bytes()
    assert qdr_schema.problems(sample) == []
    assert len(qdr_schema.stand_ins) == len(STANDINS)  # the reference folder holds loq.xsd alone
    broken = sample.replace(b'<EQFLevel uri="http://data.europa.eu/snb/eqf/2"/>', b'<EQFLevel uri="http://data.europa.eu/snb/eqf/9"/>')
    assert broken != sample
    assert any("EQFLevel" in p for p in qdr_schema.problems(broken)), qdr_schema.problems(broken)
    tree = etree.fromstring(sample)
    lo = tree.find(f"{LOQ}learningOpportunityReferences/{LOQ}learningOpportunity")
    for title in lo.findall(f"{LOQ}title"):
        lo.remove(title)
    assert any("title" in p for p in qdr_schema.problems(etree.tostring(tree)))


@pytest.mark.parametrize("entry", pilot_entries(), ids=lambda e: e.key)
def test_each_pilot_course_exports_valid_against_loq_xsd(entry, checks, qdr_schema):
    document = exports.get("qdr-xml").build([entry], checks)
    assert qdr_schema.problems(document) == []
    root = etree.fromstring(document)
    lo = root.find(f"{LOQ}learningOpportunityReferences/{LOQ}learningOpportunity")
    assert [t.text for t in lo.findall(f"{LOQ}title")] == [entry.spec.title["en"], entry.spec.title["lt"]]
    assert root.find(f".//{LOQ}creditPoint/{LOQ}point").text == entry.spec.ects_text


def test_all_pilot_courses_export_as_one_valid_file_sharing_their_organisation(checks, qdr_schema):
    document = exports.get("qdr-xml").build(pilot_entries(), checks)
    assert qdr_schema.problems(document) == []
    root = etree.fromstring(document)
    assert len(root.findall(f"{LOQ}learningOpportunityReferences/{LOQ}learningOpportunity")) == 5
    assert len(root.findall(f"{LOQ}agentReferences/{LOQ}organisation")) == 1  # the one university, once


def test_round_trip_keeps_every_element_of_every_pilot_course():
    originals = {f"demo/{name}": pilot_doc(name) for name in ("aieth800", "cyber201", "data101", "green310", "ltlang01")}
    back = dict(read_qdr(build_qdr(pilot_entries())))
    assert back == originals


def test_round_trip_keeps_every_optional_element_too(checks, qdr_schema):
    doc = everything_doc()
    modified = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    document = exports.get("qdr-xml").build([CourseEntry("demo/4", model.load_course_spec(doc), modified)], checks)
    assert qdr_schema.problems(document) == []
    [(key, back)] = read_qdr(document)
    expected = dict(doc)
    del expected["format"]  # which format this sidecar seals in: a setting, not a fact of the course
    assert key == "demo/4" and back == expected
    assert model.load_course_spec(back) == model.load_course_spec(doc)


def test_an_incomplete_description_is_refused_naming_the_missing_elements(checks):
    doc = pilot_doc("data101")
    del doc["homepage"], doc["isced_f"]
    with pytest.raises(exports.ExportRefused) as refused:
        exports.get("qdr-xml").build([CourseEntry("demo/1", model.load_course_spec(doc))] + pilot_entries()[:1], checks)
    problems = refused.value.as_json()
    assert [(p["course"], p["pointer"]) for p in problems] == [("demo/1", "/homepage"), ("demo/1", "/isced_f")]
    assert "learningOpportunity/homepage" in problems[0]["message"]
    assert "ISCEDFCode" in problems[1]["message"]


def test_what_the_schema_refuses_is_refused_and_never_handed_over(checks, monkeypatch):
    """A mapping bug (here: a duration XML Schema does not know) stops the export with loq.xsd's words."""
    spec = model.load_course_spec(everything_doc())
    broken = dataclasses.replace(spec, opportunity=dataclasses.replace(spec.opportunity, duration="P6W"))
    with pytest.raises(exports.ExportRefused) as refused:
        exports.get("qdr-xml").build([CourseEntry("demo/4", broken)], checks)
    assert "loq.xsd" in str(refused.value) and "duration" in str(refused.value)


def test_europass_fields_are_validated_in_the_description():
    doc = everything_doc()
    doc["learning_opportunity"].update(start_date="2026-12-01", end_date="2026-09-01")
    assert [str(p) for p in model.validate_course_spec(doc)] == ["/learning_opportunity/end_date: is before the start date"]
    doc["learning_opportunity"].update(start_date="2026-02-30")
    assert "not a day of the calendar" in str(model.validate_course_spec(doc)[0])
    doc = everything_doc()
    doc["learning_opportunity"]["price"] = {"amount": -1, "currency": "euro"}
    assert {p.pointer for p in model.validate_course_spec(doc)} == {"/learning_opportunity/price/amount",
                                                                   "/learning_opportunity/price/currency"}
    doc = everything_doc()
    doc["learning_opportunity"]["duration"] = "P6W"  # ISO 8601 has weeks; XML Schema, and so Europass, does not
    assert [p.pointer for p in model.validate_course_spec(doc)] == ["/learning_opportunity/duration"]


def test_read_back_refuses_what_is_not_a_qdr_document():
    from bridge.edc.qdr_xml import QdrError

    with pytest.raises(QdrError):
        read_qdr(b"<europassCredential xmlns='http://data.europa.eu/snb'/>")
    with pytest.raises(QdrError):
        read_qdr(b"<!DOCTYPE x [<!ENTITY a 'b'>]><Courses/>")


@pytest.mark.skipif(not os.environ.get("EDC_TEST_QDR_FULL_DIR"),
                    reason="EDC_TEST_QDR_FULL_DIR (the EU's complete xsd/loq folder, cv/ and external/ included) not set")
def test_exports_are_valid_against_the_eus_complete_schema_set():
    """Run by hand against the European Learning Model repository's xsd/loq folder (not shipped)."""
    full = QdrSchema(Path(os.environ["EDC_TEST_QDR_FULL_DIR"]))
    assert full.stand_ins == ()
    assert full.problems(build_qdr(pilot_entries())) == []
    assert full.problems(build_qdr([CourseEntry("demo/4", model.load_course_spec(everything_doc()))])) == []
