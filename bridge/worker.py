"""Issuance off the request path: claim queued events, seal, store, deliver; retry and recover.

Worker threads (EDC_WORKERS) each claim up to EDC_BATCH due inbox rows under a lease (one row when
that is all there is, so an idle sidecar answers as fast as ever). The claim is a row lock with SKIP
LOCKED on PostgreSQL (so several sidecar processes share one registry without issuing twice) and the
database write lock on SQLite. The rows are sealed one by one; then every credential, its deliveries,
its audit entry and its inbox row's new status commit in one transaction that re-checks each lease:
a worker that lost a lease (it was too slow, or presumed dead) stores nothing for that row. Batching
matters because a registry write costs more than the row it writes (on SQLite all writers queue on
one lock). Delivery threads likewise record a batch of outcomes and claim the next batch at once. APScheduler runs the periodic jobs:
delivery retries with exponential backoff, re-queueing of expired leases (a crash mid-issue), the
seal-expiry check and nonce cleanup.
"""
from __future__ import annotations

import datetime as dt
import inspect
import json
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import and_, or_, select, update

from bridge.delivery import Channel, DeliveryError, DeliveryJob
from bridge.edc import ltv, model
from bridge.edc.timestamps import TsaUnavailableError
from bridge.registry import Registry, audit, documents
from bridge.registry.models import (CourseSpecification, Credential, Delivery, Issuance, Revocation, utcnow)
from bridge.settings import Settings
from bridge.web.public import new_link, public_url

log = logging.getLogger("edc.worker")
MAX_BACKOFF_SECONDS = 3600.0


@dataclass
class Context:
    """What the worker and the API share: settings, registry, the seal, the schema and the channels."""

    settings: Settings
    registry: Registry
    seals: Any  # hsm.signer.SealProvider (or anything with .current())
    schema: Any = None  # bridge.edc.schema_check.EdcSchema | None
    channels: dict[str, Channel] = field(default_factory=dict)
    metrics: Any = None  # bridge.metrics.Metrics
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")
    wake: threading.Event = field(default_factory=threading.Event)  # new work for the issuing threads
    deliveries_due: threading.Event = field(default_factory=threading.Event)  # ... for the delivery threads
    seal_level: Any = field(default_factory=lambda: ltv.SealLevelSettings.from_env())  # EDC_SEAL_LEVEL, EDC_TSA_*
    _specs: dict = field(default_factory=dict, repr=False)  # parsed descriptions by their stored text

    def course_spec(self, document: str) -> model.CourseSpec:
        """Validating a description costs ~10 ms; it changes rarely, so keep the parsed one per text."""
        spec = self._specs.get(document)
        if spec is None:
            spec = model.load_course_spec(json.loads(document))
            if len(self._specs) > 256:
                self._specs.clear()
            self._specs[document] = spec
        return spec


def backoff(attempts: int, base: float, ceiling: float = MAX_BACKOFF_SECONDS) -> dt.timedelta:
    return dt.timedelta(seconds=min(ceiling, base * 2 ** max(0, attempts - 1)))


# --- claiming ------------------------------------------------------------------------------------


