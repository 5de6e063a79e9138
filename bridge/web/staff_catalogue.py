"""Staff pages for the course catalogue: every stored course description, whether Europass would take
it, and its export for Europass (one course or all as one file, QDR XML or ELM v3 JSON-LD).

The routes hang on the staff blueprint (bridge/web/staff.py), so its login, CSRF check and headers
guard them too; this module only adds pages.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from flask import Response, abort, flash, redirect, request, url_for
from sqlalchemy import select

from bridge import europass_export
from bridge.edc import exports, model
from bridge.edc.qdr_xml import europass_problems
from bridge.registry.models import CourseSpecification
from bridge.web import i18n
from bridge.web.public import _context, _registry
from bridge.web.staff import _course_names, _render, staff


@dataclass(frozen=True)
class CourseRow:
    key: str
    name: str
    code: str
    title: str
    updated: str
    state: str  # ready | incomplete | refused
    problems: tuple[str, ...]


def _course_row(row: CourseSpecification, lang: str, names: dict[str, str]) -> CourseRow:
    key = europass_export.course_key(row.site_id, row.course_id)
    document = json.loads(row.document)
    title = document.get("title") if isinstance(document, dict) else None
    title = (title.get(lang) or next(iter(title.values()), "")) if isinstance(title, dict) and title else ""
    code = document.get("code", "") if isinstance(document, dict) else ""
    if not row.valid:
        problems = tuple(f"{p.get('pointer') or '/'}: {p.get('message')}" for p in json.loads(row.problems))
        state = "refused"
    else:
        problems = tuple(str(p) for p in europass_problems(model.load_course_spec(document)))
        state = "incomplete" if problems else "ready"
    return CourseRow(key, names.get(key, ""), str(code), str(title), row.updated_at.strftime("%Y-%m-%d %H:%M"),
                     state, problems)


@staff.get("/courses")
def courses():
    lang = i18n.current_language()
    with _registry().reading() as db:
        names = _course_names(db)
        rows = [_course_row(row, lang, names) for row in db.execute(
            select(CourseSpecification).order_by(CourseSpecification.site_id, CourseSpecification.course_id)).scalars()]
    ctx = _context()
    checks = europass_export.export_checks(ctx.settings, ctx.shapes)
    unchecked = [note for e in exports.all_exports() if (note := e.skipped_check(checks))]
    return _render("staff/courses.html", rows=rows, export_names=exports.names(), unchecked=unchecked,
                   export_label={e.name: e.label for e in exports.all_exports()})


def _selection() -> list[tuple[str, int]] | None:
    """?course=site/id (one course) or nothing (every course); a malformed one is a 404, as an unknown one is."""
    text = request.args.get("course", "")
    if not text:
        return None
    site, _, course = text.rpartition("/")
    if not site or not course.isascii() or not course.isdigit() or len(course) > 19:
        abort(404)
    return [(site, int(course))]


@staff.get("/courses/europass")
def courses_export():
    """The export as a download; refused: back to the list, saying which course lacks what."""
    ctx = _context()
    try:
        chosen = exports.get(request.args.get("format", exports.names()[0]))
    except exports.UnknownExport:
        abort(404)
    selection = _selection()
    try:
        with _registry().reading() as db:
            entries = europass_export.stored_entries(db, selection)
        exported = europass_export.export(entries, chosen.name, europass_export.export_checks(ctx.settings, ctx.shapes))
    except exports.ExportRefused as refused:
        flash(i18n.t("export_refused"), "error")
        for item in refused.as_json()[:50]:
            flash(f"{item['course'] + ': ' if item['course'] else ''}{item['pointer'] or '/'}: {item['message']}", "error")
        return redirect(url_for("staff.courses"), 303)
    headers = {"Content-Disposition": f'attachment; filename="{exported.filename}"'}
    if exported.unchecked:
        headers["X-EDC-Unchecked"] = exported.unchecked
    return Response(exported.data, mimetype=exported.media_type, headers=headers)
