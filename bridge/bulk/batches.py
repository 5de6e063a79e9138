"""The registry side of a cohort file: a checked batch, its issuing, its progress and its results.

Issuing goes through the same intake as Moodle's events: each valid row's event is validated by
bridge/intake/events.validate_event and stored as an inbox row under the same idempotency key (site,
course, learner, completion), with its event.accepted audit entry; the worker seals and delivers it like
any other. Rows are stored in chunks (one transaction per CHUNK rows), so 10,000 rows are 20
transactions, not 10,000. A completion already in the inbox (the same file uploaded again, or the
learner's completion sent by Moodle too) is not stored again: the row points at the earlier issuance
and is counted as a duplicate. The batch itself goes from checked to issuing in one conditional update,
so two clicks on "Issue" issue once.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bridge.bulk import checking, columns, reading, wording
from bridge.bulk.checking import Checked, Problem
from bridge.edc import model
from bridge.intake.events import EventRejected, accepted_details, idempotency_key, new_issuance, validate_event
from bridge.registry import Registry, audit
from bridge.registry.models import BulkBatch, BulkRow, CourseSpecification, Issuance, utcnow

CHUNK = 500
# A batch still "issuing" this long after the click stopped part-way (the process died): it may be issued
# again, and the rows already stored are found by their keys, so nothing is stored twice.
STALE_ISSUING = dt.timedelta(minutes=10)
UNFINISHED = ("queued", "sealing", "issued")  # still moving: the progress page keeps refreshing
STATES = ("queued", "sealing", "issued", "delivered", "parked", "failed", "revoked")


class BulkError(ValueError):
    """Something staff asked that cannot be done; `code` is a wording key of the pages."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


def course_spec(session: Session, site: str, course_id: int) -> model.CourseSpec:
    """The course's stored, complete description, or BulkError: a template needs its languages, and a
    credential can only be issued from a complete one."""
    row = session.get(CourseSpecification, (site, course_id))
    if row is None or not row.valid:
        raise BulkError("bulk_no_course", f"course {site}/{course_id} has no complete credential description")
    return model.load_course_spec(json.loads(row.document))


def languages_of(session: Session, site: str, course_id: int) -> tuple[str, ...]:
    """The course's languages, primary first, for headers of files about a batch; the course's description
    may have changed (or become incomplete) since the upload, and those files are still wanted."""
    try:
        return course_spec(session, site, course_id).languages_primary_first
    except (BulkError, model.ModelError):
        return wording.LANGUAGES


def known_keys(session: Session, keys: list[str]) -> dict[str, tuple[str, str]]:
    """idempotency key -> (issuance id, status) of the completions already in the inbox."""
    found: dict[str, tuple[str, str]] = {}
    for start in range(0, len(keys), CHUNK):
        part = keys[start:start + CHUNK]
        for key, issuance_id, status in session.execute(
                select(Issuance.idempotency_key, Issuance.id, Issuance.status)
                .where(Issuance.idempotency_key.in_(part))):
            found[key] = (issuance_id, status)
    return found


@dataclass(frozen=True)
class Preview:
    checked: Checked
    keys: dict[int, str]  # row number -> idempotency key (valid rows)
    known: int  # valid rows whose completion is already in the inbox


def preview(registry: Registry, site: str, course_id: int, data: bytes, limits: reading.Limits,
            today: dt.date | None = None) -> Preview:
    """Read and check a file against the course, and count what was issued before; stores nothing."""
    sheet = reading.read(data, limits)
    with registry.reading() as session:
        spec = course_spec(session, site, course_id)
        checked = checking.check(sheet, spec, site, course_id, today=today)
        keys = {row.number: idempotency_key(row.event) for row in checked.valid}
        known = known_keys(session, list(keys.values()))
    return Preview(checked, keys, sum(1 for key in keys.values() if key in known))