def claim_issuances(ctx: Context, worker_id: str, limit: int = 1) -> list[str]:
    """Take up to `limit` due queued rows under one lease, oldest first; [] when there is nothing to do.

    Taking several at once lets the worker store their credentials in one transaction: on a busy
    registry each write transaction costs far more than the row it writes.
    """
    now = utcnow()
    with ctx.registry.transaction() as session:
        rows = session.execute(
            select(Issuance)
            .where(Issuance.status == "queued", or_(Issuance.next_attempt_at.is_(None), Issuance.next_attempt_at <= now))
            .order_by(Issuance.received_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).scalars().all()
        until = now + dt.timedelta(seconds=ctx.settings.lease_seconds)
        for row in rows:
            row.status, row.claimed_by, row.claimed_until = "sealing", worker_id, until
        return [row.id for row in rows]


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


# --- issuing -------------------------------------------------------------------------------------


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
    and audited (`credential.timestamp_pending`) so it can be added later with ltv.complete_pending.
    """
    seal = ctx.seals.current()
    options = ctx.seal_level.issue_kwargs()
    try:
        if fmt == "elm3-jsonld":
            from bridge.edc.elm3_issuer import issue_elm3

            return issue_elm3(credential, seal, **options)
        from bridge.edc.issuer import issue_edc_xml

        return issue_edc_xml(credential, seal, schema=ctx.schema, **options)
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


def process_issuance(ctx: Context, issuance_id: str, worker_id: str) -> str | None:
    """Seal and store one claimed row; returns the new credential id (None if parked, retried or lost)."""
    made = process_issuances(ctx, [issuance_id], worker_id)
    return made[0] if made else None


def process_issuances(ctx: Context, issuance_ids: list[str], worker_id: str) -> list[str]:
    """Seal the claimed rows one by one, then store all their credentials in one transaction.

    Returns the ids of the credentials stored. A row that cannot be sealed (description incomplete,
    token away) is given back on its own and does not hold back the others.
    """
    with ctx.registry.reading() as session:
        inputs = [_issuance_input(session, issuance_id, worker_id) for issuance_id in issuance_ids]
    sealed = [s for s in (_seal_one(ctx, worker_id, *item) for item in inputs if item is not None) if s is not None]
    stored = _store_all(ctx, worker_id, sealed)
    if stored:
        ctx.deliveries_due.set()
    if ctx.metrics:
        for _ in stored:
            ctx.metrics.credentials_issued.inc()
    return stored


def _issuance_input(session, issuance_id: str, worker_id: str) -> tuple | None:
    """(id, event, stored description or None, what is wrong with it, supersedes) of a row still ours."""
    row = session.get(Issuance, issuance_id)
    if row is None or row.status != "sealing" or row.claimed_by != worker_id:
        return None
    spec_row = session.get(CourseSpecification, (row.site_id, row.course_id))
    spec_doc = spec_row.document if spec_row is not None and spec_row.valid else None
    return (issuance_id, json.loads(row.payload), spec_doc, _spec_problems(spec_row, row.site_id, row.course_id),
            row.supersedes)


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
    credential = model.Credential(spec, learner, model.Issuance.new(awarded, grade=event.get("grade"),
                                                                    valid_for=spec.valid_for))
    fmt = (spec.source.get("format") if spec.source.get("format") in ctx.settings.formats else None) \
        or ctx.settings.formats[0]
    started = time.perf_counter()
    try:
        document = _seal(ctx, credential, fmt)
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
    return _Sealed(issuance_id, credential, document, fmt, supersedes)


PLACEHOLDER_LEARNER = model.Learner(id="0", email="learner@placeholder.invalid", given_names="Placeholder",
                                    family_name="Learner", lang="en")


def dictionary_seed(credential: model.Credential, document: bytes) -> bytes:
    """The bytes a course's credentials share, with no real person in them.

    The course's unsealed document for a placeholder learner (specification, outcomes, awarding body,
    images), followed by the `<proof>` element of the first sealed document (algorithms, the seal's
    certificate chain, the XAdES structure; digests and a signature value, but no personal data).
    A learner's erasure request then never touches the dictionary the whole course depends on.
    """
    placeholder = model.Credential(credential.spec, PLACEHOLDER_LEARNER,
                                   model.Issuance.new(credential.issuance.awarded_at, valid_for=credential.spec.valid_for))
    if document.lstrip()[:1] == b"{":  # ELM v3: a JAdES JWS whose payload is the JSON-LD, as an escaped string
        from bridge.edc.elm3_builder import build_elm3, serialize_elm3

        payload = serialize_elm3(build_elm3(placeholder)).decode("utf-8")
        try:
            rest = {k: v for k, v in json.loads(document).items() if k != "payload"}  # header, signature
        except ValueError:
            rest = {}
        return (json.dumps({"payload": payload}, ensure_ascii=False, separators=(",", ":")) +
                json.dumps(rest, ensure_ascii=False, separators=(",", ":"))).encode("utf-8")
    from bridge.edc.xml_builder import build_edc_xml

    seed = build_edc_xml(placeholder)
    start, end = document.find(b"<proof"), document.rfind(b"</proof>")
    if start >= 0 and end > start:
        seed += b"\n" + document[start:end + len(b"</proof>")]
    return seed


def _new_deliveries(ctx: Context, credential_id: str, kind: str) -> list[Delivery]:
    return [Delivery(credential_id=credential_id, channel=name, kind=kind, state="pending", attempts=0)
            for name in ctx.settings.channels]


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
                return [cid for item in sealed if (cid := _store_in(session, ctx, worker_id, item, rows))]
        except Exception:  # noqa: BLE001 - retried row by row just below, where the culprit is named
            log.warning("storing a batch of %d credentials failed; storing them one by one", len(sealed))
    stored = []
    for item in sealed:
        try:
            with ctx.registry.transaction() as session:
                rows = _locked_issuances(session, [item.issuance_id])
                cid = _store_in(session, ctx, worker_id, item, rows)
        except Exception:  # noqa: BLE001 - its lease runs out and it is sealed again
            log.exception("storing the credential of issuance %s failed", item.issuance_id)
            continue
        if cid:
            stored.append(cid)
    return stored


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
        seed=lambda: dictionary_seed(credential, document))
    spec, learner = credential.spec, credential.learner
    session.add(Credential(
        id=cid, issuance_id=row.id, site_id=row.site_id, course_id=row.course_id, learner_id=row.learner_id,
        learner_email=learner.email, learner_name=learner.full_name, learner_lang=learner.lang,
        title=json.dumps(dict(spec.title), ensure_ascii=False),
        issuer_name=json.dumps(dict(spec.awarding_body.name), ensure_ascii=False),
        issued_at=credential.issuance.issued_at, status="issued", format=fmt, document=packed.data,
        codec=packed.codec, dictionary_id=dictionary_id, size=len(document), sha256=digest,
        supersedes=supersedes))
    session.add(new_link(cid))  # the page link is made now, so delivering only reads
    session.add_all(_new_deliveries(ctx, cid, "issued"))
    audit.append(session, "worker", "credential.issued", cid,
                 {"issuance": row.id, "sha256": digest, "format": fmt, "site": row.site_id,
                  "course": row.course_id, "learner": row.learner_id, "supersedes": supersedes})
    if supersedes:
        _revoke_in(session, ctx, supersedes, "superseded by a corrected credential " + cid, "worker",
                   superseded_by=cid)
    row.status = "issued" if ctx.settings.channels else "delivered"
    row.credential_id, row.claimed_by, row.claimed_until, row.last_error = cid, None, None, None
    return cid


# --- revoking and re-issuing (called by the API) -------------------------------------------------


class NotFound(LookupError):
    pass


class Conflict(ValueError):
    pass


def _revoke_in(session, ctx: Context, credential_id: str, reason: str, by: str, superseded_by: str | None = None) -> None:
    cred = session.get(Credential, credential_id, with_for_update=True)
    if cred is None:
        raise NotFound(credential_id)
    if cred.status == "revoked":
        raise Conflict(f"credential {credential_id} is already revoked")
    cred.status = "revoked"
    if superseded_by:
        cred.superseded_by = superseded_by
    session.add(Revocation(credential_id=credential_id, reason=reason, revoked_by=by, revoked_at=utcnow()))
    session.execute(update(Issuance).where(Issuance.credential_id == credential_id).values(status="revoked"))
    session.add_all(_new_deliveries(ctx, credential_id, "revoked"))
    audit.append(session, by, "credential.revoked", credential_id, {"reason": reason, "superseded_by": superseded_by})


def revoke(ctx: Context, credential_id: str, reason: str, by: str) -> None:
    with ctx.registry.transaction() as session:
        _revoke_in(session, ctx, credential_id, reason, by)
    ctx.deliveries_due.set()


def reissue(ctx: Context, credential_id: str, by: str, learner_name: dict[str, str] | None = None,
            reason: str | None = None) -> str:
    """Queue a corrected copy; when it is sealed it supersedes (and revokes) the old one. Returns the issuance id."""
    with ctx.registry.transaction() as session:
        cred = session.get(Credential, credential_id, with_for_update=True)
        if cred is None:
            raise NotFound(credential_id)
        if cred.status == "revoked":
            raise Conflict(f"credential {credential_id} is revoked; re-issue the credential that replaced it"
                           if cred.superseded_by else f"credential {credential_id} is revoked")
        pending = session.execute(select(Issuance.id).where(
            Issuance.supersedes == credential_id, Issuance.status.in_(("queued", "sealing", "parked")))).first()
        if pending:
            raise Conflict(f"a re-issue of {credential_id} is already under way (issuance {pending[0]})")
        original = session.get(Issuance, cred.issuance_id)
        event = json.loads(original.payload)
        if learner_name:
            event["learner"].update(learner_name)
        new_id = str(uuid.uuid4())
        session.add(Issuance(
            id=new_id, idempotency_key=f"reissue-{new_id}", event_id=f"reissue:{credential_id}", kind="reissue",
            site_id=cred.site_id, course_id=cred.course_id, learner_id=cred.learner_id,
            payload=json.dumps(event, ensure_ascii=False, sort_keys=True), completed_at=original.completed_at,
            requested_by=by, supersedes=credential_id, status="queued", attempts=0))
        session.flush()
        audit.append(session, by, "credential.reissue_requested", credential_id,
                     {"issuance": new_id, "reason": reason, "name_corrected": bool(learner_name)})
    ctx.wake.set()
    return new_id


def retry_delivery(ctx: Context, delivery_id: int, by: str) -> Delivery:
    with ctx.registry.transaction() as session:
        row = session.get(Delivery, delivery_id, with_for_update=True)
        if row is None:
            raise NotFound(str(delivery_id))
        if row.state == "sent":
            raise Conflict(f"delivery {delivery_id} was already sent")
        row.state, row.attempts, row.next_attempt_at, row.claimed_until = "pending", 0, None, None
        audit.append(session, by, "delivery.retry_requested", str(delivery_id),
                     {"credential": row.credential_id, "channel": row.channel})
    ctx.deliveries_due.set()
    return row


RESEND_REASON_MAX = 500
RECOVERED_NOTE = "handed over before a crash; counted as sent"


def resend_delivery(ctx: Context, delivery_id: int, by: str, reason: str) -> Delivery:
    """Send a delivered credential (or revocation notice) again, on a learner's request.

    Only a `sent` delivery: a pending or failed one is a job for retry_delivery. The mail goes out with a
    new Message-ID (see messages.message_id), so the learner's client shows it even if it kept the first.
    An "issued" mail is not resent once the credential was revoked: the learner would get a credential
    the registry already calls invalid.
    """
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidRequest("/reason", "required: say why it is sent again (e.g. the learner's request)")
    if len(reason) > RESEND_REASON_MAX:
        raise InvalidRequest("/reason", f"at most {RESEND_REASON_MAX} characters")
    with ctx.registry.transaction() as session:
        row = session.get(Delivery, delivery_id, with_for_update=True)
        if row is None:
            raise NotFound(str(delivery_id))
        if row.state != "sent":
            raise Conflict(f"delivery {delivery_id} is {row.state}, not sent: "
                           + ("use retry for a pending or failed delivery" if row.state in ("pending", "failed")
                              else "it is being sent right now"))
        cred = session.get(Credential, row.credential_id)
        if row.kind == "issued" and cred is not None and cred.status == "revoked":
            raise Conflict(f"credential {row.credential_id} was revoked: its credential mail is not sent again")
        row.state, row.attempts, row.next_attempt_at, row.claimed_until = "pending", 0, None, None
        row.last_error, row.sent_at = None, None
        row.resends = (row.resends or 0) + 1
        audit.append(session, by, "delivery.resend_requested", str(delivery_id),
                     {"credential": row.credential_id, "channel": row.channel, "kind": row.kind,
                      "reason": reason, "resend": row.resends})
    ctx.deliveries_due.set()
    return row


class InvalidRequest(ValueError):
    """A request field at fault: `pointer` names it (JSON pointer), the message says what is wrong."""

    def __init__(self, pointer: str, message: str) -> None:
        self.pointer = pointer
        super().__init__(message)


# --- delivering ----------------------------------------------------------------------------------


def _claim_deliveries(ctx: Context, limit: int, credential_id: str | None) -> list[int]:
    with ctx.registry.transaction() as session:
        return _claim_in(session, ctx, limit, credential_id)


def _claim_in(session, ctx: Context, limit: int, credential_id: str | None = None) -> list[int]:
    now = utcnow()
    query = (select(Delivery).where(
        Delivery.state == "pending",
        or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
        or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now))
        .order_by(Delivery.id).limit(limit).with_for_update(skip_locked=True))
    if credential_id:
        query = query.where(Delivery.credential_id == credential_id)
    rows = session.execute(query).scalars().all()
    for row in rows:
        row.claimed_until = now + dt.timedelta(seconds=ctx.settings.lease_seconds)
    return [row.id for row in rows]


def _job(ctx: Context, session, delivery: Delivery) -> DeliveryJob:
    cred = session.get(Credential, delivery.credential_id)
    title = json.loads(cred.title)
    issuer = json.loads(cred.issuer_name)
    reason = None
    if delivery.kind == "revoked":
        revocation = session.execute(select(Revocation).where(Revocation.credential_id == cred.id)).scalar_one_or_none()
        reason = revocation.reason if revocation else None
    short = cred.id.rsplit(":", 1)[-1]
    extension = "json" if cred.format == "elm3-jsonld" else "xml"
    public = ctx.settings.public_url
    view_url = _page_link(session, cred.id, public) or f"{public}/credentials/{short}"
    document = documents.read_document(session, ctx.registry.dictionaries, cred) if delivery.kind == "issued" else b""
    attachments = _printable(document, cred, view_url, short) \
        if ctx.settings.email_pdf and delivery.channel == "email" and document else ()
    return DeliveryJob(
        credential_id=cred.id, kind=delivery.kind, learner_email=cred.learner_email, learner_name=cred.learner_name,
        learner_lang=cred.learner_lang, learner_moodle_id=int(cred.learner_id) if cred.learner_id.isdigit() else None,
        site_id=cred.site_id, course_id=cred.course_id, title=title,
        issuer_name=issuer.get(cred.learner_lang) or next(iter(issuer.values())),
        document=document, attachments=attachments, filename=f"credential-{short}.{extension}",
        media_type="application/ld+json" if extension == "json" else "application/xml",
        verify_url=f"{public}/verify", view_url=view_url, reason=reason, resend=delivery.resends or 0)


def _page_link(session, credential_id: str, public: str) -> str | None:
    """The credential page's unguessable link (bridge/web), made with the credential."""
    try:
        return public_url(session, credential_id, public)
    except Exception:  # noqa: BLE001 - a plain link is better than no delivery
        log.warning("no page link for %s; using the plain credential URL", credential_id)
        return None


