"""Programmes (stacked credentials), for staff: store a programme description, list the programmes, the
programme credentials awarded (those flagged for review first), and clear a review flag."""
from __future__ import annotations

import json

from flask import Blueprint, g, jsonify, request
from sqlalchemy import func, select

from bridge.api.errors import ApiError, problem
from bridge.api.intake import site_id_problem
from bridge.staff import roles
from bridge.api.security import context, staff_required
from bridge.edc import inputs
from bridge.intake.programmes import programme_id_problem, store_programme
from bridge.registry.models import Issuance, Programme, ProgrammeAward

bp = Blueprint("programmes", __name__)
AWARD_STATUSES = ("awarded", "review", "reviewed")


@bp.put("/api/v1/programmes/<site>/<programme>")
@staff_required(roles.REGISTRAR)
def put_programme(site: str, programme: str):
    problems = [problem(name, words) for name, words in (("{site}", site_id_problem(site)),
                                                          ("{programme}", programme_id_problem(programme))) if words]
    if problems:
        raise ApiError(400, "bad site or programme in the path", problems)
    try:
        document = inputs.parse_json(request.get_data(cache=True))
    except inputs.InputError as exc:
        raise ApiError(400, "the description is not usable JSON", [problem(exc.pointer, exc.message)]) from None
    ctx = context()
    result = store_programme(ctx.registry, site, programme, document, g.get("actor", "staff"))
    if result.learners_checked:
        ctx.wake.set()  # the issuing threads run the checks after their next batch; the scheduler anyway
    return jsonify({"site": site, "programme": programme, "valid": result.valid, "problems": result.problems,
                    "learners_checked": result.learners_checked})


@bp.get("/api/v1/programmes")
@staff_required(roles.VIEWER)
def list_programmes():
    ctx = context()
    with ctx.registry.reading() as session:
        counts = dict(session.execute(select(ProgrammeAward.site_id + "/" + ProgrammeAward.programme_id, func.count())
                                      .group_by(ProgrammeAward.site_id, ProgrammeAward.programme_id)).all())
        rows = session.execute(select(Programme).order_by(Programme.site_id, Programme.programme_id)).scalars().all()
        items = []
        for row in rows:
            document = json.loads(row.document)
            parts = document.get("parts") if isinstance(document, dict) else None
            items.append({"site": row.site_id, "programme": row.programme_id, "valid": row.valid,
                          "problems": json.loads(row.problems),
                          "parts": [p.get("course") for p in parts if isinstance(p, dict)] if isinstance(parts, list) else [],
                          "awards": counts.get(f"{row.site_id}/{row.programme_id}", 0),
                          "updated_at": row.updated_at.isoformat().replace("+00:00", "Z")})
    return jsonify({"items": items})


def award_json(award: ProgrammeAward, credential_id: str | None) -> dict:
    return {"id": award.id, "site": award.site_id, "programme": award.programme_id, "learner_id": award.learner_id,
            "issuance_id": award.issuance_id, "credential_id": credential_id, "status": award.status,
            "parts": json.loads(award.parts), "review_reasons": json.loads(award.review_reasons or "[]"),
            "reviewed_by": award.reviewed_by, "review_note": award.review_note,
            "reviewed_at": award.reviewed_at.isoformat().replace("+00:00", "Z") if award.reviewed_at else None,
            "created_at": award.created_at.isoformat().replace("+00:00", "Z")}


@bp.get("/api/v1/programme-awards")
@staff_required(roles.VIEWER)
def list_awards():
    status = request.args.get("status", "")
    if status and status not in AWARD_STATUSES:
        raise ApiError(400, "bad query parameter", [problem("?status", f"one of {', '.join(AWARD_STATUSES)}")])
    ctx = context()
    with ctx.registry.reading() as session:
        query = (select(ProgrammeAward, Issuance.credential_id).join(Issuance, Issuance.id == ProgrammeAward.issuance_id)
                 .order_by(ProgrammeAward.status != "review", ProgrammeAward.created_at.desc()).limit(500))
        if status:
            query = query.where(ProgrammeAward.status == status)
        items = [award_json(award, credential_id) for award, credential_id in session.execute(query).all()]
    return jsonify({"items": items})


@bp.post("/api/v1/programme-awards/<award_id>/reviewed")
@staff_required(roles.REGISTRAR)
def reviewed(award_id: str):
    from bridge.worker import Conflict, NotFound
    from bridge.worker.programmes import mark_reviewed

    body = request.get_json(silent=True)
    if body is not None and not isinstance(body, dict):
        raise ApiError(400, "the body is not a JSON object", [problem("", "expected {\"note\": \"...\"}")])
    note = (body or {}).get("note") or ""
    if not isinstance(note, str):
        raise ApiError(400, "bad note", [problem("/note", "must be text")])
    ctx = context()
    try:
        award = mark_reviewed(ctx, award_id, g.get("actor", "staff"), note)
    except NotFound:
        raise ApiError(404, "no such programme award", [problem("{award_id}", award_id)]) from None
    except Conflict as exc:
        raise ApiError(409, "not waiting for review", [problem("{award_id}", str(exc))]) from None
    with ctx.registry.reading() as session:
        credential_id = session.get(Issuance, award.issuance_id).credential_id
    return jsonify(award_json(award, credential_id))
