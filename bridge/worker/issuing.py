"""Issuing: claim queued events in batches, seal each, store the batch's credentials in one transaction.

Worker threads (EDC_WORKERS) each claim up to EDC_BATCH due inbox rows under a lease (one row when
that is all there is, so an idle sidecar answers as fast as ever). The claim is a row lock with SKIP
LOCKED on PostgreSQL (so several sidecar processes share one registry without issuing twice) and the
database write lock on SQLite. The rows are sealed one by one; then every credential, its deliveries,
its audit entry and its inbox row's new status commit in one transaction that re-checks each lease:
a worker that lost a lease (it was too slow, or presumed dead) stores nothing for that row. Batching
matters because a registry write costs more than the row it writes (on SQLite all writers queue on
one lock).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import time
from dataclasses import dataclass

from sqlalchemy import insert, or_, select, update

from bridge.edc import formats, ltv, model, status
from bridge.edc.timestamps import TsaUnavailableError
from bridge.registry import audit, documents
from bridge.registry.models import CourseSpecification, Credential, CredentialDocument, Delivery, Issuance, utcnow
from bridge.registry.links import new_link
from bridge.worker.context import Context, backoff
from bridge.worker import programmes, upkeep
from bridge.worker.corrections import delivery_values, revoke_in

log = logging.getLogger("edc.worker")


def claim_issuances(ctx: Context, worker_id: str, limit: int = 1) -> list[str]:
    """Take up to `limit` due queued rows under one lease, oldest first; [] when there is nothing to do.

    Taking several at once lets the worker store their credentials in one transaction: on a busy
    registry each write transaction costs far more than the row it writes.
    """
    now = utcnow()
    inbox = Issuance.__table__.c  # plain SQL, a SELECT of ids and one UPDATE: the ORM loaded every row whole
    with ctx.registry.transaction() as session:
        ids = list(session.execute(
            select(inbox.id)
            .where(inbox.status == "queued", or_(inbox.next_attempt_at.is_(None), inbox.next_attempt_at <= now))
            .order_by(inbox.received_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).scalars())
        if ids:
            session.execute(Issuance.__table__.update().where(inbox.id.in_(ids)).values(
                status="sealing", claimed_by=worker_id,
                claimed_until=now + dt.timedelta(seconds=ctx.settings.lease_seconds)))
        return ids


def claim_issuance(ctx: Context, worker_id: str) -> str | None:
    """Take one due queued row under a lease; None when there is nothing to do."""
    claimed = claim_issuances(ctx, worker_id, 1)
    return claimed[0] if claimed else None


def requeue_expired_leases(ctx: Context) -> int:
    """Crash recovery: rows left 'sealing' past their lease go back to the queue."""
    with ctx.registry.transaction() as session:
        n = session.execute(
            update(Issuance).where(Issuance.status == "sealing", Issuance.claimed_until < utcnow())
            .values(status="queued", claimed_by=None, claimed_until=None, updated_at=utcnow())
        ).rowcount or 0
    if n:
        log.warning("re-queued %d issuance(s) whose worker stopped before finishing", n)
    return n


def _release(ctx: Context, issuance_id: str, worker_id: str, *, status: str, error: str | None = None,
             parked_reason: list | None = None, retry: bool = False, counts: bool = True) -> None:
    """Give a claimed row back. `counts` False: an outage outside us (the TSA) that must never park work."""
    with ctx.registry.transaction() as session:
        row = session.get(Issuance, issuance_id, with_for_update=True)
        if row is None or row.status != "sealing" or row.claimed_by != worker_id:
            return
        row.claimed_by, row.claimed_until, row.last_error = None, None, error
        if retry and not counts:
            row.next_attempt_at = utcnow() + backoff(row.attempts + 1, ctx.settings.retry_base_seconds,
                                                     ctx.settings.retry_max_seconds)
        elif retry:
            row.attempts += 1
            if row.attempts >= ctx.settings.max_delivery_attempts:
                status = "failed"
            else:
                row.next_attempt_at = utcnow() + backoff(row.attempts, ctx.settings.retry_base_seconds, ctx.settings.retry_max_seconds)
        row.status = status
        if parked_reason is not None:
            row.parked_reason = json.dumps(parked_reason, ensure_ascii=False)
        if status in ("parked", "failed"):
            audit.append(session, "worker", f"issuance.{status}", issuance_id,
                         {"error": error, "problems": parked_reason})


def _spec_problems(spec_row: CourseSpecification | None, site: str, course: int) -> list[dict] | None:
    if spec_row is None:
        return [{"pointer": "", "message": f"no credential description stored for course {course} of site "
                                           f"{site} yet (the teacher fills it in Moodle)"}]
    if not spec_row.valid:
        return json.loads(spec_row.problems)
    return None


def _seal(ctx: Context, credential: model.Credential, fmt: str) -> bytes:
    """Seal at the configured level (EDC_SEAL_LEVEL, EDC_TSA_URL, EDC_TSA_POLICY).

    With policy `wait` a TSA outage raises TsaUnavailableError and the issuance stays queued; with
    `seal-then-stamp` the B-B document is stored and delivered, and the missing time-stamp is logged
    and audited (`credential.timestamp_pending`); the scheduled job upkeep.complete_pending adds it later.
    """
    seal = ctx.seals.current()
    options = {**ctx.seal_level.issue_kwargs(), "revocation_source": ctx.revocation_source}
    try:
        return formats.get(fmt).issue(credential, seal, checks=ctx.checks, **options)
    except ltv.TimestampPending as pending:
        log.warning("credential %s sealed at B-B, time-stamp pending: %s", credential.issuance.credential_id,
                    pending.reason)
        with ctx.registry.transaction() as session:
            audit.append(session, "worker", "credential.timestamp_pending", credential.issuance.credential_id,
                         {"reason": pending.reason, "wanted_level": pending.wanted_level})
        return pending.sealed


@dataclass
class _Sealed:
    """A credential sealed by this worker and not yet stored."""

    issuance_id: str
    credential: model.Credential
    document: bytes
    fmt: str
    supersedes: str | None
    alternates: tuple[tuple[str, bytes], ...] = ()  # the same credential in the course's other formats
    completes_part: bool = False  # set when stored: its course is part of a programme (a check was queued)


def process_issuance(ctx: Context, issuance_id: str, worker_id: str) -> str | None:
    """Seal and store one claimed row; returns the new credential id (None if parked, retried or lost)."""
    made = process_issuances(ctx, [issuance_id], worker_id)
    return made[0] if made else None


def process_issuances(ctx: Context, issuance_ids: list[str], worker_id: str) -> list[str]:
    """Seal the claimed rows one by one, then store all their credentials in one transaction.

    Returns the ids of the credentials stored. A row that cannot be sealed (description incomplete,
    token away) is given back on its own and does not hold back the others.
    """
    with ctx.registry.reading() as session:  # the batch's rows in one read
        rows = {row.id: row for row in session.execute(select(Issuance).where(Issuance.id.in_(issuance_ids))).scalars()}
        specs = {key: session.get(CourseSpecification, key)  # held here: one read per course, not per row
                 for key in {(row.site_id, row.course_id) for row in rows.values()}}
        inputs = [_issuance_input(session, rows.get(issuance_id), worker_id, specs) for issuance_id in issuance_ids]
    sealed = [s for s in (_seal_one(ctx, worker_id, *item) for item in inputs if item is not None) if s is not None]
    stored = _store_all(ctx, worker_id, sealed)
    if stored:
        ctx.deliveries_due.set()
        if any(item.completes_part for item in sealed):  # else no check is pending for these (the scheduler
            _programme_checks(ctx)                       # still runs the checks every few seconds)
    if ctx.metrics:
        for _ in stored:
            ctx.metrics.credentials_issued.inc()
    return stored


def _programme_checks(ctx: Context) -> None:
    """Programmes the stored credentials may have completed, at once; the scheduler retries what fails."""
    try:
        programmes.run_checks(ctx)
    except Exception:  # noqa: BLE001 - the checks stay in the registry; a scheduled run takes them later
        log.exception("programme checks failed; they are retried by the scheduler")


def _issuance_input(session, row: Issuance | None, worker_id: str,
                    specs: dict[tuple[str, int], CourseSpecification | None]) -> tuple | None:
    """(id, event, stored description or None, what is wrong with it, supersedes) of a row still ours."""
    if row is None or row.status != "sealing" or row.claimed_by != worker_id:
        return None
    issuance_id = row.id
    event = json.loads(row.payload)
    if programmes.is_programme_event(event):  # a programme credential: the programme's own description
        return (issuance_id, event, *programmes.description_for(session, row, event), row.supersedes)
    spec_row = specs[(row.site_id, row.course_id)]
    spec_doc = spec_row.document if spec_row is not None and spec_row.valid else None
    return (issuance_id, event, spec_doc, _spec_problems(spec_row, row.site_id, row.course_id), row.supersedes)


def _seal_one(ctx: Context, worker_id: str, issuance_id: str, event: dict, spec_doc: str | None,
              problems: list | None, supersedes: str | None) -> _Sealed | None:
    if problems is not None:
        _release(ctx, issuance_id, worker_id, status="parked", parked_reason=problems,
                 error="the course's credential description is missing or incomplete")
        return None
    try:
        spec = ctx.course_spec(spec_doc)
        learner = model.load_learner(event["learner"])
    except model.ModelError as exc:
        _release(ctx, issuance_id, worker_id, status="parked", parked_reason=exc.as_json(), error=str(exc))
        return None
    completed = event.get("completed_at")
    awarded = dt.datetime.fromisoformat(completed.replace("Z", "+00:00")) if completed else None
    issuance = model.Issuance.new(awarded, grade=event.get("grade"), valid_for=spec.valid_for)
    # Every credential names its public status resource (a format without such a field leaves it out).
    issuance = dataclasses.replace(issuance, status_url=status.status_url(ctx.settings.public_url,
                                                                          issuance.credential_id))
    credential = model.Credential(spec, learner, issuance, programmes.parts_of(event))
    try:  # the course's own choice (one format or several), else the site default; never another in its place
        chosen = formats.for_course(spec.source, ctx.settings.formats)
    except formats.UnknownFormat as exc:
        _release(ctx, issuance_id, worker_id, status="parked", error=str(exc),
                 parked_reason=[{"pointer": "/format", "message": str(exc)}])
        return None
    started = time.perf_counter()
    try:
        sealed = [(name, _seal(ctx, credential, name)) for name in chosen]  # one credential id, each format
    except TsaUnavailableError as exc:  # the TSA is down: wait, however long, never park (policy `wait`)
        log.warning("issuance %s waits for the time-stamping authority: %s", issuance_id, exc)
        _release(ctx, issuance_id, worker_id, status="queued", error=f"TSA unavailable: {exc}", retry=True,
                 counts=False)
        return None
    except Exception as exc:  # noqa: BLE001 - token away, schema bug: recorded, retried, then parked as failed
        cause = type(exc).__name__
        if ctx.metrics:
            ctx.metrics.issue_failures.labels(cause).inc()
        log.error("sealing issuance %s failed: %s", issuance_id, exc)
        _release(ctx, issuance_id, worker_id, status="queued", error=f"{cause}: {exc}", retry=True)
        return None
    if ctx.metrics:
        ctx.metrics.seal_seconds.observe(time.perf_counter() - started)
    (fmt, document), *alternates = sealed
    return _Sealed(issuance_id, credential, document, fmt, supersedes, tuple(alternates))


PLACEHOLDER_LEARNER = model.Learner(id="0", email="learner@placeholder.invalid", given_names="Placeholder",
                                    family_name="Learner", lang="en")


def dictionary_seed(credential: model.Credential, document: bytes, fmt: str | None = None) -> bytes:
    """The bytes a course's credentials share, with no real person in them.

    The course's unsealed document for a placeholder learner (specification, outcomes, awarding body,
    images), followed by the seal's skeleton from the first sealed document (algorithms, the seal's
    certificate chain, the XAdES or JAdES structure; digests and a signature value, but no personal
    data): each format knows its own (bridge/edc/formats.py). A learner's erasure request then never
    touches the dictionary the whole course depends on.
    """
    placeholder = model.Credential(credential.spec, PLACEHOLDER_LEARNER,
                                   model.Issuance.new(credential.issuance.awarded_at, valid_for=credential.spec.valid_for))
    chosen = formats.get(fmt) if fmt else (formats.detect(document) or formats.default())
    return chosen.dictionary_seed(placeholder, document)


def _store_all(ctx: Context, worker_id: str, sealed: list[_Sealed]) -> list[str]:
    """Store every sealed credential in one transaction; if that fails, each in its own.

    The one-by-one fallback keeps a single bad row (say, a re-issue whose original was revoked in the
    meantime) from taking the rest of the batch down with it: they still commit, and the bad one is
    logged and left to its lease, as a lone row would be.
    """
    if not sealed:
        return []
    if len(sealed) > 1:
        try:
            with ctx.registry.transaction() as session:
                rows = _locked_issuances(session, [item.issuance_id for item in sealed])
                stored = [cid for item in sealed if (cid := _store_in(session, ctx, worker_id, item, rows))]
                _add_deliveries(session, ctx, stored)
                return stored
        except Exception:  # noqa: BLE001 - retried row by row just below, where the culprit is named
            log.warning("storing a batch of %d credentials failed; storing them one by one", len(sealed))
    stored = []
    for item in sealed:
        try:
            with ctx.registry.transaction() as session:
                rows = _locked_issuances(session, [item.issuance_id])
                cid = _store_in(session, ctx, worker_id, item, rows)
                _add_deliveries(session, ctx, [cid] if cid else [])
        except Exception:  # noqa: BLE001 - its lease runs out and it is sealed again
            log.exception("storing the credential of issuance %s failed", item.issuance_id)
            continue
        if cid:
            stored.append(cid)
    return stored


def _add_deliveries(session, ctx: Context, credential_ids: list[str]) -> None:
    """Each stored credential's pending deliveries, in one INSERT for the batch (after the credentials).

    Added as objects, the ORM wrote them one statement each (it reads back every generated id);
    the worker never needs those ids here.
    """
    values = [row for cid in credential_ids for row in delivery_values(ctx, cid, "issued")]
    if values:
        session.flush()  # the credentials first (their ids are the deliveries' foreign key)
        session.execute(insert(Delivery.__table__), values)  # plain SQL: the ORM's bulk path costs more


def _locked_issuances(session, issuance_ids: list[str]) -> dict[str, Issuance]:
    """The inbox rows, locked (PostgreSQL) until the transaction ends, in one query for the batch."""
    rows = session.execute(select(Issuance).where(Issuance.id.in_(issuance_ids)).with_for_update()).scalars()
    return {row.id: row for row in rows}


def _store_in(session, ctx: Context, worker_id: str, item: _Sealed, rows: dict[str, Issuance]) -> str | None:
    """Add one credential, its deliveries and its audit entry, if the row's lease is still ours.

    Nothing is flushed here: the whole batch goes to the database at commit, in as few statements as
    SQLAlchemy can make of it (the inserts are ordered by the tables' foreign keys).
    """
    credential, document, fmt, supersedes = item.credential, item.document, item.fmt, item.supersedes
    cid = credential.issuance.credential_id
    row = rows.get(item.issuance_id)
    if row is None or row.status != "sealing" or row.claimed_by != worker_id:
        log.warning("lease on issuance %s was lost before storing; the sealed document is dropped", item.issuance_id)
        return None
    packed, dictionary_id, digest = documents.pack_for_course(
        session, ctx.registry.dictionaries, row.site_id, row.course_id, document,
        seed=lambda: dictionary_seed(credential, document, fmt))
    spec, learner = credential.spec, credential.learner
    # for the jobs of bridge/worker/upkeep.py, over every format the credential is stored in
    pending, proof_expires_at = upkeep.long_term_facts(ctx, document, *(data for _, data in item.alternates))
    session.add(Credential(
        id=cid, issuance_id=row.id, site_id=row.site_id, course_id=row.course_id, learner_id=row.learner_id,
        learner_email=learner.email, learner_name=learner.full_name, learner_lang=learner.lang,
        title=json.dumps(dict(spec.title), ensure_ascii=False),
        issuer_name=json.dumps(dict(spec.awarding_body.name), ensure_ascii=False),
        issued_at=credential.issuance.issued_at, status="issued", format=fmt, document=packed.data,
        codec=packed.codec, dictionary_id=dictionary_id, size=len(document), sha256=digest,
        supersedes=supersedes, timestamp_pending=pending, proof_expires_at=proof_expires_at))
    for other, data in item.alternates:  # the course's other formats, under the same id
        packed_other, other_dictionary, other_digest = documents.pack_for_course(
            session, ctx.registry.dictionaries, row.site_id, row.course_id, data)
        session.add(CredentialDocument(credential_id=cid, format=other, document=packed_other.data,
                                       codec=packed_other.codec, dictionary_id=other_dictionary, size=len(data),
                                       sha256=other_digest))
    session.add(new_link(cid))  # the page link is made now, so delivering only reads (deliveries: _add_deliveries)
    audit.append(session, "worker", "credential.issued", cid,
                 {"issuance": row.id, "sha256": digest, "format": fmt,
                  **({"also": [other for other, _ in item.alternates]} if item.alternates else {}), "site": row.site_id,
                  "course": row.course_id, "learner": row.learner_id, "supersedes": supersedes})
    if supersedes:
        revoke_in(session, ctx, supersedes, "superseded by a corrected credential " + cid, "worker",
                   superseded_by=cid)
    if not credential.parts:  # a course credential may complete a programme (a programme's never does)
        item.completes_part = programmes.note_stored_in(session, row)
    row.status = "issued" if ctx.settings.channels else "delivered"
    row.credential_id, row.claimed_by, row.claimed_until, row.last_error = cid, None, None, None
    return cid