def _printable(document: bytes, cred: Credential, view_url: str, short: str) -> tuple:
    """The PDF for the email (EDC XML only); a PDF problem must not hold back the credential itself."""
    if cred.format != "edc-xml":
        return ()
    try:
        from bridge.delivery.messages import Attachment
        from bridge.presentation.pdf import credential_pdf

        return (Attachment(f"credential-{short}.pdf", "application/pdf",
                           credential_pdf(document, cred.learner_lang, view_url)),)
    except Exception:  # noqa: BLE001
        log.exception("could not render the PDF of %s; sending the credential without it", cred.id)
        return ()


def deliver_due(ctx: Context, *, limit: int = 20, credential_id: str | None = None) -> int:
    """Attempt every due pending delivery (all, or one credential's); returns how many were attempted."""
    ids = _claim_deliveries(ctx, limit, credential_id)
    if ids:
        _record_attempts(ctx, _attempt_all(ctx, ids))
    return len(ids)


def deliver_continuously(ctx: Context, stop: threading.Event, batch: int = 1,
                         on_full_batch: Callable[[], Any] = lambda: None) -> int:
    """Deliver until nothing is due, `batch` at a time.

    Each batch's results are recorded in the transaction that claims the next batch, so a busy sidecar
    spends one registry write per batch on bookkeeping (plus the email hand-over, one per mail).
    `on_full_batch` is called when a whole batch was claimed (more may be due: wake a peer).
    """
    claimed = _claim_deliveries(ctx, batch, None)
    done = 0
    while claimed and not stop.is_set():
        if len(claimed) == batch:
            on_full_batch()
        results = _attempt_all(ctx, claimed, stop)
        done += len(results)
        left = claimed[len(results):]
        claimed = _record_attempts(ctx, results, 0 if stop.is_set() else batch)
        if left:  # stopping half-way: give the rest back at once rather than after their lease
            _unclaim(ctx, left)
    if claimed:
        _unclaim(ctx, claimed)
    return done


