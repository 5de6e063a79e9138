"""Staff endpoints: list and read credentials, revoke, re-issue, retry parked deliveries, send delivered ones again."""
from __future__ import annotations

import datetime as dt
import json

from flask import Blueprint, Response, g, jsonify, request
from sqlalchemy import func, select

from bridge import worker
from bridge.api.errors import ApiError, problem
from bridge.staff import roles
from bridge.api.security import context, staff_required
from bridge.edc import formats, inputs
from bridge.registry import documents
from bridge.registry.models import REVOCATION_CATEGORIES, Credential, Delivery, Issuance, Revocation

bp = Blueprint("credentials", __name__)
CREDENTIAL_PREFIX = "urn:credential:"
MAX_LIMIT = 200


def full_id(text: str) -> str:
    """Accept the URN or its bare UUID (what a URL path or the public page carries)."""
    return text if text.startswith(CREDENTIAL_PREFIX) else CREDENTIAL_PREFIX + text


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def delivery_json(d: Delivery) -> dict:
    return {"id": d.id, "channel": d.channel, "kind": d.kind, "state": d.state, "attempts": d.attempts,
            "resends": d.resends or 0, "last_error": d.last_error, "next_attempt_at": _iso(d.next_attempt_at), "sent_at": _iso(d.sent_at)}


def credential_json(c: Credential, deliveries: list[Delivery] | None = None, revocation: Revocation | None = None) -> dict:
    body = {
        "id": c.id, "issuance_id": c.issuance_id, "site": c.site_id, "course": c.course_id,
        "learner": {"id": c.learner_id, "name": c.learner_name, "email": c.learner_email, "lang": c.learner_lang},
        "title": json.loads(c.title), "issued_at": _iso(c.issued_at), "status": c.status, "format": c.format,
        "sha256": c.sha256, "size": c.size, "stored_size": len(c.document), "supersedes": c.supersedes,
        "superseded_by": c.superseded_by,
    }
    if deliveries is not None:
        body["deliveries"] = [delivery_json(d) for d in deliveries]
    if revocation is not None:
        body["revocation"] = {"reason": revocation.reason, "by": revocation.revoked_by,
                              "at": _iso(revocation.revoked_at), "category": revocation.category}
    return body


def _date_arg(name: str, problems: list) -> dt.datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        problems.append(problem(f"?{name}", "not an ISO 8601 date or date-time"))
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _int_arg(name: str, default: int, low: int, high: int, problems: list) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return inputs.whole_number(raw, f"?{name}", low, high)
    except inputs.InputError as exc:
        problems.append(problem(exc.pointer, exc.message))
        return default


@bp.get("/api/v1/credentials")
@staff_required(roles.VIEWER)
def list_credentials():
    problems: list = []
    limit = _int_arg("limit", 50, 1, MAX_LIMIT, problems)
    offset = _int_arg("offset", 0, 0, 10**9, problems)
    issued_from, issued_to = _date_arg("issued_from", problems), _date_arg("issued_to", problems)
    course = request.args.get("course")
    if course is not None:
        try:
            course = inputs.moodle_id(course, "?course")
        except inputs.InputError as exc:
            problems.append(problem("?course", f"must be a Moodle course id: {exc.message}"))
    status = request.args.get("status")
    if status is not None and status not in ("issued", "revoked"):
        problems.append(problem("?status", "must be 'issued' or 'revoked'"))
    if problems:
        raise ApiError(400, "bad query parameters", problems)
    conditions = []
    if request.args.get("learner"):
        conditions.append(Credential.learner_id == request.args["learner"])
    if request.args.get("site"):
        conditions.append(Credential.site_id == request.args["site"])
    if course:
        conditions.append(Credential.course_id == course)
    if status:
        conditions.append(Credential.status == status)
    if issued_from:
        conditions.append(Credential.issued_at >= issued_from)
    if issued_to:
        conditions.append(Credential.issued_at < issued_to)
    ctx = context()
    with ctx.registry.reading() as session:
        total = session.execute(select(func.count()).select_from(Credential).where(*conditions)).scalar_one()
        rows = session.execute(select(Credential).where(*conditions)
                               .order_by(Credential.issued_at.desc(), Credential.id).limit(limit).offset(offset)
                               ).scalars().all()
        items = [credential_json(c) for c in rows]
    next_offset = offset + limit if offset + limit < total else None
    return jsonify({"items": items, "total": total, "limit": limit, "offset": offset, "next_offset": next_offset})


