"""Issue 11.6-8: signed requests that used to crash or slip through now get a 400 naming the field.

Each case is signed with the real intake key, so only the content is at fault; nothing may be stored, and
the answer names the field (JSON pointer) instead of Moodle seeing a 500 and retrying forever.
"""
from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from bridge.edc import inputs
from bridge.registry.models import CourseSpecification, Issuance
from tests.sidecar.conftest import make_event, pilot_learner, pilot_spec, post_event, signed

EVENTS = "/api/v1/events"


def post_raw(client, body: bytes, path: str = EVENTS, method: str = "POST"):
    return client.open(path, method=method, data=body, headers=signed(method, path, body))


def stored(ctx, model=Issuance) -> int:
    with ctx.registry.transaction() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def pointers(response) -> list[str]:
    return [p["pointer"] for p in response.get_json()["problems"]]


def learner(**changes) -> dict:
    return dict(pilot_learner(), **changes)


def test_json_nested_100000_deep_is_refused(client, ctx):
    r = post_raw(client, b"[" * 100_000 + b"]" * 100_000)
    assert r.status_code == 400
    assert "nested" in r.get_json()["problems"][0]["message"]
    assert stored(ctx) == 0


def test_nesting_inside_strings_does_not_count(client, ctx):
    event = make_event(learner=learner(given_names="Ona [[[[{{{{" * 10))
    assert post_event(client, event).status_code == 202


@pytest.mark.parametrize("value", [2**63, 10**30, 1e300, 0, -1, True, 1.5])
def test_course_id_out_of_range_names_the_field(client, ctx, value):
    event = make_event()
    event["course"]["id"] = value
    r = post_event(client, event)
    assert r.status_code == 400, r.get_json()
    assert pointers(r) == ["/course/id"]
    assert stored(ctx) == 0


def test_integral_float_ids_are_stored_as_integers(client, ctx):
    event = make_event(learner=learner(id=34.0))
    event["course"]["id"] = 7.0
    assert post_event(client, event).status_code == 202
    with ctx.registry.transaction() as session:
        row = session.execute(select(Issuance)).scalar_one()
    assert (row.course_id, row.learner_id) == (7, "34")


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:30:00-01:00",
                                    "1969-12-31T23:59:59Z", "2999-01-01T00:00:00Z", "not a time"])
def test_completion_times_without_a_usable_utc_moment(client, ctx, moment):
    r = post_event(client, make_event(completed_at=moment))
    assert r.status_code == 400, r.get_json()
    assert pointers(r) == ["/completed_at"]
    assert stored(ctx) == 0


@pytest.mark.parametrize("field", ["given_names", "family_name"])
def test_a_lone_surrogate_in_a_name_names_the_field(client, ctx, field):
    event = make_event()
    body = json.dumps(event).replace(json.dumps(event["learner"][field])[1:-1], "Ona\\ud800", 1).encode()
    assert b"\\ud800" in body
    r = post_raw(client, body)
    assert r.status_code == 400
    assert pointers(r) == [f"/learner/{field}"]
    assert stored(ctx) == 0


@pytest.mark.parametrize("field, value", [
    ("email", "ona@example.edu\n"), ("lang", "lt\n"), ("given_names", "Ona\x00"), ("family_name", "Jonaitė\x1b[2J"),
    ("given_names", "Ona\rBcc: x@y.z"), ("family_name", "Jonaitė\nBcc: x@y.z"), ("given_names", "Ona\u2028"),
    ("email", "a>,<evil@attacker.example"), ("email", "ona@example.edu\r\nBcc: x@y.z"), ("id", "²"),
    ("id", "12\n"), ("id", "x" * 65), ("id", 2**63),
])
def test_learner_values_no_credential_or_mail_can_use(client, ctx, field, value):
    r = post_event(client, make_event(learner=learner(**{field: value})))
    assert r.status_code == 400, (field, value, r.get_json())
    assert f"/learner/{field}" in pointers(r)  # (an id with a line break also spoils the event id built from it)
    assert stored(ctx) == 0


@pytest.mark.parametrize("pointer, change", [
    ("/site/id", lambda e: e["site"].update(id="demo\n")),
    ("/site/id", lambda e: e["site"].update(id="de\x00mo")),
    ("/course/shortname", lambda e: e["course"].update(shortname="DATA\r\n101")),
    ("/course/fullname", lambda e: e["course"].update(fullname="Data\x1b literacy")),
    ("/event_id", lambda e: e.update(event_id="x\ny")),
    ("/requested_by", lambda e: e.update(type="issue_requested", requested_by=10**20)),
])
def test_event_fields_with_control_characters_or_out_of_range(client, ctx, pointer, change):
    event = make_event()
    change(event)
    r = post_event(client, event)
    assert r.status_code == 400, r.get_json()
    assert pointer in pointers(r)
    assert stored(ctx) == 0