def _unclaim(ctx: Context, delivery_ids: list[int]) -> None:
    with ctx.registry.transaction() as session:
        session.execute(update(Delivery).where(Delivery.id.in_(delivery_ids)).values(claimed_until=None))


def _attempt_all(ctx: Context, delivery_ids: list[int],
                 stop: threading.Event | None = None) -> list[tuple[int, DeliveryError | None]]:
    """Send each claimed delivery (in order, stopping early if asked); [(id, error or None)]."""
    with ctx.registry.reading() as session:  # reading only: the page link was made with the credential
        jobs = []
        for delivery_id in delivery_ids:
            delivery = session.get(Delivery, delivery_id)
            jobs.append((delivery_id, delivery.channel, _job(ctx, session, delivery)))
    results = []
    for delivery_id, channel_name, job in jobs:
        if stop is not None and stop.is_set():
            break
        results.append((delivery_id, _send(ctx, delivery_id, channel_name, job)))
    return results


def _send(ctx: Context, delivery_id: int, channel_name: str, job: DeliveryJob) -> DeliveryError | None:
    channel = ctx.channels.get(channel_name)
    error: DeliveryError | None = None
    try:
        if channel is None:
            raise DeliveryError(f"channel {channel_name!r} is not configured in this process", retryable=True)
        if _takes_commit_point(channel):
            channel.deliver(job, commit_point=lambda: _hand_over(ctx, delivery_id))
        else:
            channel.deliver(job)
    except DeliveryError as exc:
        error = exc
    except Exception as exc:  # noqa: BLE001 - a channel bug must not kill the worker; it is retried and visible
        error = DeliveryError(f"{type(exc).__name__}: {exc}", retryable=True)
    if ctx.metrics:
        ctx.metrics.delivery_attempts.labels(channel_name, "sent" if error is None else "error").inc()
    return error


