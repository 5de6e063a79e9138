"""Delivering: send each credential (and revocation notice) on every channel, exactly once for email.

Delivery threads claim a batch of due deliveries, send them, and record the outcomes in the transaction
that claims the next batch. The email channel calls back just before the final "." of DATA
(`_hand_over`): from then on a crash counts the mail as sent instead of sending it twice. Failures are
retried with exponential backoff, then parked as failed.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import inspect
import json
import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import bindparam, or_, select, update

from bridge.delivery import DeliveryError, DeliveryJob, SealedFile
from bridge.edc import formats, inputs
from bridge.registry import audit, documents
from bridge.registry.models import Credential, CredentialLink, Delivery, Issuance, Revocation, utcnow
from bridge.registry import links
from bridge.worker import wallet
from bridge.worker.context import Context, backoff

log = logging.getLogger("edc.worker")
RECOVERED_NOTE = "handed over before a crash; counted as sent"
_DELIVERIES = Delivery.__table__


def _claim_deliveries(ctx: Context, limit: int, credential_id: str | None) -> list[int]:
    with ctx.registry.transaction() as session:
        return _claim_in(session, ctx, limit, credential_id)


def _claim_in(session, ctx: Context, limit: int, credential_id: str | None = None) -> list[int]:
    """Claim up to `limit` due deliveries for this process, oldest first. Plain SQL (a SELECT of ids, one
    UPDATE): the ORM loaded each row as an object to set two columns, at every batch of every thread."""
    now = utcnow()
    rows = _DELIVERIES.c
    query = (select(rows.id).where(
        rows.state == "pending",
        or_(rows.next_attempt_at.is_(None), rows.next_attempt_at <= now),
        or_(rows.claimed_until.is_(None), rows.claimed_until < now))
        .order_by(rows.id).limit(limit).with_for_update(skip_locked=True))
    if credential_id:
        query = query.where(rows.credential_id == credential_id)
    ids = list(session.execute(query).scalars())
    if ids:
        session.execute(_DELIVERIES.update().where(rows.id.in_(ids)).values(
            claimed_until=now + dt.timedelta(seconds=ctx.settings.lease_seconds),
            claimed_by=ctx.worker_id))  # the process: if it dies, its claims are taken back at once
    return ids


@dataclass
class _Batch:
    """The rows a batch of deliveries is made from, read with one query per table instead of one per
    credential: the credentials, their holder's link tokens and their further formats (unpacked)."""

    credentials: dict[str, Credential]
    tokens: dict[str, str]
    others: dict[str, list[tuple[str, bytes]]]

    @classmethod
    def read(cls, ctx: Context, session, credential_ids: list[str]) -> "_Batch":
        credentials = {row.id: row for row in session.execute(
            select(Credential).where(Credential.id.in_(credential_ids))).scalars()}
        tokens = {cid: token for cid, token in session.execute(select(
            CredentialLink.credential_id, CredentialLink.token).where(CredentialLink.credential_id.in_(credential_ids)))}
        return cls(credentials, tokens, documents.alternates_of(session, ctx.registry.dictionaries, credential_ids))


def _credential_job(ctx: Context, session, batch: _Batch, credential_id: str, kind: str,
                    resends: int) -> DeliveryJob:
    """What every channel of one credential's delivery needs (they differ only in the email's printable
    PDF, `_for_channel`): read and unpacked once per batch, not once per channel."""
    cred = batch.credentials[credential_id]
    title = json.loads(cred.title)
    issuer = json.loads(cred.issuer_name)
    reason = None
    if kind == "revoked":
        revocation = session.execute(select(Revocation).where(Revocation.credential_id == cred.id)).scalar_one_or_none()
        reason = revocation.reason if revocation else None
    short = cred.id.rsplit(":", 1)[-1]
    fmt = formats.get(cred.format)
    public = ctx.settings.public_url
    token = batch.tokens.get(cred.id)
    view_url, verify_url = links.holder_urls_of(cred.id, token, public) if token else \
        _links(session, cred.id, public) or (f"{public}/credentials/{short}", f"{public}/verify")
    document = documents.read_document(session, ctx.registry.dictionaries, cred) if kind == "issued" else b""
    files = tuple(SealedFile(name, formats.get(name).filename(cred.id), formats.get(name).media_type, data)
                  for name, data in batch.others[cred.id]) if kind == "issued" else ()
    return DeliveryJob(
        credential_id=cred.id, kind=kind, learner_email=cred.learner_email, learner_name=cred.learner_name,
        learner_lang=cred.learner_lang, learner_moodle_id=inputs.learner_moodle_id(cred.learner_id),
        site_id=cred.site_id, course_id=cred.course_id, title=title,
        issuer_name=issuer.get(cred.learner_lang) or next(iter(issuer.values())),
        document=document, filename=fmt.filename(cred.id), media_type=fmt.media_type,
        format=fmt.name, files=files,
        verify_url=verify_url, view_url=view_url, reason=reason, resend=resends,
        superseded_by=cred.superseded_by if kind == "revoked" else None)