def store_batch(registry: Registry, site: str, course_id: int, filename: str, data: bytes,
                limits: reading.Limits, actor: str, today: dt.date | None = None) -> str:
    """Check the file and keep the result as a batch (nothing is issued); its id. A refused file is
    audited too (bulk.refused, with the reason) and raises FileRefused."""
    digest = hashlib.sha256(data).hexdigest()
    name = _file_name(filename)
    try:
        result = preview(registry, site, course_id, data, limits, today)
    except reading.FileRefused as exc:
        with registry.transaction() as session:
            audit.append(session, actor, "bulk.refused", f"{site}/{course_id}",
                         {"file": name, "sha256": digest, "bytes": len(data), "reason": exc.code})
        raise
    checked = result.checked
    batch_id = str(uuid.uuid4())
    with registry.transaction() as session:
        session.add(BulkBatch(id=batch_id, site_id=site, course_id=course_id, filename=name,
                              file_kind=checked.kind, sha256=digest, rows_total=len(checked.rows),
                              rows_valid=len(checked.valid), rows_known=result.known, status="checked",
                              uploaded_by=actor, uploaded_at=utcnow(), created_count=0, duplicate_count=0))
        session.flush()
        records = [{"batch_id": batch_id, "row_number": row.number,
                    "cells": json.dumps(row.cells, ensure_ascii=False),
                    "event": json.dumps(row.event, ensure_ascii=False) if row.event else None,
                    "problems": json.dumps([p.as_json() for p in row.problems], ensure_ascii=False),
                    "idempotency_key": result.keys.get(row.number),
                    "outcome": "valid" if row.event else "refused", "issuance_id": None}
                   for row in checked.rows]
        for start in range(0, len(records), CHUNK):
            session.execute(insert(BulkRow), records[start:start + CHUNK])
        audit.append(session, actor, "bulk.uploaded", batch_id,
                     {"site": site, "course": course_id, "file": name, "sha256": digest, "kind": checked.kind,
                      "rows": len(checked.rows), "valid": len(checked.valid), "refused": len(checked.refused),
                      "issued_before": result.known})
    return batch_id