def _takes_commit_point(channel: Any) -> bool:
    try:
        return "commit_point" in inspect.signature(channel.deliver).parameters
    except (TypeError, ValueError):
        return False


def _hand_over(ctx: Context, delivery_id: int) -> None:
    """Called by a channel just before the point of no return (email: before the final "." of DATA).

    After this commit a crash counts the delivery as done (see recover_handed_over): resending would
    give the learner a second copy, while the server almost certainly has the first.
    """
    with ctx.registry.transaction() as session:
        session.execute(update(Delivery).where(Delivery.id == delivery_id).values(state="handed_over"))


def recover_handed_over(ctx: Context) -> int:
    """Deliveries a crashed process handed over (and whose lease ran out) are counted as sent, not resent."""
    now = utcnow()
    recovered = 0
    with ctx.registry.transaction() as session:
        rows = session.execute(select(Delivery).where(Delivery.state == "handed_over", or_(
            Delivery.claimed_until.is_(None), Delivery.claimed_until < now)).with_for_update(skip_locked=True)
        ).scalars().all()
        for row in rows:
            row.state, row.sent_at, row.claimed_until = "sent", now, None
            row.last_error = RECOVERED_NOTE
            audit.append(session, "worker", "delivery.sent_after_crash", str(row.id),
                         {"credential": row.credential_id, "channel": row.channel})
            recovered += 1
        _update_issuances_after_delivery(session, sorted({r.credential_id for r in rows if r.kind == "issued"}))
    return recovered


