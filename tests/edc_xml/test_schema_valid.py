"""Every pilot course, for several pilot learners, builds a credential the official EDC schema accepts."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from lxml import etree

from bridge.edc.model import ModelError
from bridge.edc.xml_builder import XmlMappingError, build_edc_xml

from .helpers import COURSES, FIXED_ID, course_doc, credential, xpath

LEARNERS_TRIED = ("ona-jonaite", "liam-obrien", "maria-garcia")


@pytest.mark.parametrize("learner", LEARNERS_TRIED)
@pytest.mark.parametrize("course", sorted(COURSES))
def test_pilot_credential_follows_the_official_schema(course, learner, schema):
    data = build_edc_xml(credential(course, learner))
    assert schema.problems(data) == []
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = etree.fromstring(data)
    assert root.tag == "{http://data.europa.eu/snb}europassCredential"
    assert root.get("{http://data.europa.eu/europass/model/credentials/w3c#}id") == FIXED_ID
    assert xpath(root, "//s:proof") == [], "the builder must leave the proof to the sealer"


def test_the_schema_check_can_fail_and_says_where(schema):
    """A control: a credential without its mandatory title is refused, with the line and the element."""
    root = etree.fromstring(build_edc_xml(credential("green310")))
    root.remove(root.find("{http://data.europa.eu/snb}title"))
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    problems = schema.problems(data)
    assert problems, "a credential without a title must not pass"
    assert problems[0].startswith("line ")
    assert "Expected is ( title )" in problems[0]
    assert "{http://data.europa.eu/snb}" not in problems[0], "namespaces are shortened for people"


def test_a_proof_appended_last_is_where_the_schema_wants_it(schema):
    """The sealer appends <proof> as the last child; an empty one is allowed there by the schema."""
    root = etree.fromstring(build_edc_xml(credential("data101")))
    etree.SubElement(root, "{http://data.europa.eu/snb}proof")
    assert schema.problems(etree.tostring(root)) == []
    # ... and not before the references it must follow.
    proof = root[-1]
    root.insert(5, proof)
    assert schema.problems(etree.tostring(root)) != []


def _minimal_description() -> dict:
    """Only what the course description schema requires: every optional EDC element left out."""
    doc = course_doc("green310")
    for key in ("code", "description", "languages", "qf_ehea_cycle", "isced_f", "prerequisites", "grading",
                "supervision_and_identity_verification", "stackability", "valid_for", "homepage",
                "further_information"):
        doc.pop(key, None)
    for org in ("issuer", "awarding_body"):
        doc[org] = {k: doc[org][k] for k in ("name", "legal_identifier", "country")}
    doc["assessment"] = {"type": doc["assessment"]["type"]}
    doc["participation"] = {"mode": doc["participation"]["mode"]}
    doc["quality_assurance"] = {"type": doc["quality_assurance"]["type"]}
    doc["workload"] = {"ects": 2.5}
    doc["learning_outcomes"] = [{"text": lo["text"]} for lo in doc["learning_outcomes"]]
    return doc


def test_a_minimal_description_still_makes_a_valid_credential(schema):
    data = build_edc_xml(credential(_minimal_description()))
    assert schema.problems(data) == []
    root = etree.fromstring(data)
    assert xpath(root, "//s:hasECTSCreditPoints/text()") == ["2.5"]
    assert xpath(root, "//s:volumeOfLearning | //s:idVerificationMethod | //s:scoringSchemeReferences") == []


def test_esco_skills_are_linked_and_valid(schema):
    doc = course_doc("data101")
    skill = "http://data.europa.eu/esco/skill/5354a726-ee64-4f34-90f8-8436f9f374b8"
    doc["learning_outcomes"][0]["esco_skill"] = skill
    data = build_edc_xml(credential(doc))
    assert schema.problems(data) == []
    assert xpath(etree.fromstring(data), "//s:learningOutcome/s:relatedEscoSkill/@uri") == [skill]


def test_text_xml_cannot_hold_is_refused_by_element():
    """U+FFFF is no control character (the description schema lets it through) but XML cannot hold it."""
    doc = course_doc("data101")
    doc["title"]["lt"] = "Duomenys\uffff"
    with pytest.raises(XmlMappingError, match=r"title \(lt\)"):
        build_edc_xml(credential(doc))


def test_control_characters_are_refused_by_the_description_schema():
    doc = course_doc("data101")
    doc["title"]["lt"] = "Duomenys\x01"
    with pytest.raises(ModelError) as caught:
        credential(doc)
    assert any(p.pointer == "/title/lt" and "control characters" in p.message for p in caught.value.problems)


def test_concurrent_checks_keep_their_own_errors(schema):
    """One compiled schema shared by threads: each caller gets its own document's verdict."""
    good = build_edc_xml(credential("data101"))
    root = etree.fromstring(good)
    root.remove(root.find("{http://data.europa.eu/snb}title"))
    bad = etree.tostring(root)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda d: (d is good, schema.problems(d)), [good, bad] * 100))
    assert all((problems == []) == is_good for is_good, problems in results)