def _file_name(filename: str) -> str:
    """The upload's own name, without any folder, as shown and audited (never a path used)."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())[:200]
    return name or "upload"


@dataclass(frozen=True)
class Issued:
    created: int
    duplicates: int
    refused: int


def issue(registry: Registry, batch_id: str, actor: str, *, valid_only: bool,
          after_chunk: Callable[[], None] | None = None) -> Issued:
    """Turn the batch's valid rows into inbox rows. With refused rows and without `valid_only`, nothing
    is issued (BulkError bulk_needs_choice). Once issued, a batch is not issued again (bulk_already)."""
    claim(registry, batch_id, actor, valid_only=valid_only)
    return hand_over(registry, batch_id, actor, valid_only=valid_only, after_chunk=after_chunk)


def claim(registry: Registry, batch_id: str, actor: str, *, valid_only: bool) -> BulkBatch:
    """The batch, taken from checked to issuing in one conditional update (or BulkError saying why not):
    of two clicks, one claims it. A batch stalled in issuing (STALE_ISSUING) may be claimed again."""
    with registry.transaction() as session:
        batch = session.get(BulkBatch, batch_id)
        if batch is None:
            raise BulkError("not_found", f"no batch {batch_id}")
        if batch.rows_valid < batch.rows_total and not valid_only:
            raise BulkError("bulk_needs_choice", f"{batch.rows_total - batch.rows_valid} rows have problems: "
                                                 "nothing issued; choose to issue the valid rows only, or fix the file")
        if batch.rows_valid == 0:
            raise BulkError("bulk_issue_nothing", "no row of this batch can be issued")
        claimed = session.execute(update(BulkBatch).where(BulkBatch.id == batch_id, or_(
            BulkBatch.status == "checked",
            and_(BulkBatch.status == "issuing", BulkBatch.issued_at < utcnow() - STALE_ISSUING)))
            .values(status="issuing", valid_only=valid_only, issued_by=actor, issued_at=utcnow())).rowcount
        if not claimed:
            raise BulkError("bulk_already", f"batch {batch_id} was already issued")
        session.refresh(batch)
        return batch


def hand_over(registry: Registry, batch_id: str, actor: str, *, valid_only: bool,
              after_chunk: Callable[[], None] | None = None) -> Issued:
    """The claimed batch's rows to the intake, CHUNK rows per transaction (`after_chunk` after each, to
    wake the worker: sealing starts with the first chunk), then the batch marked issued and audited."""
    while True:
        with registry.reading() as session:
            rows = session.execute(select(BulkRow.row_number, BulkRow.event).where(
                BulkRow.batch_id == batch_id, BulkRow.outcome == "valid").order_by(BulkRow.row_number)
                .limit(CHUNK)).all()
        if not rows:
            break
        _store_chunk(registry, batch_id, rows, actor)
        if after_chunk is not None:
            after_chunk()
    with registry.transaction() as session:
        outcomes = dict(session.execute(select(BulkRow.outcome, func.count()).where(BulkRow.batch_id == batch_id)
                                        .group_by(BulkRow.outcome)).all())
        created, duplicates, refused = (outcomes.get(k, 0) for k in ("new", "duplicate", "refused"))
        session.execute(update(BulkBatch).where(BulkBatch.id == batch_id).values(
            status="issued", created_count=created, duplicate_count=duplicates))
        audit.append(session, actor, "bulk.issued", batch_id,
                     {"valid_only": valid_only, "new": created, "issued_before": duplicates, "refused": refused})
    return Issued(created, duplicates, refused)


def _store_chunk(registry: Registry, batch_id: str, rows: list, actor: str) -> None:
    """One transaction: each row's event through the intake's validation, stored under its key unless
    that completion is already in the inbox. A concurrent twin (Moodle sending the same completion at
    this moment) makes the insert fail: the chunk is taken again and then finds it."""
    events: dict[int, dict[str, Any]] = {}
    refused: dict[int, list[dict[str, Any]]] = {}
    for number, body in rows:
        try:
            events[number] = validate_event(body.encode("utf-8"))
        except EventRejected as exc:  # the checker let through what the intake refuses: a bug, said per row
            refused[number] = [{"column": "email", "code": "intake", "values": {"detail": str(exc)[:300]}}]
    for _attempt in range(3):
        try:
            with registry.transaction() as session:
                keys = {number: idempotency_key(event) for number, event in events.items()}
                known = known_keys(session, list(keys.values()))
                updates = []
                for number, event in events.items():
                    key = keys[number]
                    if key in known:
                        issuance_id, outcome = known[key][0], "duplicate"
                    else:
                        row = new_issuance(event, key)
                        session.add(row)
                        audit.append(session, actor, "event.accepted", row.id,
                                     accepted_details(row, event) | {"source": "bulk", "batch": batch_id,
                                                                     "row": number})
                        known[key] = (row.id, row.status)
                        issuance_id, outcome = row.id, "new"
                    updates.append({"batch_id": batch_id, "row_number": number, "outcome": outcome,
                                    "issuance_id": issuance_id})
                session.flush()  # the inbox rows first: a twin's unique key fails here, before any row is marked
                if updates:  # by primary key, as one executemany: one round trip, not one per row
                    session.execute(update(BulkRow), updates)
                for number, problems in refused.items():
                    session.execute(update(BulkRow).where(BulkRow.batch_id == batch_id, BulkRow.row_number == number)
                                    .values(outcome="refused", event=None, problems=json.dumps(problems)))
            return
        except IntegrityError:
            continue
    raise RuntimeError("could not store a chunk of the batch after three attempts")


# --- reading a batch back ------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    total: int  # rows that became (or are) issuances of this batch
    states: dict[str, int]
    finished: bool

    @property
    def done(self) -> int:
        """Delivered, or stopped for a reason staff see (parked, failed, revoked)."""
        return sum(self.states.get(s, 0) for s in STATES if s not in UNFINISHED)

    @property
    def sealed(self) -> int:
        """Sealed already (being mailed, or done)."""
        return self.total - self.states.get("queued", 0) - self.states.get("sealing", 0)


def stalled(batch: BulkBatch) -> bool:
    """Issuing stopped part-way (see STALE_ISSUING): the page offers to go on."""
    return batch.status == "issuing" and batch.issued_at is not None and batch.issued_at < utcnow() - STALE_ISSUING


def progress(session: Session, batch_id: str) -> Progress:
    """Where the batch's issuances are now (new ones and the earlier twins alike)."""
    counts = dict(session.execute(
        select(Issuance.status, func.count()).join(BulkRow, BulkRow.issuance_id == Issuance.id)
        .where(BulkRow.batch_id == batch_id).group_by(Issuance.status)).all())
    total = sum(counts.values())
    return Progress(total, counts, not any(counts.get(s) for s in UNFINISHED))


