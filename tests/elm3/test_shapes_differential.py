"""The fast shapes check (bridge/edc/shacl_fast.py) gives pyshacl's verdict on the EU's shapes.

On every pilot course, the EU's own Annex I sample and generated variants of them (tests/elm3/variants.py:
missing, extra, repeated, misspelt, wrongly typed and wrongly nested properties), the fast verdict equals
pyshacl's on EDC-generic-no-cv.ttl (and EDC-generic-full.ttl, which the folder also holds). `make test` runs
a sample (EDC_SHAPES_VARIANTS, default 120); the long run is `bench/shapes_differential.py` (1,200).
"""
from __future__ import annotations

import os

import pytest

from bridge.edc.elm3_builder import build_elm3
from bridge.edc.shacl_check import ElmShapes
from bridge.edc.shacl_fast import CompiledShapes, FastJsonLd, NotHandled

from .helpers import COURSES, SHACL_DIR, pilot_credential
from .variants import compare, variants

SAMPLE = int(os.environ.get("EDC_SHAPES_VARIANTS", "120"))


@pytest.fixture(scope="module")
def no_cv() -> ElmShapes:
    """Only EDC-generic-no-cv.ttl, the file the equivalence is claimed for."""
    full = ElmShapes.from_env({"EDC_SHACL_DIR": str(SHACL_DIR)})
    return ElmShapes(full.shapes_files[:1], full.context_files)


def test_the_fast_verdict_is_pyshacls_on_real_and_generated_credentials(no_cv, shapes):
    # no-cv alone (the claim), then a third as many with the controlled-vocabulary shapes too
    for checked, count, seed in ((no_cv, SAMPLE, 12), (shapes, SAMPLE // 3, 13)):
        result = compare(checked, variants(count, seed))
        assert result["disagree"] == [], result["disagree"][:10]
        assert result["total"] == count + 11
        # the comparison means something: most variants are decided fast, and both verdicts occur
        assert result["fast_decided"] >= 0.7 * result["total"], result
        assert 0.15 * result["total"] < result["conforming"] < 0.85 * result["total"], result


def test_what_the_fast_check_does_not_handle_goes_to_pyshacl(shapes):
    doc = build_elm3(pilot_credential(COURSES[0]))
    doc["credentialSubject"]["hasClaim"]["@id"] = "urn:x"  # a keyword in the data
    assert shapes.fast_verdict(doc) is None
    assert shapes.problems(doc)  # decided (in words) by the full check
    doc = build_elm3(pilot_credential(COURSES[0]))
    doc["@context"] = doc["@context"] + [{"x": "urn:x"}]
    assert shapes.fast_verdict(doc) is None


def test_shapes_using_a_component_it_does_not_evaluate_are_not_compiled(shapes):
    import rdflib
    from rdflib.namespace import SH

    graph = rdflib.Graph()
    for triple in shapes.shapes_graph():
        graph.add(triple)
    graph.add((rdflib.URIRef("urn:shape"), SH.closed, rdflib.Literal(True)))
    with pytest.raises(NotHandled, match="sh:closed"):
        CompiledShapes(graph)


def test_a_misspelt_property_is_not_conforming_in_either(shapes):
    doc = build_elm3(pilot_credential(COURSES[1]))
    doc["credentialSubject"]["hasClaim"]["specifiedBy"]["creditPoints"] = "5"
    assert shapes.fast_verdict(doc) is False
    assert "creditPoints" in shapes.problems(doc)[0]


def test_the_full_check_on_every_credential_is_a_setting(shapes, monkeypatch):
    full = ElmShapes.from_env({"EDC_SHACL_DIR": str(SHACL_DIR), "EDC_SHACL_CHECK": "full"})
    assert full.check == "full" and shapes.check == "fast"
    called = []
    monkeypatch.setattr(FastJsonLd, "triples", lambda self, doc: called.append(doc) or (set(), set()))
    assert full.problems(build_elm3(pilot_credential(COURSES[2]))) == [] and called == []
    with pytest.raises(Exception, match="EDC_SHACL_CHECK"):
        ElmShapes.from_env({"EDC_SHACL_DIR": str(SHACL_DIR), "EDC_SHACL_CHECK": "quick"})