def _load(session, cred_id: str) -> Credential:
    cred = session.get(Credential, full_id(cred_id))
    if cred is None:
        raise ApiError(404, "no such credential", [problem("/id", f"{full_id(cred_id)} is not in the registry")])
    return cred


@bp.get("/api/v1/credentials/<cred_id>.xml")
@staff_required(roles.VIEWER)
def credential_document(cred_id: str):
    ctx = context()
    with ctx.registry.reading() as session:
        cred = _load(session, cred_id)
        data = documents.read_document(session, ctx.registry.dictionaries, cred)
        fmt = formats.get(cred.format)
    return Response(data, mimetype=fmt.media_type, headers={
        "Content-Disposition": f'attachment; filename="{fmt.filename(cred.id)}"', "X-Content-SHA256": cred.sha256})


@bp.get("/api/v1/credentials/<cred_id>")
@staff_required(roles.VIEWER)
def get_credential(cred_id: str):
    ctx = context()
    with ctx.registry.reading() as session:
        cred = _load(session, cred_id)
        deliveries = session.execute(select(Delivery).where(Delivery.credential_id == cred.id)
                                     .order_by(Delivery.id)).scalars().all()
        revocation = session.execute(select(Revocation).where(Revocation.credential_id == cred.id)).scalar_one_or_none()
        return jsonify(credential_json(cred, list(deliveries), revocation))


def _json_body() -> dict:
    raw = request.get_data(cache=True)
    try:
        data = inputs.parse_json(raw) if raw.strip() else None
    except inputs.InputError as exc:
        raise ApiError(400, "the body is not usable JSON", [problem(exc.pointer, exc.message)]) from None
    if data is not None and not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object", [problem("", "expected an object")])
    return data or {}


NOTE_MAX = 255
REASON_MAX = 2000