def handed_over(session: Session, batch_id: str) -> int:
    """Rows of the batch already stored in the inbox (new) or found there (duplicate)."""
    return session.execute(select(func.count()).select_from(BulkRow).where(
        BulkRow.batch_id == batch_id, BulkRow.outcome.in_(("new", "duplicate")))).scalar_one()


def problems_of(session: Session, batch_id: str, limit: int | None = None) -> Iterator[tuple[int, Problem]]:
    """(row number, problem) of every refused row, in row order."""
    query = (select(BulkRow.row_number, BulkRow.problems).where(BulkRow.batch_id == batch_id,
                                                                 BulkRow.outcome == "refused")
             .order_by(BulkRow.row_number))
    shown = 0
    for number, problems in session.execute(query.execution_options(yield_per=1000)):
        for data in json.loads(problems):
            if limit is not None and shown >= limit:
                return
            shown += 1
            yield number, Problem.from_json(data)


def problem_count(session: Session, batch_id: str) -> int:
    return sum(len(json.loads(p)) for (p,) in session.execute(
        select(BulkRow.problems).where(BulkRow.batch_id == batch_id, BulkRow.outcome == "refused")))


def refused_rows(session: Session, batch_id: str) -> Iterator[tuple[int, dict[str, str], list[Problem]]]:
    query = (select(BulkRow.row_number, BulkRow.cells, BulkRow.problems)
             .where(BulkRow.batch_id == batch_id, BulkRow.outcome.in_(("refused",))).order_by(BulkRow.row_number))
    for number, cells, problems in session.execute(query.execution_options(yield_per=1000)):
        yield number, json.loads(cells), [Problem.from_json(p) for p in json.loads(problems)]


def results(session: Session, batch_id: str, lang: str = "en") -> Iterator[list[Any]]:
    """One record per row: what became of it (new, duplicate, refused, not_issued) and where it is now."""
    query = (select(BulkRow, Issuance.status, Issuance.credential_id)
             .outerjoin(Issuance, Issuance.id == BulkRow.issuance_id)
             .where(BulkRow.batch_id == batch_id).order_by(BulkRow.row_number))
    for row, status, credential_id in session.execute(query.execution_options(yield_per=1000)):
        cells = json.loads(row.cells)
        problems = "; ".join(f"{columns.header(p.column, (lang,))}: {p.text(lang)}"
                             for p in map(Problem.from_json, json.loads(row.problems)))
        outcome = {"valid": "not_issued"}.get(row.outcome, row.outcome)
        yield [row.row_number, cells.get("given_names", ""), cells.get("family_name", ""), cells.get("email", ""),
               outcome, problems, row.issuance_id or "", status or "", credential_id or ""]
