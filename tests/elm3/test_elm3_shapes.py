"""The offline SHACL check itself: configuration, nothing fetched, and problems in plain words."""
from __future__ import annotations

import copy
import json
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.edc.elm3_builder import build_elm3
from bridge.edc.jades import summarize
from bridge.edc.shacl_check import ElmShapes, ShapesConfigError

from .helpers import COURSES, EU_UNSIGNED, JSONLD_DIR, REFERENCE, SHACL_DIR, pilot_credential


def test_not_configured_means_no_check():
    assert ElmShapes.from_env({}) is None


def test_contexts_are_found_beside_the_eu_reference_layout(shapes):
    found = {url: path.resolve() for url, path in shapes.context_files.items()}
    assert found["http://data.europa.eu/snb/model/context/edc-ap"] == (JSONLD_DIR / "edc-ap-context.jsonld").resolve()
    assert found["https://www.w3.org/2018/credentials/v1"] == (REFERENCE / "w3c" / "credentials-v1.jsonld").resolve()
    assert [p.name for p in shapes.shapes_files] == ["EDC-generic-no-cv.ttl", "EDC-generic-full.ttl"]


def test_a_deployment_can_point_at_its_own_copies(tmp_path):
    shapes_dir, contexts = tmp_path / "shapes", tmp_path / "contexts"
    shapes_dir.mkdir(), contexts.mkdir()
    shutil.copy(SHACL_DIR / "EDC-generic-no-cv.ttl", shapes_dir)
    shutil.copy(JSONLD_DIR / "edc-ap-context.jsonld", contexts)
    shutil.copy(REFERENCE / "w3c" / "credentials-v1.jsonld", contexts)
    env = {"EDC_SHACL_DIR": str(shapes_dir), "EDC_JSONLD_CONTEXT_DIR": str(contexts)}
    own = ElmShapes.from_env(env)
    assert own.context_files["http://data.europa.eu/snb/model/context/edc-ap"].parent.resolve() == contexts.resolve()
    assert own.problems(build_elm3(pilot_credential(COURSES[2]))) == []


def test_missing_files_are_named(tmp_path):
    with pytest.raises(ShapesConfigError, match="EDC-generic-no-cv.ttl is not in"):
        ElmShapes.from_env({"EDC_SHACL_DIR": str(tmp_path)})
    shutil.copy(SHACL_DIR / "EDC-generic-no-cv.ttl", tmp_path)
    with pytest.raises(ShapesConfigError, match="credentials-v1.jsonld"):
        ElmShapes.from_env({"EDC_SHACL_DIR": str(tmp_path), "EDC_JSONLD_CONTEXT_DIR": str(tmp_path)})


def test_any_other_context_url_is_refused_without_a_network_call(shapes, monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("the SHACL check tried to open a network connection")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    doc = build_elm3(pilot_credential(COURSES[0]))
    doc["@context"] = doc["@context"] + ["https://schema.example/evil-context.jsonld"]
    problems = shapes.problems(doc)
    assert len(problems) == 1
    assert "https://schema.example/evil-context.jsonld" in problems[0] and "nothing is fetched" in problems[0]


def test_a_misspelt_term_is_reported_not_silently_dropped(shapes):
    doc = build_elm3(pilot_credential(COURSES[0]))
    doc["credentialSubject"]["hasClaim"]["specifiedBy"]["creditPoints"] = "5"
    assert shapes.problems(doc) == [
        "the term 'creditPoints' is not defined by the credential's JSON-LD contexts, so it carries no meaning "
        "(a misspelt property?)"
    ]


def test_wrong_datatype_is_reported_with_focus_and_path(shapes):
    doc = build_elm3(pilot_credential(COURSES[0]))
    doc["issued"] = "yesterday"
    problems = shapes.problems(doc)
    assert problems and all(doc["id"] in p and "cred:issued" in p for p in problems)
    assert any("wrong type (expected xsd:dateTime)" in p for p in problems)


def test_the_eu_unsigned_sample_misses_exactly_what_the_reference_readme_says(shapes):
    problems = shapes.problems(json.loads(EU_UNSIGNED.read_text(encoding="utf-8")))
    assert len(problems) == 2
    assert "cred:issued: is missing" in problems[0]
    assert "cred:issuer" in problems[1] and "elm:eidasLegalIdentifier: is missing" in problems[1]


def test_the_shapes_are_parsed_once_per_process(shapes):
    assert shapes.shapes_graph() is shapes.shapes_graph()
    again = ElmShapes.from_env({"EDC_SHACL_DIR": str(SHACL_DIR)})
    assert again.shapes_graph() is shapes.shapes_graph()


def test_not_an_object_is_a_problem_not_a_crash(shapes):
    assert shapes.problems(["not", "a", "credential"]) == ["the credential is not a JSON object"]
    doc = copy.deepcopy(build_elm3(pilot_credential(COURSES[0])))
    doc["@context"] = 42
    assert shapes.problems(doc)[0].startswith("the credential is not valid JSON-LD")


def test_a_hostile_deeply_nested_document_is_a_problem_not_a_crash(shapes):
    doc = build_elm3(pilot_credential(COURSES[0]))
    node = doc["credentialSubject"]["hasClaim"]["specifiedBy"]
    for n in range(900):
        node["additionalNote"] = {"id": f"urn:epass:note:deep-{n}", "type": "Note"}
        node = node["additionalNote"]
    assert shapes.problems(doc) == ["the credential is nested too deeply to be checked"]


_KEYS = st.sampled_from(["@context", "id", "type", "credentialSubject", "hasClaim", "title", "specifiedBy",
                         "creditPoint", "point", "issuer", "legalName", "displayParameter", "primaryLanguage",
                         "en", "@value", "@id", "@type", "@graph", "@list", "@language", "issued"])
_LEAVES = (st.none() | st.booleans() | st.integers() | st.text(max_size=10)
           | st.sampled_from(["https://www.w3.org/2018/credentials/v1", "urn:x", "Note", "_:b1"]))
_DOCS = st.recursive(_LEAVES, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4),
                     max_leaves=25)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=st.dictionaries(_KEYS, _DOCS, max_size=5))
def test_malformed_json_ld_gets_problems_in_words_never_an_exception(shapes, doc):
    summarize(doc)  # the verifier's reading of learner, title, ... must not trip either
    doc.setdefault("@context", ["https://www.w3.org/2018/credentials/v1",
                                "http://data.europa.eu/snb/model/context/edc-ap"])
    assert all(isinstance(p, str) for p in shapes.problems(doc))
