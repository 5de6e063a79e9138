"""Moodle's calls: events, course descriptions and the teacher page's status poll (all HMAC-signed)."""
from __future__ import annotations

import json

from flask import Blueprint, g, jsonify, request
from sqlalchemy import select

from bridge.api.errors import ApiError, problem
from bridge.staff import roles
from bridge.api.security import context, moodle_signed, moodle_signed_or_staff
from bridge.edc import inputs
from bridge.intake.auth import AuthError
from bridge.intake.events import EventRejected, store_event, validate_event
from bridge.intake.specifications import store_specification
from bridge.registry.models import Issuance

bp = Blueprint("intake", __name__)

# Moodle knows six names (moodle_plugin/classes/local/status.php, and no aliases): every answer it reads
# (the event's, the issuance list) says 'sealing' as 'queued'.
STATUS_FOR_MOODLE = {"sealing": "queued"}


def _refuse_replay(exc: AuthError):
    ctx = context()
    if ctx.metrics:
        ctx.metrics.requests_refused.labels("replay").inc()
    return ApiError(401, "request not authenticated", [problem("X-EDC-Nonce", str(exc))])


@bp.post("/api/v1/events")
@moodle_signed
def post_event():
    ctx = context()
    try:
        event = validate_event(request.get_data(cache=True))
    except EventRejected as exc:
        if ctx.metrics:
            ctx.metrics.requests_refused.labels("invalid").inc()
        raise ApiError(400, "the event is not valid", [p.as_json() for p in exc.problems]) from None
    try:
        stored = store_event(ctx.registry, event, g.intake_auth, window=ctx.settings.timestamp_window)
    except AuthError as exc:
        raise _refuse_replay(exc) from None
    if ctx.metrics:
        (ctx.metrics.events_accepted.labels(event["type"]) if stored.created else ctx.metrics.events_duplicate).inc()
    if stored.created:
        ctx.wake.set()
    return jsonify({"issuance_id": stored.issuance_id, "status": STATUS_FOR_MOODLE.get(stored.status, stored.status),
                    "duplicate": not stored.created}), 202


def site_id_problem(site: str) -> str | None:
    """Why `site` cannot be a site id (the rule of event.schema.json's /site/id), or None."""
    if not site or len(site) > 255 or "/" in site or any(ch.isspace() for ch in site) or inputs.CONTROL.search(site):
        return "a site id is 1 to 255 characters, without '/', white space or control characters"
    return None


def course_in_path(site: str, course: str) -> int:
    """The course id of a /courses/{site}/{course}/... path; ApiError 400 naming what is wrong with either."""
    problems = []
    if site_id_problem(site):
        problems.append(problem("{site}", site_id_problem(site)))
    try:
        course_id = inputs.moodle_id(course, "{course}")
    except inputs.InputError as exc:
        problems.append(problem(exc.pointer, exc.message))
    if problems:
        raise ApiError(400, "bad site or course in the path", problems)
    return course_id


@bp.put("/api/v1/courses/<site>/<course>/specification")
@moodle_signed_or_staff(roles.REGISTRAR)
def put_specification(site: str, course: str):
    ctx = context()
    course_id = course_in_path(site, course)
    try:
        document = inputs.parse_json(request.get_data(cache=True))
    except inputs.InputError as exc:
        raise ApiError(400, "the description is not usable JSON", [problem(exc.pointer, exc.message)]) from None
    course = course_id
    try:
        result = store_specification(ctx.registry, site, course, document, g.intake_auth,
                                     window=ctx.settings.timestamp_window, actor=g.get("actor", "moodle"),
                                     site_formats=ctx.settings.formats)
    except AuthError as exc:
        raise _refuse_replay(exc) from None
    if result.resumed:
        ctx.wake.set()
    # Stored either way (the teacher may save a draft); `valid` says whether credentials can be issued.
    return jsonify({"site": site, "course": course, "valid": result.valid, "problems": result.problems,
                    "resumed": result.resumed}), 200


@bp.get("/api/v1/issuances")
@moodle_signed
def list_issuances():
    ctx = context()
    site = request.args.get("site", "")
    course = request.args.get("course", "")
    problems = []
    # The signature sorts the query's pairs, so it cannot tell "course=1&course=2" from the reverse while
    # request.args.get takes the first: a name read once must be given once.
    for name in ("site", "course"):
        if len(request.args.getlist(name)) > 1:
            problems.append(problem(f"?{name}", "given more than once; give it once"))
    if not site:
        problems.append(problem("?site", "required: the Moodle site id"))
    try:
        course_id = inputs.moodle_id(course, "?course")
    except inputs.InputError as exc:
        problems.append(problem("?course", f"required: the Moodle course id; {exc.message}"))
    if problems:
        raise ApiError(400, "missing or bad query parameters", problems)
    from bridge.intake.auth import claim_nonce

    try:
        with ctx.registry.transaction() as session:
            claim_nonce(session, g.intake_auth, ctx.settings.timestamp_window)
            rows = session.execute(select(Issuance).where(Issuance.site_id == site, Issuance.course_id == course_id)
                                   .order_by(Issuance.received_at)).scalars().all()
    except AuthError as exc:
        raise _refuse_replay(exc) from None
    latest: dict[str, Issuance] = {}
    for row in rows:  # newest per learner wins
        latest[row.learner_id] = row
    items = [_moodle_item(row) for row in latest.values()]
    return jsonify({"site": site, "course": course_id, "issuances": items})


def _moodle_item(row: Issuance) -> dict:
    message = None
    if row.status == "parked" and row.parked_reason:
        message = "; ".join(f"{p['pointer'] or '/'}: {p['message']}" for p in json.loads(row.parked_reason))
    elif row.last_error:
        message = row.last_error
    return {"issuance_id": row.id, "userid": inputs.learner_moodle_id(row.learner_id) or row.learner_id,
            "status": STATUS_FOR_MOODLE.get(row.status, row.status), "credential_id": row.credential_id,
            "updated_at": row.updated_at.isoformat().replace("+00:00", "Z"), "message": message}