def _record_attempts(ctx: Context, results: list[tuple[int, DeliveryError | None]], claim_next: int = 0) -> list[int]:
    """Write down each attempt's outcome, and claim the next `claim_next` due deliveries, in one transaction."""
    with ctx.registry.transaction() as session:
        ids = [delivery_id for delivery_id, _ in results]
        rows = {row.id: row for row in session.execute(  # locked in id order: no deadlock between batches
            select(Delivery).where(Delivery.id.in_(ids)).order_by(Delivery.id).with_for_update()).scalars()}
        credentials = []
        for delivery_id, error in results:
            row = rows[delivery_id]
            _record_in(session, ctx, row, error)
            if row.kind == "issued" and row.credential_id not in credentials:
                credentials.append(row.credential_id)
        _update_issuances_after_delivery(session, credentials)
        return _claim_in(session, ctx, claim_next) if claim_next else []


def _record_in(session, ctx: Context, row: Delivery, error: DeliveryError | None) -> None:
    row.attempts += 1
    row.claimed_until = None
    if error is None:
        row.state, row.sent_at, row.last_error = "sent", utcnow(), None
    else:
        row.last_error = str(error)[:2000]
        if not error.retryable or row.attempts >= ctx.settings.max_delivery_attempts:
            row.state = "failed"
            audit.append(session, "worker", "delivery.failed", str(row.id),
                         {"credential": row.credential_id, "channel": row.channel, "attempts": row.attempts,
                          "error": row.last_error})
        else:
            row.state = "pending"  # it may be 'handed_over' when the server refused the final step
            row.next_attempt_at = utcnow() + backoff(row.attempts, ctx.settings.retry_base_seconds, ctx.settings.retry_max_seconds)


