"""Stacked credentials in the worker: when a learner's valid credentials meet a programme's rule, the
programme credential is queued, exactly once; when a part is revoked, the programme credential is
flagged for staff review (never revoked by itself).

The data flow, each step durable:
1. Storing a course credential whose course counts towards a programme adds a `programme_checks` row
   for its learner, in the same transaction (`note_stored_in`): a crash after the commit leaves the row.
2. `run_checks` (after each stored batch, and every few seconds from the scheduler) takes the oldest
   check (SKIP LOCKED on PostgreSQL, the write lock on SQLite), looks at the learner's valid credentials
   as committed (the part stored last always sees the others), and for each programme met adds the
   award and the programme credential's inbox row, then deletes the check: all in one transaction.
3. The award is unique per programme and learner: two workers meeting the same programme at once
   cannot both award it (the second insert waits for the first and fails; its savepoint is rolled back
   and it moves on). The inbox row is then sealed and delivered like any other.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bridge.edc import model, programmes
from bridge.registry import audit
from bridge.registry.models import (CourseSpecification, Credential, Issuance, Programme, ProgrammeAward,
                                    ProgrammeCheck, ProgrammePart, utcnow)
from bridge.worker.context import Conflict, Context, NotFound

log = logging.getLogger("edc.programmes")

EVENT_KEY = "programme"  # the event member naming the programme, in a programme credential's inbox row
KIND = "programme"  # the inbox row's kind
REVIEW_NOTE_MAX = 2000


# --- 1. a stored credential may complete a programme ---------------------------------------------


def note_stored_in(session, row: Issuance) -> bool:
    """In the transaction storing a course credential: queue its learner when the course is a part.

    Returns whether a check was queued (the worker then runs the checks at once; otherwise it need not
    open a write transaction for them). The lookup does not flush the session: the credentials of a
    batch stay pending, so they are inserted together at commit rather than one flush per credential.
    """
    is_part = _parts_seen(session)
    key = (row.site_id, row.course_id)
    if key not in is_part:  # asked once per course and transaction: a batch is mostly one course's
        with session.no_autoflush:
            is_part[key] = session.execute(select(ProgrammePart.programme_id).where(
                ProgrammePart.site_id == row.site_id, ProgrammePart.course_id == row.course_id).limit(1)
            ).first() is not None
    if is_part[key]:
        session.add(ProgrammeCheck(site_id=row.site_id, learner_id=row.learner_id))
    return is_part[key]


def _parts_seen(session) -> dict[tuple[str, int], bool]:
    """Whether each course is a programme's part, as read in this transaction (dropped at its end)."""
    transaction = session.get_transaction()
    seen = session.info.get(_PARTS_SEEN)
    if seen is None or seen[0] is not transaction:
        seen = session.info[_PARTS_SEEN] = (transaction, {})
    return seen[1]


_PARTS_SEEN = "edc.programme_parts_seen"


# --- 2. checks -----------------------------------------------------------------------------------


def run_checks(ctx: Context, limit: int = 100) -> int:
    """Act on up to `limit` pending checks, a batch (EDC_BATCH) per transaction; returns the awards made.

    One transaction per batch, as the issuing worker stores its credentials: on SQLite every commit waits
    for the disk. When a batch fails, its checks are taken one by one, so one bad row holds up no other."""
    awarded = taken = 0
    while taken < limit:
        try:
            with ctx.registry.transaction() as session:
                checks = _claim(session, min(ctx.settings.batch, limit - taken))
                made = sum(len(check_learner_in(session, site_id, learner_id))
                           for site_id, learner_id in sorted({(c.site_id, c.learner_id) for c in checks}))
                for check in checks:
                    session.delete(check)
        except Exception:  # noqa: BLE001 - named below, one by one
            log.exception("a batch of programme checks failed; checking them one by one")
            return awarded + _one_by_one(ctx, limit - taken)
        if not checks:
            break
        taken, awarded = taken + len(checks), awarded + made
    if awarded:
        ctx.wake.set()
    return awarded


def _claim(session, limit: int, after: int = 0) -> list[ProgrammeCheck]:
    """The oldest pending checks no other worker holds (SKIP LOCKED; SQLite's write lock is the whole file)."""
    return session.execute(select(ProgrammeCheck).where(ProgrammeCheck.id > after).order_by(ProgrammeCheck.id)
                           .limit(limit).with_for_update(skip_locked=True)).scalars().all()


