"""Programmes (stacked credentials): the description, its rule, and whether a learner's credentials meet it.

A programme is a larger credential made of micro-credentials. Its description
(schemas/programme-credential.schema.json) names the courses it is made of (`parts`, Moodle course ids
of the programme's site), a rule (all of them, or at least N; optionally at least so many ECTS, and
all awarded within a time window), and the programme credential's own description: a complete
course-credential description with every Annex I element, validated by the same rules, so the
programme credential is built by the same builders as any credential (with `parts` naming what it is
made of: `hasPart` in both formats).

Pure: the service (bridge/worker/programmes.py) gives `choose` the learner's valid credentials and
acts on the answer.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Mapping, Sequence

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from bridge.edc import inputs, model
from bridge.edc.model import ModelError, Problem

PROGRAMME_SCHEMA_FILE = model.SCHEMA_DIR / "programme-credential.schema.json"


@dataclass(frozen=True)
class Rule:
    kind: str  # all | n-of
    count: int  # how many parts at least (all: every one)
    min_ects: float | None = None
    within: str | None = None  # ISO 8601 duration from the first part awarded to the last


@dataclass(frozen=True)
class Programme:
    """A programme's description: its parts, its rule, and its own credential's description."""

    credential: model.CourseSpec
    parts: tuple[int, ...]  # course ids of the programme's site, in the description's order
    codes: Mapping[int, str]  # course id -> the code the description expects it to have
    rule: Rule
    source: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Held:
    """One valid credential a learner holds of one of the parts, as the rule sees it."""

    credential_id: str
    course: int
    ects: float
    awarded_at: dt.datetime


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    course = json.loads(model.COURSE_SCHEMA_FILE.read_text(encoding="utf-8"))
    # The programme schema's "$ref": "course-credential.schema.json" resolves against its own $id.
    registry = Registry().with_resources([
        (course["$id"], Resource.from_contents(inputs.referenced_schema(course), default_specification=DRAFT202012))])
    schema = json.loads(PROGRAMME_SCHEMA_FILE.read_text(encoding="utf-8"))
    return inputs.schema_validator(schema, registry=registry)


def validate_programme(doc: Any) -> list[Problem]:
    """Every problem of a programme description (JSON pointers into it); empty when it can be used.

    The programme credential's description is judged by the course rules, so a missing Annex I element
    is named as for a course (`/credential/eqf_level: missing mandatory element (EQF level)`)."""
    surrogate = inputs.first_surrogate(doc)
    if surrogate is not None:
        return [Problem(surrogate, "contains a lone UTF-16 surrogate, which is not a character")]
    problems = [Problem("/rule/count", "only an n-of rule has a count") if p.pointer.startswith("/rule")
                and p.message.startswith("False schema") else p for p in model._schema_problems(_validator(), doc)]
    if isinstance(doc, dict) and isinstance(doc.get("credential"), dict):
        problems = [p for p in problems if p.pointer != "/credential" and not p.pointer.startswith("/credential/")]
        problems += [Problem("/credential" + p.pointer, p.message) for p in model.validate_course_spec(doc["credential"])]
    if problems:
        return problems
    courses = [part["course"] for part in doc["parts"]]
    problems = [Problem(f"/parts/{i}/course", f"course {course} is named twice")
                for i, course in enumerate(courses) if course in courses[:i]]
    count = doc["rule"].get("count")
    if count is not None and count > len(courses):
        problems.append(Problem("/rule/count", f"asks for {count} parts of {len(courses)}"))
    return problems


def load_programme(doc: Any) -> Programme:
    """Validate a programme description and build the model; ModelError naming each problem."""
    problems = validate_programme(doc)
    if problems:
        raise ModelError("programme description", problems)
    parts = tuple(part["course"] for part in doc["parts"])
    rule = doc["rule"]
    return Programme(
        credential=model.load_course_spec(doc["credential"]), parts=parts,
        codes={part["course"]: part["code"] for part in doc["parts"] if "code" in part},
        rule=Rule(rule["kind"], rule.get("count", len(parts)), rule.get("min_ects"), rule.get("within")),
        source=doc)


def code_problems(programme: Programme, stored_codes: Mapping[int, str | None]) -> list[Problem]:
    """Parts whose `code` differs from the code of the course's stored description (a wrong id)."""
    problems = []
    for i, course in enumerate(programme.parts):
        expected, stored = programme.codes.get(course), stored_codes.get(course)
        if expected is not None and stored is not None and stored != expected:
            problems.append(Problem(f"/parts/{i}/code", f"course {course} is {stored}, not {expected}"))
    return problems


def choose(programme: Programme, held: Sequence[Held]) -> tuple[Held, ...] | None:
    """The credentials that satisfy the programme's rule, or None when the learner's do not (yet).

    Per part the most recently awarded credential counts. With a time window, every window opening at
    one part's award date is tried, earliest first; the parts inside it are all counted (more parts only
    bring more ECTS). The answer is in the order of the description's parts, so it is stable."""
    latest: dict[int, Held] = {}
    for item in held:
        if item.course in programme.parts and (item.course not in latest or item.awarded_at > latest[item.course].awarded_at):
            latest[item.course] = item
    candidates = sorted(latest.values(), key=lambda h: (h.awarded_at, h.credential_id))
    rule = programme.rule
    if rule.within:
        groups = [[h for h in candidates if start.awarded_at <= h.awarded_at <= model.add_iso_duration(start.awarded_at, rule.within)]
                  for start in candidates]
    else:
        groups = [candidates]
    order = {course: i for i, course in enumerate(programme.parts)}
    for group in groups:
        if len(group) >= rule.count and (rule.min_ects is None or sum(h.ects for h in group) >= rule.min_ects):
            return tuple(sorted(group, key=lambda h: order[h.course]))
    return None
