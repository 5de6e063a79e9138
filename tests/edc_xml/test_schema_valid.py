"""Every pilot course, for several pilot learners, builds a credential the official EDC schema accepts."""
from __future__ import annotations

import pytest
from lxml import etree

from bridge.edc.xml_builder import build_edc_xml

from .helpers import COURSES, FIXED_ID, credential, xpath

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
