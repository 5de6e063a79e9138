"""What staff do to issued credentials: revoke, re-issue with corrections, retry or resend a delivery.

Each change and its audit entry commit together; a revocation also queues a "revoked" delivery per
channel, so the learner is told.
"""
from __future__ import annotations

import json
import uuid

from sqlalchemy import select, update

from bridge.registry import audit
from bridge.registry.models import Credential, Delivery, Issuance, Revocation, utcnow
from bridge.worker import programmes
from bridge.worker.context import Conflict, Context, InvalidRequest, NotFound


def deliveries_for(ctx: Context, credential_id: str, kind: str) -> list[Delivery]:
    """One pending delivery per configured channel: the learner hears of an issue or revocation everywhere."""
    return [Delivery(**values) for values in delivery_values(ctx, credential_id, kind)]


def delivery_values(ctx: Context, credential_id: str, kind: str) -> list[dict]:
    """The rows of `deliveries_for` as column values, for one INSERT of a whole batch (issuing)."""
    return [{"credential_id": credential_id, "channel": name, "kind": kind, "state": "pending", "attempts": 0}
            for name in ctx.settings.channels]


def revoke_in(session, ctx: Context, credential_id: str, reason: str, by: str, superseded_by: str | None = None,
              note: str | None = None, category: str | None = None) -> None:
    """Revoke inside the caller's transaction (the worker does it when a corrected credential is stored).

    `by` is who authenticated (the audit actor); `note` is what the caller said about who asked, kept in
    the audit details only, so no caller can write the trail's actor."""
    cred = session.get(Credential, credential_id, with_for_update=True)
    if cred is None:
        raise NotFound(credential_id)
    if cred.status == "revoked":
        raise Conflict(f"credential {credential_id} is already revoked")
    cred.status = "revoked"
    if superseded_by:
        cred.superseded_by = superseded_by
    # The category is what the public status resource says (the reason itself stays private).
    category = "superseded" if superseded_by else category
    session.add(Revocation(credential_id=credential_id, reason=reason, revoked_by=by, revoked_at=utcnow(),
                           category=category))
    session.execute(update(Issuance).where(Issuance.credential_id == credential_id).values(status="revoked"))
    session.add_all(deliveries_for(ctx, credential_id, "revoked"))
    programmes.part_revoked_in(session, cred, reason, by, superseded_by)  # flags, never revokes, a programme's
    details = {"reason": reason, "superseded_by": superseded_by, "category": category}
    if note:
        details["requested_by_note"] = note
    audit.append(session, by, "credential.revoked", credential_id, details)


def revoke(ctx: Context, credential_id: str, reason: str, by: str, note: str | None = None,
           category: str | None = None) -> None:
    with ctx.registry.transaction() as session:
        revoke_in(session, ctx, credential_id, reason, by, note=note, category=category)
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
        if row.state in ("pending", "failed"):
            raise Conflict(f"delivery {delivery_id} is {row.state}, not sent: use retry for a pending or failed "
                           f"delivery", code="not_sent")
        if row.state != "sent":
            raise Conflict(f"delivery {delivery_id} is {row.state}, not sent: it is being sent right now",
                           code="in_flight")
        cred = session.get(Credential, row.credential_id)
        if row.kind == "issued" and cred is not None and cred.status == "revoked":
            raise Conflict(f"credential {row.credential_id} was revoked: its credential mail is not sent again",
                           code="revoked")
        row.state, row.attempts, row.next_attempt_at, row.claimed_until = "pending", 0, None, None
        row.last_error, row.sent_at = None, None
        row.resends = (row.resends or 0) + 1
        audit.append(session, by, "delivery.resend_requested", str(delivery_id),
                     {"credential": row.credential_id, "channel": row.channel, "kind": row.kind,
                      "reason": reason, "resend": row.resends})
    ctx.deliveries_due.set()
    return row
