"""Course descriptions exported for Europass: one course (Moodle's "Export for Europass" link, signed;
or staff) or every course (staff), as QDR learning-opportunity XML or ELM v3 LearningOpportunity JSON-LD."""
from __future__ import annotations

from flask import Blueprint, Response, g, request

from bridge import europass_export
from bridge.api.errors import ApiError, problem
from bridge.api.intake import _refuse_replay, course_in_path
from bridge.staff import roles
from bridge.api.security import context, moodle_signed_or_staff, staff_required
from bridge.edc import exports
from bridge.intake.auth import AuthError, claim_nonce

bp = Blueprint("europass", __name__)


def _format() -> str:
    if len(request.args.getlist("format")) > 1:  # the signature sorts the query: a name read once is given once
        raise ApiError(400, "bad query parameter", [problem("?format", "given more than once; give it once")])
    name = request.args.get("format", exports.names()[0])
    try:
        return exports.get(name).name
    except exports.UnknownExport as exc:
        raise ApiError(400, "unknown export format", [problem("?format", str(exc))]) from None


def _answer(courses: list[tuple[str, int]] | None, name: str) -> Response:
    ctx = context()
    checks = europass_export.export_checks(ctx.settings, ctx.shapes)
    try:
        with ctx.registry.transaction() as session:
            if g.get("intake_auth") is not None:
                claim_nonce(session, g.intake_auth, ctx.settings.timestamp_window)
            entries = europass_export.stored_entries(session, courses)
        exported = europass_export.export(entries, name, checks)
    except AuthError as exc:
        raise _refuse_replay(exc) from None
    except exports.ExportRefused as refused:
        # One course: the pointers are the description's own (the plugin shows them at their fields).
        one = courses is not None and len(courses) == 1
        raise ApiError(422, "not exported: Europass would refuse it", [
            problem(item["pointer"], item["message"] if one or not item["course"] else f"{item['course']}: {item['message']}")
            for item in refused.as_json()]) from None
    headers = {"Content-Disposition": f'attachment; filename="{exported.filename}"'}
    if exported.unchecked:
        headers["X-EDC-Unchecked"] = exported.unchecked
    return Response(exported.data, mimetype=exported.media_type, headers=headers)


@bp.get("/api/v1/courses/<site>/<course>/europass")
@moodle_signed_or_staff(roles.VIEWER)
def course_export(site: str, course: str):
    return _answer([(site, course_in_path(site, course))], _format())


@bp.get("/api/v1/courses/europass")
@staff_required(roles.VIEWER)
def all_courses_export():
    g.intake_auth = None
    return _answer(None, _format())