def _optional_text(body: dict, name: str, limit: int, what: str) -> str | None:
    """A caller's optional free text (a note, a reason): text of at most `limit` characters, or absent.
    It goes into the audit details, never into the actor."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise ApiError(400, f"/{name}: must be a text of at most {limit} characters",
                       [problem(f"/{name}", f"{what}: a text of at most {limit} characters")])
    return " ".join(value.split()) or None


@bp.post("/api/v1/credentials/<cred_id>/revoke")
@staff_required(roles.REGISTRAR)
def revoke_credential(cred_id: str):
    body = _json_body()
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ApiError(400, "a reason is required", [problem("/reason", "required: why the credential is revoked "
                                                                        "(the learner is told)")])
    note = _optional_text(body, "by", NOTE_MAX, "a note of who asked for the revocation (the audit's actor is "
                                                "who authenticated)")
    category = body.get("category")
    if category is not None and category not in REVOCATION_CATEGORIES[1:]:
        raise ApiError(400, "/category: not a revocation category", [problem(
            "/category", f"one of {', '.join(REVOCATION_CATEGORIES[1:])} (the public status resource states it; "
                         "superseded is set by a re-issue)")])
    try:
        worker.revoke(context(), full_id(cred_id), reason.strip()[:REASON_MAX], g.actor, note, category)
    except worker.NotFound:
        raise ApiError(404, "no such credential", [problem("/id", f"{full_id(cred_id)} is not in the registry")])
    except worker.Conflict as exc:
        raise ApiError(409, str(exc), [problem("/id", str(exc))])
    return get_credential(cred_id)


@bp.post("/api/v1/credentials/<cred_id>/reissue")
@staff_required(roles.REGISTRAR)
def reissue_credential(cred_id: str):
    body = _json_body()
    name = body.get("learner")
    corrected = None
    if name is not None:
        problems = []
        if not isinstance(name, dict):
            problems.append(problem("/learner", "must be an object with given_names and/or family_name"))
        else:
            for key in name:
                if key not in ("given_names", "family_name"):
                    problems.append(problem(f"/learner/{key}", "only given_names and family_name can be corrected"))
                elif not isinstance(name[key], str) or not name[key].strip() or len(name[key]) > 200:
                    problems.append(problem(f"/learner/{key}", "must be a non-empty text of at most 200 characters"))
        if problems:
            raise ApiError(400, "bad correction", problems)
        corrected = {k: v.strip() for k, v in name.items()}
    try:
        issuance_id = worker.reissue(context(), full_id(cred_id), g.actor, corrected,
                                     _optional_text(body, "reason", REASON_MAX, "why it is re-issued"))
    except worker.NotFound:
        raise ApiError(404, "no such credential", [problem("/id", f"{full_id(cred_id)} is not in the registry")])
    except worker.Conflict as exc:
        raise ApiError(409, str(exc), [problem("/id", str(exc))])
    return jsonify({"issuance_id": issuance_id, "status": "queued", "supersedes": full_id(cred_id)}), 202


@bp.get("/api/v1/issuances/<issuance_id>")
@staff_required(roles.VIEWER)
def get_issuance(issuance_id: str):
    with context().registry.reading() as session:
        row = session.get(Issuance, issuance_id)
        if row is None:
            raise ApiError(404, "no such issuance", [problem("/id", f"{issuance_id} is not in the registry")])
        return jsonify({"id": row.id, "kind": row.kind, "site": row.site_id, "course": row.course_id,
                        "learner": row.learner_id, "status": row.status, "attempts": row.attempts,
                        "parked_reason": json.loads(row.parked_reason) if row.parked_reason else None,
                        "last_error": row.last_error, "credential_id": row.credential_id,
                        "supersedes": row.supersedes, "received_at": _iso(row.received_at),
                        "updated_at": _iso(row.updated_at)})


@bp.get("/api/v1/deliveries")
@staff_required(roles.VIEWER)
def list_deliveries():
    problems: list = []
    limit = _int_arg("limit", 50, 1, MAX_LIMIT, problems)
    offset = _int_arg("offset", 0, 0, 10**9, problems)
    state = request.args.get("state")
    if state is not None and state not in ("pending", "sent", "failed"):
        problems.append(problem("?state", "must be pending, sent or failed"))
    recovered = request.args.get("recovered")
    if recovered is not None and recovered not in ("0", "1"):
        problems.append(problem("?recovered", "must be 1 (only those counted as sent after a crash) or 0"))
    if problems:
        raise ApiError(400, "bad query parameters", problems)
    conditions = [Delivery.state == state] if state else []
    if recovered == "1":  # handed to the mail server just before a crash: sent, almost surely; staff may resend
        conditions += [Delivery.state == "sent", Delivery.last_error == worker.RECOVERED_NOTE]
    with context().registry.reading() as session:
        total = session.execute(select(func.count()).select_from(Delivery).where(*conditions)).scalar_one()
        rows = session.execute(select(Delivery).where(*conditions).order_by(Delivery.id).limit(limit)
                               .offset(offset)).scalars().all()
        items = [dict(delivery_json(d), credential_id=d.credential_id) for d in rows]
    return jsonify({"items": items, "total": total, "limit": limit, "offset": offset,
                    "next_offset": offset + limit if offset + limit < total else None})


@bp.post("/api/v1/deliveries/<id:delivery_id>/retry")
@staff_required(roles.REGISTRAR)
def retry_delivery(delivery_id: int):
    try:
        row = worker.retry_delivery(context(), delivery_id, g.actor)
    except worker.NotFound:
        raise ApiError(404, "no such delivery", [problem("/id", f"delivery {delivery_id} does not exist")])
    except worker.Conflict as exc:
        raise ApiError(409, str(exc), [problem("/id", str(exc))])
    return jsonify(dict(delivery_json(row), credential_id=row.credential_id)), 202


@bp.post("/api/v1/deliveries/<id:delivery_id>/resend")
@staff_required(roles.REGISTRAR)
def resend_delivery(delivery_id: int):
    body = request.get_json(silent=True)  # not JSON, not an object, no reason: all the same fix for the caller
    reason = body.get("reason") if isinstance(body, dict) else None
    if not isinstance(reason, str):
        raise ApiError(400, "a reason is required", [problem("/reason", 'required: a JSON body {"reason": "..."} '
                                                                        "saying why it is sent again")])
    try:
        row = worker.resend_delivery(context(), delivery_id, g.actor, reason)
    except worker.InvalidRequest as exc:
        raise ApiError(400, f"{exc.pointer}: {exc}", [problem(exc.pointer, str(exc))])
    except worker.NotFound:
        raise ApiError(404, "no such delivery", [problem("/id", f"delivery {delivery_id} does not exist")])
    except worker.Conflict as exc:
        raise ApiError(409, str(exc), [problem("/id", str(exc))])
    return jsonify(dict(delivery_json(row), credential_id=row.credential_id)), 202