def test_encoded_word_syntax_in_a_name_is_text_and_accepted(client, ctx):
    name = "Ona =?utf-8?q?=0D=0ABcc:_evil2=40attacker.example?="
    assert post_event(client, make_event(learner=learner(given_names=name))).status_code == 202
    with ctx.registry.transaction() as session:
        row = session.execute(select(Issuance)).scalar_one()
    assert json.loads(row.payload)["learner"]["given_names"] == name


@pytest.mark.parametrize("course, pointer", [(str(10**20), "{course}"), ("²", "{course}"), ("0", "{course}")])
def test_specification_path_ids_are_checked(client, ctx, course, pointer):
    path = f"/api/v1/courses/demo/{course}/specification"
    r = post_raw(client, json.dumps(pilot_spec()).encode(), path=path, method="PUT")
    assert r.status_code == 400, r.get_json()
    assert pointers(r) == [pointer]
    assert stored(ctx, CourseSpecification) == 0


def test_specification_body_nested_deep_or_with_a_surrogate(client, ctx):
    path = "/api/v1/courses/demo/5/specification"
    assert post_raw(client, b"{\"a\":" * 5_000 + b"1" + b"}" * 5_000, path=path, method="PUT").status_code == 400
    spec = json.dumps(pilot_spec()).replace('"en": "', '"en": "\\udc00', 1).encode()
    r = post_raw(client, spec, path=path, method="PUT")
    assert r.status_code == 400 and pointers(r)[0].startswith("/")
    assert stored(ctx, CourseSpecification) == 0


@pytest.mark.parametrize("course", ["²", "٣", str(2**63), "1\n"])
def test_issuances_poll_with_a_course_that_is_not_an_ascii_id(client, course):
    path = "/api/v1/issuances"
    query = urlencode({"site": "demo", "course": course})
    r = client.get(f"{path}?{query}", headers=signed("GET", path, b"", query=query))
    assert r.status_code == 400
    assert pointers(r) == ["?course"]


def test_one_id_rule():
    assert inputs.learner_moodle_id("²") is None and inputs.learner_moodle_id("34") == 34
    assert inputs.learner_moodle_id(str(2**63)) is None and inputs.learner_moodle_id("ext-7") is None
    with pytest.raises(inputs.InputError):
        inputs.moodle_id("٣", "/x")
    assert inputs.moodle_id(7.0, "/x") == 7


def test_schema_patterns_end_at_the_end_of_the_string():
    validator = inputs.schema_validator({"type": "string", "pattern": "^[a-z]{2}$"})
    assert validator.is_valid("lt") and not validator.is_valid("lt\n")
    literal = inputs.schema_validator({"type": "string", "pattern": "^a[$]b\\$$"})
    assert literal.is_valid("a$b$") and not literal.is_valid("a$b$\n")


def test_an_event_stored_before_these_rules_is_parked_naming_the_field_not_retried(client, ctx):
    """A NUL in a name stored by an older sidecar: the model refuses it once and parks the issuance with the
    field named, instead of sealing, failing delivery and retrying until it gives up."""
    from bridge import worker

    assert put_spec_ok(client)
    assert post_event(client, make_event()).status_code == 202
    with ctx.registry.transaction() as session:
        row = session.execute(select(Issuance)).scalar_one()
        payload = json.loads(row.payload)
        payload["learner"]["given_names"] = "Ona\x00"
        row.payload = json.dumps(payload)
    worker.drain(ctx)
    with ctx.registry.transaction() as session:
        row = session.execute(select(Issuance)).scalar_one()
        assert row.status == "parked" and row.attempts <= 1
        assert "/given_names" in row.parked_reason and "control characters" in row.parked_reason


def put_spec_ok(client) -> bool:
    from tests.sidecar.conftest import put_spec

    return put_spec(client, 1, pilot_spec()).get_json()["valid"]


# --- the same classes of fault at the staff API's doors ---------------------------------------------------


@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000, b'{"reason": "x\\ud800"}', b"\xff\xfe"])
def test_staff_json_bodies_that_used_to_crash(client, body):
    from tests.sidecar.conftest import STAFF_HEADERS

    for path in ("/api/v1/credentials/urn:credential:x/revoke", "/api/v1/deliveries/1/resend"):
        r = client.post(path, data=body, headers=dict(STAFF_HEADERS, **{"Content-Type": "application/json"}))
        assert r.status_code == 400, (path, r.status_code)
        assert r.get_json()["problems"]


@pytest.mark.parametrize("delivery", [str(10**20), "٣", "²"])
def test_delivery_ids_beyond_a_64_bit_column_or_not_ascii_are_not_found(client, delivery):
    from tests.sidecar.conftest import STAFF_HEADERS

    r = client.post(f"/api/v1/deliveries/{delivery}/retry", headers=STAFF_HEADERS)
    assert r.status_code == 404
