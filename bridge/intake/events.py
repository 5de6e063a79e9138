"""Validate an intake event and store it exactly once.

The idempotency key is (site, course, learner, completion time) for a completion and (site, course,
learner, event id) for a teacher's request; a unique constraint on it means two copies arriving at
the same moment still make one row: the loser of the race reads the winner's row and answers with it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry as SchemaRegistry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bridge.edc import inputs
from bridge.intake.auth import Authenticated, claim_nonce
from bridge.registry import Registry, audit
from bridge.registry.models import Issuance

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


@dataclass(frozen=True)
class FieldProblem:
    pointer: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"pointer": self.pointer, "message": self.message}


class EventRejected(ValueError):
    def __init__(self, problems: list[FieldProblem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.pointer}: {p.message}" for p in problems))


@lru_cache(maxsize=None)
def _validator() -> jsonschema.Draft202012Validator:
    resources = []
    for name in ("event.schema.json", "learner.schema.json"):
        doc = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
        resources.append((doc["$id"], Resource.from_contents(inputs.referenced_schema(doc),
                                                             default_specification=DRAFT202012)))
    registry = SchemaRegistry().with_resources(resources)
    event_schema = json.loads((SCHEMA_DIR / "event.schema.json").read_text(encoding="utf-8"))
    return inputs.schema_validator(event_schema, registry=registry,
                                   format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)



def parse_time(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


EARLIEST_COMPLETION = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)  # Moodle keeps Unix timestamps
FUTURE_SKEW = dt.timedelta(days=1)  # clocks drift; a completion a day ahead is an error, not drift


def validate_event(body: bytes) -> dict[str, Any]:
    """The event as a dict with its ids as ints, or EventRejected naming every field at fault (JSON pointers)."""
    try:
        event = inputs.parse_json(body)
    except inputs.InputError as exc:
        raise EventRejected([FieldProblem(exc.pointer, exc.message)]) from None
    problems = []
    for err in sorted(_validator().iter_errors(event), key=lambda e: list(map(str, e.absolute_path))):
        pointer = inputs.pointer_of(err.absolute_path)
        if err.validator == "required":
            missing = err.message.split("'")[1] if "'" in err.message else ""
            problems.append(FieldProblem(f"{pointer}/{missing}", "required field is missing"))
        else:
            problems.append(FieldProblem(pointer, inputs.schema_message(err)))
    if not problems and event.get("completed_at"):
        problem = _completion_problem(event["completed_at"])
        if problem:
            problems.append(FieldProblem("/completed_at", problem))
    if problems:
        raise EventRejected(problems)
    _normalise_ids(event)
    return event


def _completion_problem(text: str) -> str | None:
    """Why `completed_at` cannot be a completion time, or None. Also catches a time that is valid where it
    was written but has no UTC equivalent (0001-01-01T00:00:00+01:00), which would overflow later."""
    try:
        moment = parse_time(text).astimezone(dt.timezone.utc)
    except (ValueError, OverflowError):
        return "not an RFC 3339 date-time with a UTC equivalent"
    if moment < EARLIEST_COMPLETION:
        return "before 1970-01-01: not a completion time Moodle can have"
    if moment > dt.datetime.now(dt.timezone.utc) + FUTURE_SKEW:
        return "in the future"
    return None


def _normalise_ids(event: dict[str, Any]) -> None:
    """Ids as ints (the schema admits 12.0 as an integer; the registry and Moodle want 12), learner ids of
    ASCII digits as ints too, so one learner never has two spellings."""
    event["course"]["id"] = inputs.moodle_id(event["course"]["id"], "/course/id")
    learner = event["learner"]
    if not isinstance(learner["id"], str):
        learner["id"] = inputs.moodle_id(learner["id"], "/learner/id")
    if event.get("requested_by") is not None:
        event["requested_by"] = inputs.moodle_id(event["requested_by"], "/requested_by")


def idempotency_key(event: dict[str, Any]) -> str:
    """Same completion (or same teacher request) -> same key, whatever the event's other fields say."""
    if event["type"] == "course_completed":
        moment = parse_time(event["completed_at"]).astimezone(dt.timezone.utc).isoformat()
        parts = ["completion", event["site"]["id"], str(event["course"]["id"]), str(event["learner"]["id"]), moment]
    else:
        parts = ["request", event["site"]["id"], str(event["course"]["id"]), str(event["learner"]["id"]),
                 event["event_id"]]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _active_issuance(session, event: dict[str, Any]) -> Issuance | None:
    """A teacher's click for a learner who already has a credential of the course (or one on the way)
    gets that one back: a second, identical credential is never what was meant. After a revocation or
    a failure the click does issue anew."""
    return session.execute(
        select(Issuance).where(
            Issuance.site_id == event["site"]["id"], Issuance.course_id == int(event["course"]["id"]),
            Issuance.learner_id == str(event["learner"]["id"]), Issuance.status.notin_(("failed", "revoked")))
        .order_by(Issuance.received_at.desc()).limit(1)
    ).scalar_one_or_none()


def _exception(event: dict[str, Any]) -> dict[str, Any]:
    """A teacher's request for a learner who had not completed the course, with the teacher's reason, is
    recorded as such in the audit trail (the plugin asks for the reason before sending it)."""
    reason = event.get("exception_reason")
    return {"exception": True, "exception_reason": reason, "requested_by": event.get("requested_by")} if reason else {}


def new_issuance(event: dict[str, Any], key: str) -> Issuance:
    """The inbox row of a validated event (store_event, and bulk cohorts in batches: bridge/bulk/batches.py)."""
    return Issuance(
        id=str(uuid.uuid4()), idempotency_key=key, event_id=event["event_id"], kind=event["type"],
        site_id=event["site"]["id"], course_id=int(event["course"]["id"]),
        learner_id=str(event["learner"]["id"]),
        payload=json.dumps(event, ensure_ascii=False, sort_keys=True),
        completed_at=parse_time(event["completed_at"]) if event.get("completed_at") else None,
        requested_by=str(event["requested_by"]) if event.get("requested_by") is not None else None,
        status="queued", attempts=0,
    )


def accepted_details(row: Issuance, event: dict[str, Any]) -> dict[str, Any]:
    """What the audit trail's event.accepted entry says about a new inbox row."""
    return ({"type": row.kind, "site": row.site_id, "course": row.course_id, "learner": row.learner_id,
             "event_id": row.event_id} | _exception(event))


@dataclass(frozen=True)
class Stored:
    issuance_id: str
    status: str
    created: bool


def store_event(registry: Registry, event: dict[str, Any], auth: Authenticated | None, *,
                window: int = 300, actor: str = "moodle") -> Stored:
    """Claim the nonce and insert the event in one transaction; a duplicate answers with the first row."""
    key = idempotency_key(event)
    for _attempt in range(3):
        try:
            with registry.transaction() as session:
                if auth is not None:
                    claim_nonce(session, auth, window)
                existing = session.execute(select(Issuance).where(Issuance.idempotency_key == key)).scalar_one_or_none()
                if existing is None and event["type"] == "issue_requested":
                    existing = _active_issuance(session, event)
                if existing is not None:
                    return Stored(existing.id, existing.status, False)
                row = new_issuance(event, key)
                session.add(row)
                session.flush()  # a concurrent twin fails here (unique idempotency key) and retries below
                audit.append(session, actor if auth is None else f"moodle:{auth.key_id}", "event.accepted", row.id,
                             accepted_details(row, event))
                return Stored(row.id, row.status, True)
        except IntegrityError:
            continue  # the twin committed first; the next round finds it (its nonce claim rolled back with us)
    raise RuntimeError("could not store the event after three attempts")