def _for_channel(ctx: Context, channel: str, job: DeliveryJob) -> DeliveryJob:
    """The email of an issued credential carries the printable PDF when EDC_EMAIL_PDF asks for it."""
    if not (ctx.settings.email_pdf and channel == "email" and job.document):
        return job
    return dataclasses.replace(job, attachments=_printable(job))


def _links(session, credential_id: str, public: str) -> tuple[str, str] | None:
    """The credential's unguessable page and verification links (bridge/registry/links.py), made with it."""
    try:
        return links.holder_urls(session, credential_id, public)
    except Exception:  # noqa: BLE001 - a plain link is better than no delivery
        log.warning("no holder's link for %s; using the plain URL", credential_id)
        return None


def _printable(job: DeliveryJob) -> tuple:
    """The PDF for the email; a PDF problem must not hold back the credential itself."""
    try:
        from bridge.delivery.messages import Attachment
        from bridge.presentation.pdf import credential_pdf

        short = job.credential_id.rsplit(":", 1)[-1]
        return (Attachment(f"credential-{short}.pdf", "application/pdf",
                           credential_pdf(job.document, job.learner_lang, job.verify_url)),)
    except Exception:  # noqa: BLE001
        log.exception("could not render the PDF of %s; sending the credential without it", job.credential_id)
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
        deliveries = {row.id: row for row in session.execute(
            select(Delivery).where(Delivery.id.in_(delivery_ids))).scalars()}
        batch = _Batch.read(ctx, session, sorted({row.credential_id for row in deliveries.values()}))
        shared: dict[tuple, DeliveryJob] = {}  # a credential's email and Moodle deliveries: one job
        jobs = []
        for delivery_id in delivery_ids:
            delivery = deliveries[delivery_id]
            key = (delivery.credential_id, delivery.kind, delivery.resends or 0)
            if key not in shared:
                shared[key] = _credential_job(ctx, session, batch, *key)
            jobs.append((delivery_id, delivery.channel, _for_channel(ctx, delivery.channel, shared[key])))
    results = []
    for delivery_id, channel_name, job in jobs:
        if stop is not None and stop.is_set():
            break
        if wallet.mail_offer_wanted(ctx, channel_name, job):  # an "Add to wallet" link in the credential's mail
            job = wallet.with_mail_offer(ctx, job)
        results.append((delivery_id, _send(ctx, delivery_id, channel_name, job)))
    return results


def _send(ctx: Context, delivery_id: int, channel_name: str, job: DeliveryJob) -> DeliveryError | None:
    channel = ctx.channels.get(channel_name)
    error: DeliveryError | None = None
    handed = [False]  # the channel reached its point of no return (email: all of DATA but the final ".")
    try:
        if channel is None:
            raise DeliveryError(f"channel {channel_name!r} is not configured in this process", retryable=True)
        if _takes_commit_point(channel):
            def commit_point() -> None:
                _hand_over(ctx, delivery_id)
                handed[0] = True
            channel.deliver(job, commit_point=commit_point)
        else:
            channel.deliver(job)
    except DeliveryError as exc:
        error = exc
    except Exception as exc:  # noqa: BLE001 - a channel bug must not kill the worker; it is retried and visible
        error = DeliveryError(f"{type(exc).__name__}: {exc}", retryable=True)
    if error is not None and handed[0]:
        _take_back_hand_over(ctx, delivery_id)
    if ctx.metrics:
        ctx.metrics.delivery_attempts.labels(channel_name, "sent" if error is None else "error").inc()
    return error


def _takes_commit_point(channel: Any) -> bool:
    return _deliver_takes_commit_point(type(channel)) if hasattr(type(channel), "deliver") else \
        _signature_has_commit_point(channel.deliver)


@functools.cache
def _deliver_takes_commit_point(channel_type: type) -> bool:
    """Asked once per channel class: reading a signature costs more than the rest of the bookkeeping."""
    return _signature_has_commit_point(channel_type.deliver)


def _signature_has_commit_point(deliver: Callable) -> bool:
    try:
        return "commit_point" in inspect.signature(deliver).parameters
    except (TypeError, ValueError):
        return False


