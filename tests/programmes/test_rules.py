"""A programme's description and rule, pure (bridge/edc/programmes.py): what is refused, and which credentials
meet all-of / N-of rules with minimum ECTS and a time window."""
from __future__ import annotations

import datetime as dt

import pytest

from bridge.edc import model, programmes
from bridge.edc.programmes import Held

from .conftest import programme_doc


def _day(n: int) -> dt.datetime:
    return dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(days=n)


def _programme(rule: dict, parts=(1, 2, 3)) -> programmes.Programme:
    doc = programme_doc()
    doc["parts"] = [{"course": course} for course in parts]
    doc["rule"] = rule
    return programmes.load_programme(doc)


def test_the_pilot_programme_is_valid_and_says_what_it_asks():
    programme = programmes.load_programme(programme_doc())
    assert programme.parts == (3, 2, 1) and programme.codes == {3: "DATA101", 2: "CYBER201", 1: "AIETH800"}
    assert programme.rule == programmes.Rule("all", 3, 12, "P3Y")
    assert programme.credential.title["en"] == "Digital Skills Certificate" and programme.credential.ects == 12


def test_an_incomplete_programme_is_refused_naming_each_problem():
    doc = programme_doc()
    del doc["credential"]["eqf_level"]
    doc["parts"].append({"course": 2})
    doc["rule"] = {"kind": "all", "count": 2}
    with pytest.raises(model.ModelError) as refused:
        programmes.load_programme(doc)
    assert [str(p) for p in refused.value.problems] == [
        "/rule/count: only an n-of rule has a count",
        "/credential/eqf_level: missing mandatory element (EQF level)",
    ]
    doc = programme_doc()
    doc["parts"].append({"course": 2})
    doc["rule"] = {"kind": "n-of", "count": 5}
    assert [str(p) for p in programmes.validate_programme(doc)] == [
        "/parts/3/course: course 2 is named twice", "/rule/count: asks for 5 parts of 4"]
    doc["rule"] = {"kind": "n-of"}
    assert [str(p) for p in programmes.validate_programme(doc)][-1] == "/rule/count: missing mandatory element"
    assert programmes.validate_programme({"parts": []})[0].pointer in ("/credential", "/parts", "/rule", "/schema_version")


def test_all_of_needs_every_part_and_n_of_needs_n():
    held = [Held("a", 1, 3, _day(0)), Held("b", 2, 5, _day(1))]
    assert programmes.choose(_programme({"kind": "all"}), held) is None
    assert programmes.choose(_programme({"kind": "all"}), held + [Held("c", 3, 4, _day(2))]) is not None
    chosen = programmes.choose(_programme({"kind": "n-of", "count": 2}), held)
    assert [h.credential_id for h in chosen] == ["a", "b"]
    assert programmes.choose(_programme({"kind": "n-of", "count": 2}), held[:1]) is None
    assert programmes.choose(_programme({"kind": "n-of", "count": 2}), [held[0], Held("x", 9, 60, _day(1))]) is None


def test_minimum_ects_counts_the_parts_chosen():
    held = [Held("a", 1, 3, _day(0)), Held("b", 2, 5, _day(1))]
    assert programmes.choose(_programme({"kind": "n-of", "count": 2, "min_ects": 8}), held) is not None
    assert programmes.choose(_programme({"kind": "n-of", "count": 2, "min_ects": 8.5}), held) is None
    # N of them, but more parts bring more ECTS: a third part held makes the minimum.
    third = held + [Held("c", 3, 1, _day(2))]
    assert [h.credential_id for h in programmes.choose(_programme({"kind": "n-of", "count": 2, "min_ects": 9}), third)] \
        == ["a", "b", "c"]


def test_the_time_window_opens_at_each_award_earliest_first():
    held = [Held("a", 1, 3, _day(0)), Held("b", 2, 3, _day(400)), Held("c", 3, 3, _day(500))]
    rule = {"kind": "n-of", "count": 2, "within": "P1Y"}
    assert [h.credential_id for h in programmes.choose(_programme(rule), held)] == ["b", "c"]
    assert programmes.choose(_programme({"kind": "all", "within": "P1Y"}), held) is None
    assert programmes.choose(_programme({"kind": "all", "within": "P2Y"}), held) is not None
    assert programmes.choose(_programme({"kind": "n-of", "count": 2, "within": "P30D"}), held) is None


def test_per_part_the_latest_credential_counts_and_the_answer_follows_the_programme_order():
    held = [Held("old", 3, 3, _day(0)), Held("new", 3, 3, _day(10)), Held("b", 1, 3, _day(5)), Held("c", 2, 3, _day(7))]
    chosen = programmes.choose(_programme({"kind": "all"}, parts=(3, 2, 1)), held)
    assert [h.credential_id for h in chosen] == ["new", "c", "b"]


def test_a_wrong_course_id_is_caught_by_the_parts_code():
    programme = programmes.load_programme(programme_doc())
    assert [str(p) for p in programmes.code_problems(programme, {3: "DATA101", 2: "GREEN310", 1: None})] == [
        "/parts/1/code: course 2 is GREEN310, not CYBER201"]
