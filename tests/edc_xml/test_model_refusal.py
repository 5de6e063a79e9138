"""A description missing an Annex I element is refused by the model, before any XML exists."""
from __future__ import annotations

import pytest

from bridge.edc import model

from .helpers import course_doc


@pytest.mark.parametrize(("remove", "pointer"), [
    (("eqf_level",), "/eqf_level"),
    (("learning_outcomes",), "/learning_outcomes"),
    (("workload", "ects"), "/workload/ects"),
    (("issuer", "country"), "/issuer/country"),
    (("assessment", "type"), "/assessment/type"),
])
def test_a_missing_element_is_named_by_its_json_pointer(remove, pointer):
    """load_course_spec raises, so no CourseSpec (and hence no Credential for the builder) ever exists."""
    doc = course_doc("green310")
    holder = doc
    for key in remove[:-1]:
        holder = holder[key]
    del holder[remove[-1]]
    with pytest.raises(model.ModelError) as refused:
        model.load_course_spec(doc)
    assert pointer in [p.pointer for p in refused.value.problems]
    assert pointer in str(refused.value)


def test_a_text_without_the_primary_language_is_refused():
    doc = course_doc("data101")
    del doc["learning_outcomes"][1]["text"]["en"]
    with pytest.raises(model.ModelError, match="/learning_outcomes/1/text: no text in the primary language 'en'"):
        model.load_course_spec(doc)
