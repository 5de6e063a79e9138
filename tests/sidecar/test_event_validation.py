"""The intake's event validator answers exactly as the schema files say, though built for speed.

bridge/intake/events.py writes the learner's schema in where the event schema has `{"$ref":
"learner.schema.json"}`, and compiles each pattern once (bridge/edc/inputs.py). Here the validator as it
was first built (the reference resolved through a registry on every event) is the yardstick: on a good
event and on hundreds of broken ones, both must find the same errors, in the same order, worded the same.
"""
from __future__ import annotations

import copy
import json

import jsonschema
import pytest
from referencing import Registry as SchemaRegistry, Resource
from referencing.jsonschema import DRAFT202012

from bridge.edc import inputs
from bridge.intake.events import SCHEMA_DIR, EventRejected, _validator, schema_problems, validate_event
from tests.sidecar.conftest import make_event

BAD_VALUES = [None, 0, -1, 1.5, 12.0, True, "", " ", "x" * 3000, "a\nb", "lt\n", "\u0085", "a/b", "²", [], {},
              "ona@", "ona@example", "9" * 20, "2026-13-40T99:00:00Z", "not a time", "\x00", "ok"]


def referencing_validator() -> jsonschema.protocols.Validator:
    """The validator as events.py built it before: `learner` resolved through the registry each time."""
    resources = []
    for name in ("event.schema.json", "learner.schema.json"):
        doc = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
        resources.append((doc["$id"], Resource.from_contents(inputs.referenced_schema(doc),
                                                             default_specification=DRAFT202012)))
    event_schema = json.loads((SCHEMA_DIR / "event.schema.json").read_text(encoding="utf-8"))
    return inputs.schema_validator(event_schema, registry=SchemaRegistry().with_resources(resources),
                                   format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, path + (key,))


def _set(event, path, value):
    changed = copy.deepcopy(event)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


def _without(event, path):
    changed = copy.deepcopy(event)
    target = changed
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return changed


def broken_events() -> list:
    """Every field of a completion and of a teacher's request set to each bad value, removed, or joined by
    an unknown neighbour; and a few documents that are not events at all."""
    request = make_event(kind="issue_requested", requested_by=7) | {"exception_reason": "was ill"}
    cases: list = [None, [], "event", 3, {}]
    for good in (make_event(), request):
        cases.append(good)
        for path in _paths(good):
            if not path:
                continue
            cases.extend(_set(good, path, value) for value in BAD_VALUES)
            cases.append(_without(good, path))
            cases.append(_set(good, path[:-1] + ("unknown",), 1))
        cases.append(_set(good, ("type",), "issue_requested" if good["type"] == "course_completed" else "course_completed"))
    return cases


def _errors(validator, event) -> list:
    return [(list(e.absolute_path), e.validator, e.message, inputs.schema_message(e)) for e in validator.iter_errors(event)]


def test_the_fast_validator_finds_what_the_referencing_one_finds():
    reference, fast = referencing_validator(), _validator()
    cases = broken_events()
    assert len(cases) > 500
    differing = [case for case in cases if _errors(reference, case) != _errors(fast, case)]
    assert differing == []
    assert all(schema_problems(reference, case) == schema_problems(fast, case) for case in cases)
    assert sum(not schema_problems(fast, case) for case in cases) < len(cases) / 4  # most cases are errors


@pytest.mark.parametrize("path, value, expected", [
    (("learner", "email"), "ona@", [("/learner/email", "does not match")]),
    (("course", "id"), 0, [("/course/id", "out of range: must be between 1 and 9223372036854775807")]),
    (("learner", "lang"), "lt\n", [("/learner/lang", "does not match")]),
    (("site", "id"), "a\nb", [("/site/id", "does not match"),
                               ("/site/id", "must not contain control characters or line breaks (CR, LF, NUL, ESC, ...)")]),
])
def test_bad_events_are_refused_naming_the_field(path, value, expected):
    with pytest.raises(EventRejected) as err:
        validate_event(json.dumps(_set(make_event(), path, value)).encode())
    assert [(p.pointer, p.message if "does not match" not in p.message else "does not match")
            for p in err.value.problems] == expected


def test_a_missing_learner_field_is_named():
    with pytest.raises(EventRejected) as err:
        validate_event(json.dumps(_without(make_event(), ("learner", "email"))).encode())
    assert [p.as_json() for p in err.value.problems] == [{"pointer": "/learner/email",
                                                           "message": "required field is missing"}]
