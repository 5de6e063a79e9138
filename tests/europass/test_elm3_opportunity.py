"""Course descriptions exported as ELM v3 LearningOpportunity JSON-LD, checked by the EU's EDC shapes."""
from __future__ import annotations

import json

import pytest

from bridge.edc import exports, model
from bridge.edc.qdr_xml import CourseEntry

from .conftest import everything_doc, pilot_doc, pilot_entries


@pytest.mark.parametrize("entry", pilot_entries(), ids=lambda e: e.key)
def test_each_pilot_course_follows_the_edc_shapes(entry, checks, shapes):
    doc = json.loads(exports.get("elm3-jsonld").build([entry], checks))
    assert doc["type"] == "LearningOpportunity" and shapes.problems(doc) == []
    assert doc["learningAchievementSpecification"]["creditPoint"]["point"] == entry.spec.ects_text
    assert doc["providedBy"][0]["legalName"] == dict(entry.spec.issuer.name)


def test_all_courses_are_one_graph_whose_nodes_are_each_courses_own(checks, shapes):
    doc = json.loads(exports.get("elm3-jsonld").build(pilot_entries(), checks))
    assert shapes.problems(doc) == []
    graph = doc["@graph"]
    assert len(graph) == 5
    qualifications = {node["learningAchievementSpecification"]["id"] for node in graph}
    assert len(qualifications) == 5  # one id per course: in RDF, one id would merge them into one node


def test_every_catalogue_fact_is_written_and_conforms(checks, shapes):
    doc = json.loads(exports.get("elm3-jsonld").build([CourseEntry("demo/4", model.load_course_spec(everything_doc()))],
                                                     checks))
    assert shapes.problems(doc) == []
    assert doc["temporal"]["startDate"] == "2026-09-01T00:00:00Z" and doc["duration"] == "P112D"
    assert doc["priceDetail"][0]["amount"]["value"] == "450.5"
    assert doc["priceDetail"][0]["amount"]["unit"]["id"].endswith("/currency/EUR")
    assert doc["providedBy"][0]["legalName"]["en"] == "Energy Lab (pilot)"
    assert doc["learningAchievementSpecification"]["awardingOpportunity"][0]["awardingBody"][0]["legalName"]["en"] \
        .startswith("Nemunas")
    assert doc["id"] == "urn:edc-bridge:course:demo%2F4:learning-opportunity"  # as in the QDR export


def test_the_shapes_refuse_what_europass_would_and_the_export_says_so(checks, shapes):
    doc = json.loads(exports.get("elm3-jsonld").build(pilot_entries()[:1], checks))
    del doc["providedBy"]
    assert any("elm:providedBy: is missing" in p for p in shapes.problems(doc))
    incomplete = pilot_doc("ltlang01")
    del incomplete["homepage"]
    with pytest.raises(exports.ExportRefused) as refused:
        exports.get("elm3-jsonld").build([CourseEntry("demo/5", model.load_course_spec(incomplete))], checks)
    assert [p["pointer"] for p in refused.value.as_json()] == ["/homepage"]


def test_without_the_official_checks_the_export_says_what_was_not_checked():
    none = exports.ExportChecks()
    assert "EDC_QDR_SCHEMA_DIR" in exports.get("qdr-xml").skipped_check(none)
    assert "EDC_SHACL_DIR" in exports.get("elm3-jsonld").skipped_check(none)
    with pytest.raises(exports.UnknownExport, match="qdr-xml, elm3-jsonld"):
        exports.get("pdf")
