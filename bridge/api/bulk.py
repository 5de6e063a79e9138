"""The staff API of bulk cohorts (Bearer staff token): the same template, check, issue and progress as
the staff pages (bridge/web/staff_bulk.py), for scripts. A registrar's act: `REQUIRED_ROLE` (bridge/bulk),
checked in `_allowed`."""
from __future__ import annotations

import datetime as dt
import json

from flask import Blueprint, Response, g, jsonify, request, stream_with_context

from bridge.api.errors import ApiError, problem
from bridge.api.security import context, staff_required
from bridge.staff import roles
from bridge.bulk import REQUIRED_ROLE, batches, columns, files, reading  # noqa: F401 - the role, see _allowed
from bridge.bulk.batches import BulkError
from bridge.edc import inputs
from bridge.registry.models import BulkBatch

bp = Blueprint("bulk_api", __name__)
PROBLEMS_LISTED = 1000


def _allowed() -> None:
    """Whether this request's staff credential may issue in bulk: one whose roles hold REQUIRED_ROLE (the
    guard, @staff_required(REQUIRED_ROLE), has refused the others with 403 already)."""
    if not g.get("actor") or not roles.allows(g.get("roles", ""), REQUIRED_ROLE):
        raise ApiError(403, "not allowed", [problem("Authorization", f"the {REQUIRED_ROLE} role is needed")])


@bp.before_request
def _upload_limit() -> None:
    """A cohort file may be larger than other bodies (EDC_BULK_MAX_UPLOAD_BYTES)."""
    if request.method == "POST" and request.path.endswith("/api/v1/bulk/batches"):
        request.max_content_length = context().settings.bulk_max_upload_bytes


def _course() -> tuple[str, int]:
    site, _, course = request.args.get("course", "").rpartition("/")
    course_id = inputs.learner_moodle_id(course)
    if not site or course_id is None:
        raise ApiError(400, "bad course", [problem("?course", "required: SITE/COURSE, e.g. moodle/12")])
    return site, course_id


def _batch(db, batch_id: str) -> BulkBatch:
    row = db.get(BulkBatch, batch_id) if len(batch_id) <= 36 else None
    if row is None:
        raise ApiError(404, "no such batch", [problem("{batch_id}", batch_id)])
    return row


@bp.get("/api/v1/bulk/template")
@staff_required(REQUIRED_ROLE)
def template():
    _allowed()
    site, course_id = _course()
    kind = request.args.get("format", "xlsx")
    if kind not in ("xlsx", "csv"):
        raise ApiError(400, "bad format", [problem("?format", "xlsx or csv")])
    with context().registry.reading() as db:
        try:
            spec = batches.course_spec(db, site, course_id)
        except BulkError as exc:
            raise ApiError(404, "no such course", [problem("?course", str(exc))]) from None
    today = dt.datetime.now(dt.timezone.utc).date()
    body = (files.template_xlsx(spec, f"{site}/{course_id} {spec.code or ''}".strip(), today) if kind == "xlsx"
            else files.template_csv(spec, today))
    return Response(body, mimetype=files.XLSX_TYPE if kind == "xlsx" else files.CSV_TYPE, headers={
        "Content-Disposition": f'attachment; filename="template-{course_id}.{kind}"'})


def _summary(db, batch: BulkBatch) -> dict:
    state = batches.progress(db, batch.id)
    return {"batch_id": batch.id, "site": batch.site_id, "course": batch.course_id, "filename": batch.filename,
            "status": batch.status, "rows": batch.rows_total, "valid": batch.rows_valid,
            "refused": batch.rows_total - batch.rows_valid, "issued_before": batch.rows_known,
            "created": batch.created_count, "duplicates": batch.duplicate_count,
            "progress": {"states": state.states, "sealed": state.sealed, "done": state.done, "total": state.total,
                         "finished": batch.status == "issued" and state.finished}}


@bp.post("/api/v1/bulk/batches")
@staff_required(REQUIRED_ROLE)
def upload():
    """The request body is the file itself (XLSX or CSV); checked and kept as a batch, nothing issued."""
    _allowed()
    ctx = context()
    site, course_id = _course()
    data = request.get_data(cache=False)
    name = request.args.get("filename", "upload")
    try:
        batch_id = batches.store_batch(ctx.registry, site, course_id, name, data, reading.Limits.of(ctx.settings),
                                       g.actor)
    except reading.FileRefused as exc:
        raise ApiError(400, "the file is refused", [problem("", str(exc))]) from None
    except BulkError as exc:
        raise ApiError(404, "no such course", [problem("?course", str(exc))]) from None
    with ctx.registry.reading() as db:
        body = _summary(db, _batch(db, batch_id))
        body["problems_total"] = batches.problem_count(db, batch_id)
        body["problems"] = [{"row": n, "column": p.column, "header": columns.header(p.column, ("en",)),
                             "code": p.code, "message": p.text("en")}
                            for n, p in batches.problems_of(db, batch_id, PROBLEMS_LISTED)]
    return jsonify(body), 201


@bp.get("/api/v1/bulk/batches/<batch_id>")
@staff_required(REQUIRED_ROLE)
def batch(batch_id: str):
    _allowed()
    with context().registry.reading() as db:
        return jsonify(_summary(db, _batch(db, batch_id)))


@bp.post("/api/v1/bulk/batches/<batch_id>/issue")
@staff_required(REQUIRED_ROLE)
def issue(batch_id: str):
    """{"valid_only": true} to issue the valid rows of a batch with problems; else such a batch issues nothing."""
    _allowed()
    ctx = context()
    try:
        body = json.loads(request.get_data(cache=True) or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("valid_only", False), bool):
        raise ApiError(400, "bad body", [problem("/valid_only", "expected {\"valid_only\": true|false}")])
    try:
        result = batches.issue(ctx.registry, batch_id, g.actor, valid_only=body.get("valid_only", False))
    except BulkError as exc:
        if exc.code == "not_found":
            raise ApiError(404, "no such batch", [problem("{batch_id}", batch_id)]) from None
        raise ApiError(409, "not issued", [problem("/valid_only" if exc.code == "bulk_needs_choice" else "{batch_id}",
                                                   str(exc))]) from None
    if result.created:
        ctx.wake.set()
    return jsonify({"batch_id": batch_id, "created": result.created, "duplicates": result.duplicates,
                    "refused": result.refused})


@bp.get("/api/v1/bulk/batches/<batch_id>/results.csv")
@staff_required(REQUIRED_ROLE)
def results(batch_id: str):
    _allowed()
    registry = context().registry
    with registry.reading() as db:
        _batch(db, batch_id)

    def lines():
        with registry.reading() as db:
            yield from files.results_lines(batches.results(db, batch_id))

    return Response(stream_with_context(lines()), mimetype=files.CSV_TYPE)
