"""A teacher's request for a learner who has not completed the course: an exception with the teacher's reason,
accepted only on a teacher's request and kept in the audit trail."""
from __future__ import annotations

import json

from bridge.registry.models import AuditEntry
from tests.sidecar.conftest import make_event, post_event


def _accepted_details(ctx) -> list[dict]:
    with ctx.registry.reading() as session:
        return [json.loads(e.details) for e in session.query(AuditEntry).filter(AuditEntry.action == "event.accepted")]


def test_the_reason_of_an_exception_is_audited(client, ctx):
    event = make_event(1, kind="issue_requested", requested_by=7, completed_at=None)
    event["event_id"] = "demo:issue_requested:1:34:1764000000"
    event["exception_reason"] = "Medical leave; the exam was taken\non paper."
    answer = post_event(client, event)
    assert answer.status_code == 202, answer.json
    details = _accepted_details(ctx)
    assert details[-1]["exception"] is True and details[-1]["requested_by"] == 7
    assert details[-1]["exception_reason"] == "Medical leave; the exam was taken\non paper."


def test_an_ordinary_request_or_completion_has_no_exception(client, ctx):
    assert post_event(client, make_event(1)).status_code == 202
    request = make_event(2, kind="issue_requested", requested_by=7, completed_at=None)
    request["event_id"] = "demo:issue_requested:2:34:1764000000"
    assert post_event(client, request).status_code == 202
    assert all("exception" not in d for d in _accepted_details(ctx))


def test_an_exception_reason_is_refused_where_it_cannot_be(client, ctx):
    completion = make_event(1)
    completion["exception_reason"] = "no"
    answer = post_event(client, completion)
    assert answer.status_code == 400 and answer.json["problems"][0]["pointer"] == "/exception_reason"
    for bad in ("", "x" * 2001, "bell\u0007", "line\u2028break"):
        request = make_event(1, kind="issue_requested", requested_by=7, completed_at=None)
        request["event_id"] = "demo:issue_requested:1:34:99"
        request["exception_reason"] = bad
        answer = post_event(client, request)
        assert answer.status_code == 400, bad
        assert answer.json["problems"][0]["pointer"] == "/exception_reason", (bad, answer.json)
    assert _accepted_details(ctx) == []