def _hand_over(ctx: Context, delivery_id: int) -> None:
    """Called by a channel just before the point of no return (email: before the final "." of DATA).

    After this commit a crash counts the delivery as done (see recover_handed_over): resending would
    give the learner a second copy, while the server almost certainly has the first.
    """
    with ctx.registry.connection() as connection:  # once per mail: a prebuilt UPDATE on a Core connection
        mine = connection.execute(_HAND_OVER, {"delivery": delivery_id, "worker": ctx.worker_id}).rowcount
    if not mine:  # our claim was taken back (lease ran out, or we were taken for dead): never send a second copy
        raise DeliveryError("the claim on this delivery was taken back before the mail was handed over; "
                            "the worker that holds it now sends it", retryable=True)


def _take_back_hand_over(ctx: Context, delivery_id: int) -> None:
    """The server answered the final step with a refusal: the delivery is pending again, at once.

    Outcomes are written once per batch (_record_attempts); left 'handed_over' until then, a crash in
    between would count a refused mail as sent. Rare (a refusal after the whole message), so one UPDATE.
    """
    with ctx.registry.connection() as connection:
        connection.execute(_UNDO_HAND_OVER, {"delivery": delivery_id, "worker": ctx.worker_id})


_HAND_OVER = _DELIVERIES.update().where(
    _DELIVERIES.c.id == bindparam("delivery"), _DELIVERIES.c.state == "pending",
    _DELIVERIES.c.claimed_by == bindparam("worker"), _DELIVERIES.c.claimed_until.is_not(None)
).values(state="handed_over")
_UNDO_HAND_OVER = _DELIVERIES.update().where(
    _DELIVERIES.c.id == bindparam("delivery"), _DELIVERIES.c.state == "handed_over",
    _DELIVERIES.c.claimed_by == bindparam("worker")
).values(state="pending")


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
        update_issuances_after_delivery(session, sorted({r.credential_id for r in rows if r.kind == "issued"}))
    return recovered


def _record_attempts(ctx: Context, results: list[tuple[int, DeliveryError | None]], claim_next: int = 0) -> list[int]:
    """Write down each attempt's outcome, and claim the next `claim_next` due deliveries, in one transaction.

    The common outcome, sent, is one plain UPDATE for the batch; a failure (rare) goes through the ORM row
    with its backoff and audit entry."""
    rows = _DELIVERIES.c
    with ctx.registry.transaction() as session:
        ids = [delivery_id for delivery_id, _ in results]
        locked = {row.id: row for row in session.execute(  # locked in id order: no deadlock between batches
            select(rows.id, rows.claimed_by, rows.claimed_until, rows.kind, rows.credential_id)
            .where(rows.id.in_(ids)).order_by(rows.id).with_for_update())}
        mine = [(delivery_id, error) for delivery_id, error in results  # else taken back from us meanwhile:
                if locked[delivery_id].claimed_by == ctx.worker_id  # its new holder records it
                and locked[delivery_id].claimed_until is not None]
        sent = [delivery_id for delivery_id, error in mine if error is None]
        if sent:
            session.execute(_DELIVERIES.update().where(rows.id.in_(sent)).values(
                attempts=rows.attempts + 1, claimed_until=None, state="sent", sent_at=utcnow(), last_error=None))
        for delivery_id, error in mine:
            if error is not None:
                _record_in(session, ctx, session.get(Delivery, delivery_id), error)
        credentials = list(dict.fromkeys(locked[delivery_id].credential_id for delivery_id, _ in mine
                                         if locked[delivery_id].kind == "issued"))
        update_issuances_after_delivery(session, credentials)
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


def update_issuances_after_delivery(session, credential_ids: list[str]) -> None:
    """Each credential's inbox row becomes delivered (every channel sent), failed, or stays issued."""
    if not credential_ids:
        return
    session.flush()  # the deliveries' new states, which the query below reads
    # Lock the inbox rows first (in id order): two channels of one credential finishing at once would
    # otherwise each see the other still pending (PostgreSQL, read committed) and both leave 'issued'.
    # (SQLite has one writer at a time, so there is nothing to lock and the read is skipped.)
    if session.get_bind().dialect.name != "sqlite":
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
    inbox = Issuance.__table__  # plain SQL: no inbox row is loaded in this session to keep in step
    for status, ids in by_status.items():
        session.execute(inbox.update().where(inbox.c.credential_id.in_(ids),
                                             inbox.c.status.in_(("issued", "delivered", "failed")))
                        .values(status=status, updated_at=utcnow()))