def _update_issuances_after_delivery(session, credential_ids: list[str]) -> None:
    """Each credential's inbox row becomes delivered (every channel sent), failed, or stays issued."""
    if not credential_ids:
        return
    session.flush()  # the deliveries' new states, which the query below reads
    # Lock the inbox rows first (in id order): two channels of one credential finishing at once would
    # otherwise each see the other still pending (PostgreSQL, read committed) and both leave 'issued'.
    session.execute(select(Issuance.id).where(Issuance.credential_id.in_(credential_ids))
                    .order_by(Issuance.id).with_for_update())
    states: dict[str, list[str]] = {cid: [] for cid in credential_ids}
    for credential_id, state in session.execute(select(Delivery.credential_id, Delivery.state).where(
            Delivery.credential_id.in_(credential_ids), Delivery.kind == "issued")):
        states[credential_id].append(state)
    by_status: dict[str, list[str]] = {}
    for credential_id, found in states.items():
        status = "delivered" if found and all(s == "sent" for s in found) else (
            "failed" if "failed" in found else "issued")
        by_status.setdefault(status, []).append(credential_id)
    for status, ids in by_status.items():
        session.execute(update(Issuance).where(Issuance.credential_id.in_(ids),
                                               Issuance.status.in_(("issued", "delivered", "failed")))
                        .values(status=status, updated_at=utcnow()))


# --- the running service ---------------------------------------------------------------------------


