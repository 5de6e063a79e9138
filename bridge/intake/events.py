"""Validate an intake event and store it exactly once.

The idempotency key is (site, course, learner, completion time) for a completion and (site, course,
learner, event id) for a teacher's request; a unique constraint on it means two copies arriving at
the same moment still make one row: the loser of the race reads the winner's row and answers with it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import jsonschema
from referencing import Registry as SchemaRegistry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bridge.edc import inputs
from bridge.intake.auth import Authenticated, claim_nonce
from bridge.registry import Registry, audit
from bridge.registry.db import OnePer, insert_on_conflict
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


def _schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def _validator() -> jsonschema.Draft202012Validator:
    """The event schema's validator, built once, with the learner's schema written in where the event's
    `learner` is `{"$ref": "learner.schema.json"}`: jsonschema looked the reference up again for every
    event, a quarter of the validation. A `$ref` alone in its object validates as the schema it names
    (the learner's has no references of its own), so the errors and their order are the same
    (tests/sidecar/test_event_validation.py compares the two on bad events). The registry still holds
    both documents, for any other reference."""
    documents = {name: inputs.referenced_schema(_schema(name)) for name in ("event.schema.json", "learner.schema.json")}
    registry = SchemaRegistry().with_resources(
        (doc["$id"], Resource.from_contents(doc, default_specification=DRAFT202012)) for doc in documents.values())
    event_schema = _schema("event.schema.json")
    properties = event_schema["properties"]
    if properties.get("learner") == {"$ref": "learner.schema.json"}:
        properties["learner"] = {k: v for k, v in documents["learner.schema.json"].items() if k != "$id"}
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
    problems = schema_problems(_validator(), event)
    if not problems and event.get("completed_at"):
        problem = _completion_problem(event["completed_at"])
        if problem:
            problems.append(FieldProblem("/completed_at", problem))
    if problems:
        raise EventRejected(problems)
    _normalise_ids(event)
    return event


def schema_problems(validator: jsonschema.protocols.Validator, event: Any) -> list[FieldProblem]:
    """The schema's complaints about `event`, in field order, worded for the answer (none: an empty list)."""
    problems = []
    for err in sorted(validator.iter_errors(event), key=lambda e: list(map(str, e.absolute_path))):
        pointer = inputs.pointer_of(err.absolute_path)
        if err.validator == "required":
            missing = err.message.split("'")[1] if "'" in err.message else ""
            problems.append(FieldProblem(f"{pointer}/{missing}", "required field is missing"))
        else:
            problems.append(FieldProblem(pointer, inputs.schema_message(err)))
    return problems


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


def issuance_values(event: dict[str, Any], key: str) -> dict[str, Any]:
    """The column values of a validated event's inbox row (received_at and updated_at are the columns'
    defaults)."""
    return {
        "id": str(uuid.uuid4()), "idempotency_key": key, "event_id": event["event_id"], "kind": event["type"],
        "site_id": event["site"]["id"], "course_id": int(event["course"]["id"]),
        "learner_id": str(event["learner"]["id"]),
        "payload": json.dumps(event, ensure_ascii=False, sort_keys=True),
        "completed_at": parse_time(event["completed_at"]) if event.get("completed_at") else None,
        "requested_by": str(event["requested_by"]) if event.get("requested_by") is not None else None,
        "status": "queued", "attempts": 0,
    }


def new_issuance(event: dict[str, Any], key: str) -> Issuance:
    """The inbox row of a validated event as an ORM object (bulk cohorts in batches: bridge/bulk/batches.py)."""
    return Issuance(**issuance_values(event, key))


def accepted_details(row: Issuance | Mapping[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """What the audit trail's event.accepted entry says about a new inbox row (the Issuance, or the column
    values inserted)."""
    get = row.get if isinstance(row, Mapping) else lambda column: getattr(row, column)
    return ({"type": get("kind"), "site": get("site_id"), "course": get("course_id"), "learner": get("learner_id"),
             "event_id": get("event_id")} | _exception(event))


@dataclass(frozen=True)
class Stored:
    issuance_id: str
    status: str
    created: bool


def store_event(registry: Registry, event: dict[str, Any], auth: Authenticated | None, *,
                window: int = 300, actor: str = "moodle") -> Stored:
    """Claim the nonce and insert the event in one transaction; a duplicate answers with the first row.

    A new event (the common case) costs two plain INSERTs and the audit entry: the inbox row goes in
    with ON CONFLICT (idempotency_key) DO NOTHING instead of a SELECT first and an ORM flush, and only
    when nothing went in is the row that holds the key read. A concurrent twin of the same key makes
    our INSERT wait for its transaction and then do nothing (PostgreSQL), so the read sees the twin.

    On SQLite, events that arrive while another is being committed share the next commit (`_Group`).
    """
    waiting = _Waiting(event, idempotency_key(event), auth, window, actor if auth is None else f"moodle:{auth.key_id}")
    if registry.dialect != "sqlite":
        return _store_alone(registry, waiting)
    group = _group_of(registry)
    with group.queue_lock:
        group.queue.append(waiting)
    with group.commit_lock:
        if not waiting.done:  # else the thread before us committed it with its own
            with group.queue_lock:
                taken, group.queue = group.queue, []
            _store_together(registry, taken)
    if waiting.error is not None:
        raise waiting.error
    if waiting.stored is None:  # only if the thread storing it stopped half-way (it is then rolled back)
        raise RuntimeError("the event was not stored: the thread storing it stopped; send it again")
    return waiting.stored


@dataclass
class _Waiting:
    """One event on its way into the registry, and what came of it."""

    event: dict[str, Any]
    key: str
    auth: Authenticated | None
    window: int
    actor: str
    stored: Stored | None = None
    error: Exception | None = None
    done: bool = False


class _Group:
    """Group commit for SQLite's one writer (issue 18). Each commit there costs the WAL's write and fsync,
    0.4 ms of CPU per event, whatever the transaction holds; with a burst of events, the request threads
    queued on the write lock one by one. Now a thread queues its event and takes the commit lock; the
    thread that gets it stores every event queued by then in one transaction, and the threads behind it
    find theirs done. Every event is still committed before its request is answered. An event that
    fails (a replayed nonce, a row that vanished, a database error) rolls the shared transaction back,
    and each event of it is then stored alone, exactly as before: one event's fault never fails
    another's, and nothing of the shared attempt stays."""

    def __init__(self) -> None:
        self.commit_lock = threading.Lock()
        self.queue_lock = threading.Lock()
        self.queue: list[_Waiting] = []


_group_of: OnePer[_Group] = OnePer(_Group)  # one per registry


class _StoreAlone(Exception):
    """Inside a shared transaction: some event needs its own (rolls the shared one back)."""


def _store_together(registry: Registry, group: list[_Waiting]) -> None:
    if len(group) > 1:
        try:
            with registry.transaction() as session:
                stored = [_claim_and_store(session, waiting) for waiting in group]
                if any(result is None for result in stored):
                    raise _StoreAlone()
        except Exception:  # noqa: BLE001 - rolled back whole (a replayed nonce, a database error, a bug in
            pass  # one event's data...): each below, on its own, where its fault reaches its own request
        else:
            for waiting, result in zip(group, stored):
                waiting.stored, waiting.done = result, True
            return
    for waiting in group:
        try:
            waiting.stored = _store_alone(registry, waiting)
        except Exception as exc:  # noqa: BLE001 - handed to the request thread that owns the event
            waiting.error = exc
        waiting.done = True


def _claim_and_store(session: Session, waiting: _Waiting) -> Stored | None:
    if waiting.auth is not None:
        claim_nonce(session, waiting.auth, waiting.window)
    return _store_once(session, waiting.event, waiting.key, waiting.actor)


def _store_alone(registry: Registry, waiting: _Waiting) -> Stored:
    """The event in a transaction of its own, tried again when a twin committed first."""
    for _attempt in range(3):
        try:
            with registry.transaction() as session:
                stored = _claim_and_store(session, waiting)
                if stored is not None:
                    return stored
        except IntegrityError:
            continue  # a twin committed first; the next round finds it (its nonce claim rolled back with us)
    raise RuntimeError("could not store the event after three attempts")


def _store_once(session: Session, event: dict[str, Any], key: str, actor: str) -> Stored | None:
    """The inbox row for `event` inside the caller's transaction: the existing one, or a new one (and its
    audit entry); None when neither could be had (the row holding the key vanished: try again)."""
    if event["type"] == "issue_requested":
        existing = _by_key(session, key) or _active_issuance(session, event)
        if existing is not None:
            return Stored(existing.id, existing.status, False)
    values = issuance_values(event, key)
    if not _inserted(session, values):
        existing = _by_key(session, key)
        return None if existing is None else Stored(existing.id, existing.status, False)
    audit.append(session, actor, "event.accepted", values["id"], accepted_details(values, event))
    return Stored(values["id"], values["status"], True)


_ISSUANCES = Issuance.__table__
_BY_KEY = select(_ISSUANCES.c.id, _ISSUANCES.c.status).where(_ISSUANCES.c.idempotency_key == bindparam("key"))


def _by_key(session: Session, key: str):  # noqa: ANN202 - a Row or None
    """(id, status) of the inbox row holding `key`, or None."""
    return session.execute(_BY_KEY, {"key": key}).first()


def _inserted(session: Session, values: dict[str, Any]) -> bool:
    """Insert the inbox row unless its key is taken; whether it went in."""
    result = session.execute(_insert_new_issuance(session.get_bind().dialect.name), values)
    return result.first() is not None if result.returns_rows else result.rowcount == 1


@lru_cache(maxsize=None)
def _insert_new_issuance(dialect: str):  # noqa: ANN202 - SQLAlchemy's dialect-specific Insert
    """INSERT INTO issuances ... ON CONFLICT (idempotency_key) DO NOTHING, built once per dialect. Only a
    duplicate key is let pass: any other constraint still fails the transaction. PostgreSQL (psycopg)
    gives no row count for it, so there RETURNING says whether the row went in; SQLite counts rows (and
    has RETURNING only since 3.35)."""
    statement = insert_on_conflict(dialect)(_ISSUANCES).on_conflict_do_nothing(index_elements=["idempotency_key"])
    return statement.returning(_ISSUANCES.c.id) if dialect == "postgresql" else statement