def _one_by_one(ctx: Context, limit: int) -> int:
    awarded = after = 0
    for _ in range(limit):
        try:
            with ctx.registry.transaction() as session:
                checks = _claim(session, 1, after)
                if not checks:
                    break
                after = checks[0].id
                awarded += len(check_learner_in(session, checks[0].site_id, checks[0].learner_id))
                session.delete(checks[0])
        except Exception:  # noqa: BLE001 - this row stays for a later run; the ones after it go on
            log.exception("programme check %s failed; it stays queued", after)
    if awarded:
        ctx.wake.set()
    return awarded


def check_learner_in(session, site_id: str, learner_id: str) -> list[str]:
    """Award every valid programme of the site the learner now meets and does not hold; the award ids."""
    done = set(session.execute(select(ProgrammeAward.programme_id).where(
        ProgrammeAward.site_id == site_id, ProgrammeAward.learner_id == learner_id)).scalars())
    rows = session.execute(select(Programme).where(Programme.site_id == site_id, Programme.valid.is_(True))
                           .order_by(Programme.programme_id)).scalars().all()
    made = []
    for row in rows:
        if row.programme_id in done:
            continue
        programme = _programme(row.document)
        held, facts = _held(session, site_id, learner_id, programme.parts)
        chosen = programmes.choose(programme, held)
        if chosen is None:
            continue
        award_id = _award(session, row, chosen, facts, learner_id)
        if award_id:
            made.append(award_id)
    return made


@lru_cache(maxsize=64)
def _programme(document: str) -> programmes.Programme:
    """A stored (valid) programme, parsed once per text: validating it costs ~10 ms, a check runs per part stored."""
    return programmes.load_programme(json.loads(document))


def _held(session, site_id: str, learner_id: str, courses: tuple[int, ...]):
    """The learner's valid credentials of the courses (issued, not revoked, not superseded) and their facts."""
    rows = session.execute(
        select(Credential, Issuance).join(Issuance, Issuance.id == Credential.issuance_id).where(
            Credential.site_id == site_id, Credential.learner_id == learner_id, Credential.course_id.in_(courses),
            Credential.status == "issued", Credential.superseded_by.is_(None))).all()
    descriptions = {row.course_id: json.loads(row.document) for row in session.execute(select(CourseSpecification).where(
        CourseSpecification.site_id == site_id, CourseSpecification.course_id.in_(courses))).scalars()}
    held, facts = [], {}
    for credential, issuance in rows:
        description = descriptions.get(credential.course_id) or {}
        ects = float((description.get("workload") or {}).get("ects") or 0)
        awarded = issuance.completed_at or credential.issued_at
        held.append(programmes.Held(credential.id, credential.course_id, ects, awarded))
        facts[credential.id] = {
            "credential_id": credential.id, "course": credential.course_id, "title": json.loads(credential.title),
            "awarded_at": awarded.isoformat(), "ects": ects, "awarding_body": description.get("awarding_body"),
            "learner": json.loads(issuance.payload).get("learner"),
        }
    return held, facts


def _idempotency_key(site_id: str, programme_id: str, learner_id: str) -> str:
    """The inbox's own guard against a second programme credential (64 characters, whatever the ids)."""
    digest = hashlib.sha256(json.dumps([site_id, programme_id, learner_id]).encode("utf-8")).hexdigest()
    return f"programme-{digest[:54]}"


def _award(session, row: Programme, chosen: tuple[programmes.Held, ...], facts: dict[str, dict], learner_id: str) -> str | None:
    """The award and the programme credential's inbox row; None when a peer awarded it first."""
    last = max(chosen, key=lambda h: (h.awarded_at, h.credential_id))
    parts = [{key: value for key, value in facts[h.credential_id].items() if key != "learner"} for h in chosen]
    issuance_id, award_id = str(uuid.uuid4()), str(uuid.uuid4())
    event = {"event_id": f"programme:{row.programme_id}:{learner_id}", "type": KIND,
             "site": {"id": row.site_id}, "course": {"id": last.course}, "learner": facts[last.credential_id]["learner"],
             "completed_at": last.awarded_at.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z"),
             EVENT_KEY: {"id": row.programme_id}, "parts": parts}
    try:
        with session.begin_nested():
            session.add(Issuance(
                id=issuance_id, idempotency_key=_idempotency_key(row.site_id, row.programme_id, learner_id),
                event_id=event["event_id"][:255], kind=KIND, site_id=row.site_id, course_id=last.course,
                learner_id=learner_id, payload=json.dumps(event, ensure_ascii=False, sort_keys=True),
                completed_at=last.awarded_at, requested_by=None, status="queued", attempts=0))
            session.flush()
            session.add(ProgrammeAward(id=award_id, site_id=row.site_id, programme_id=row.programme_id,
                                       learner_id=learner_id, issuance_id=issuance_id, status="awarded",
                                       parts=json.dumps([{"credential_id": h.credential_id, "course": h.course}
                                                         for h in chosen])))
            session.flush()
    except IntegrityError:
        log.info("programme %s/%s was already awarded to learner %s", row.site_id, row.programme_id, learner_id)
        return None
    audit.append(session, "worker", "programme.awarded", f"{row.site_id}/{row.programme_id}",
                 {"award": award_id, "issuance": issuance_id, "learner": learner_id,
                  "parts": [h.credential_id for h in chosen]})
    return award_id