class Worker:
    """EDC_WORKERS threads issuing, plus the scheduler; `stop()` lets the current work finish."""

    def __init__(self, ctx: Context, *, working: bool = True, scheduling: bool = True) -> None:
        self.ctx = ctx
        self.working = working  # issuing and delivery threads (off in a server whose worker processes do it)
        self.scheduling = scheduling  # the periodic jobs (off in worker processes: their server runs them)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.scheduler = None

    def start(self) -> None:
        if self.scheduling:
            self._recover()  # what a previous run left half-done
        workers = self.ctx.settings.workers
        # Delivery threads mostly wait on SMTP and Moodle, so there are more of them, and sealing never
        # waits for a slow mail server.
        for i in range(workers if self.working else 0):
            self._spawn(self._issue_loop, f"edc-issue-{i}", f"{self.ctx.worker_id}/{i}")
        for i in range(max(2, 2 * workers) if self.working else 0):
            self._spawn(self._delivery_loop, f"edc-deliver-{i}")
        if self.scheduling:
            self._start_scheduler()

    def _spawn(self, target: Callable, name: str, *args: Any) -> None:
        t = threading.Thread(target=target, args=args, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def _issue_loop(self, worker_id: str) -> None:
        while not self._stop.is_set():
            try:
                # Clear before looking, wait after: a wake-up set in between is never lost (one cleared
                # after a look made a thread with work waiting sleep its whole second).
                self.ctx.wake.clear()
                claimed = claim_issuances(self.ctx, worker_id, self.ctx.settings.batch)
                if not claimed:
                    self.ctx.wake.wait(1.0)
                    continue
                if len(claimed) == self.ctx.settings.batch:
                    self.ctx.wake.set()  # there may be more: let an idle peer take the next batch
                process_issuances(self.ctx, claimed, worker_id)
            except Exception:  # noqa: BLE001 - keep the thread alive (database blip); the lease recovers the row
                log.exception("worker %s: unexpected error", worker_id)
                self._stop.wait(2.0)

    def _delivery_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.ctx.deliveries_due.clear()  # as in _issue_loop: clear, look, then wait
                if deliver_continuously(self.ctx, self._stop, self.ctx.settings.batch,
                                        on_full_batch=self.ctx.deliveries_due.set) == 0:
                    self.ctx.deliveries_due.wait(1.0)
            except Exception:  # noqa: BLE001
                log.exception("delivery thread: unexpected error")
                self._stop.wait(2.0)

    def _start_scheduler(self) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        scheduler = BackgroundScheduler(timezone=dt.timezone.utc)
        every = dict(trigger="interval", max_instances=1, coalesce=True)
        scheduler.add_job(self._guard(self._recover), seconds=max(1, min(10, self.ctx.settings.lease_seconds)),
                          id="recovery", **every)
        scheduler.add_job(self._guard(self._purge_nonces), minutes=5, id="nonces", **every)
        try:
            from hsm.expiry import add_expiry_job

            add_expiry_job(scheduler, lambda: self.ctx.seals.current().certificate,
                           lambda warning: warn_security_contact(self.ctx, warning))
        except ImportError:
            pass
        scheduler.start()
        self.scheduler = scheduler

    def _recover(self) -> None:
        requeue_expired_leases(self.ctx)
        recover_handed_over(self.ctx)

    def _purge_nonces(self) -> None:
        from bridge.intake.auth import purge_expired_nonces

        with self.ctx.registry.transaction() as session:
            purge_expired_nonces(session)

    @staticmethod
    def _guard(fn: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except Exception:  # noqa: BLE001
                log.exception("scheduled job failed")
        return run

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.ctx.wake.set()
        self.ctx.deliveries_due.set()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        for t in self._threads:
            t.join(timeout)


def warn_security_contact(ctx: Context, warning: Any) -> bool:
    """Tell the security contact (EDC_SECURITY_CONTACT) that the seal certificate nears expiry, by email.

    Called once per certificate and threshold (60/30/7 days, expired) by hsm.expiry's scheduled check,
    which has already logged the warning; returns whether a mail went out.
    """
    contact = ctx.settings.security_contact
    channel = ctx.channels.get("email")
    if not contact or channel is None or not hasattr(channel, "send_notice"):
        log.warning("seal certificate: %s; no mail sent (set EDC_SECURITY_CONTACT and EDC_SMTP_URL)",
                    warning.message)
        return False
    subject = f"[EDC issuer] seal certificate {warning.level}: {warning.days_left} days left"
    text = (f"{warning.message}\n\nSeal certificate: {warning.subject}\nSerial number: {warning.serial_number:x}\n"
            f"Valid until: {warning.not_after.isoformat()}\n\nRenew it with the key ceremony in hsm/README.md "
            f"(keygen, csr, import-cert, activate) before that date: credentials cannot be sealed after it.\n")
    try:
        channel.send_notice(contact, subject, text)
    except DeliveryError as exc:
        log.error("seal certificate warning could not be mailed to the security contact: %s", exc)
        return False
    return True


def drain(ctx: Context, *, worker_id: str = "drain", max_rounds: int = 1000) -> int:
    """Process everything due now in the calling thread (tests, the demo command); returns credentials made."""
    made = 0
    for _ in range(max_rounds):
        claimed = claim_issuances(ctx, worker_id, ctx.settings.batch)
        if not claimed:
            break
        made += len(process_issuances(ctx, claimed, worker_id))
    while deliver_due(ctx, limit=100):
        pass
    return made