# --- 3. sealing a programme credential -----------------------------------------------------------


def is_programme_event(event: dict[str, Any]) -> bool:
    return isinstance(event.get(EVENT_KEY), dict)


def description_for(session, row: Issuance, event: dict[str, Any]) -> tuple[str | None, list | None]:
    """The programme credential's description (JSON text) and what is wrong with it (None: nothing)."""
    programme_id = event[EVENT_KEY].get("id")
    stored = session.get(Programme, (row.site_id, programme_id))
    if stored is None:
        return None, [{"pointer": "", "message": f"programme {programme_id} of site {row.site_id} is no longer stored"}]
    if not stored.valid:
        return None, json.loads(stored.problems)
    return json.dumps(json.loads(stored.document)["credential"], ensure_ascii=False, sort_keys=True), None


def parts_of(event: dict[str, Any]) -> tuple[model.Part, ...]:
    """The parts a programme credential names (hasPart), as the award recorded them; () for a course's."""
    if not is_programme_event(event):
        return ()
    return tuple(model.Part(
        credential_id=part["credential_id"], title=model.Text(part["title"]),
        awarded_at=dt.datetime.fromisoformat(part["awarded_at"]),
        awarding_body=model.load_organisation(part["awarding_body"]), ects=part.get("ects"))
        for part in event.get("parts", []))


# --- 4. a part revoked, or replaced ----------------------------------------------------------------


def _awards_naming(session, credential: Credential) -> list[ProgrammeAward]:
    awards = session.execute(select(ProgrammeAward).where(
        ProgrammeAward.site_id == credential.site_id, ProgrammeAward.learner_id == credential.learner_id)
        .with_for_update()).scalars().all()
    return [a for a in awards if any(p["credential_id"] == credential.id for p in json.loads(a.parts))]


def part_revoked_in(session, credential: Credential, reason: str, by: str, superseded_by: str | None) -> int:
    """In the revocation's transaction. Revoked: the programme credentials naming it are flagged for
    review (audited); nobody's credential is revoked here. Superseded by a corrected copy: the award
    names the copy from now on, so revoking the copy later still flags it."""
    flagged = 0
    for award in _awards_naming(session, credential):
        programme_credential = session.get(Issuance, award.issuance_id).credential_id
        subject = programme_credential or award.id
        if superseded_by:
            award.parts = json.dumps([dict(p, credential_id=superseded_by) if p["credential_id"] == credential.id
                                      else p for p in json.loads(award.parts)])
            audit.append(session, by, "programme.part_superseded", subject,
                         {"award": award.id, "part": credential.id, "superseded_by": superseded_by})
            continue
        reasons = json.loads(award.review_reasons or "[]")
        reasons.append({"credential_id": credential.id, "reason": reason, "by": by, "at": utcnow().isoformat()})
        award.status, award.review_reasons, award.reviewed_by, award.reviewed_at = "review", json.dumps(reasons), None, None
        audit.append(session, by, "programme.review_needed", subject,
                     {"award": award.id, "programme": f"{award.site_id}/{award.programme_id}",
                      "revoked_part": credential.id, "reason": reason})
        flagged += 1
    return flagged


def mark_reviewed(ctx: Context, award_id: str, by: str, note: str) -> ProgrammeAward:
    """Staff looked at a flagged programme credential (and revoked it, or kept it): the flag is cleared."""
    note = " ".join((note or "").split())[:REVIEW_NOTE_MAX]
    with ctx.registry.transaction() as session:
        award = session.get(ProgrammeAward, award_id, with_for_update=True)
        if award is None:
            raise NotFound(award_id)
        if award.status != "review":
            raise Conflict(f"programme award {award_id} is not waiting for review", code="not_flagged")
        award.status, award.reviewed_by, award.reviewed_at, award.review_note = "reviewed", by, utcnow(), note or None
        programme_credential = session.get(Issuance, award.issuance_id).credential_id
        audit.append(session, by, "programme.reviewed", programme_credential or award.id,
                     {"award": award.id, "note": note or None})
    return award
