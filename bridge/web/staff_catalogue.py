"""Staff pages for the course catalogue: every stored course description, whether Europass would take
it, and its export for Europass (one course or all as one file, QDR XML or ELM v3 JSON-LD); and the
programmes (stacked credentials): their rules, the programme credentials awarded, and those flagged for
review because a part was revoked, which staff mark as reviewed (after revoking it, or not).

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
from bridge.registry.models import CourseSpecification, Issuance, Programme, ProgrammeAward
from bridge.staff import roles
from bridge.web import i18n
from bridge.web.public import _context, _registry
from bridge.web.staff import _actor, _course_names, _render, staff


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
@roles.needs(roles.VIEWER)
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
@roles.needs(roles.VIEWER)
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


# --- programmes (stacked credentials) ------------------------------------------------------------


PAGE_AWARDS = 200  # the newest awards the programmes page lists


@dataclass(frozen=True)
class ProgrammeRow:
    key: str
    title: str
    parts: str
    rule: str
    valid: bool
    problems: tuple[str, ...]
    awards: int


@dataclass(frozen=True)
class AwardRow:
    id: str
    programme: str
    learner: str
    credential_id: str | None
    status: str
    created: str
    reasons: tuple[str, ...]
    reviewed: str


def _rule_words(rule: dict, parts: int) -> str:
    words = i18n.t("rule_all", count=parts) if rule.get("kind") == "all" else \
        i18n.t("rule_n_of", count=rule.get("count"), total=parts)
    if rule.get("min_ects"):
        words += i18n.t("rule_min_ects", ects=rule["min_ects"])
    if rule.get("within"):
        words += i18n.t("rule_within", within=rule["within"])
    return words


def _programme_row(row: Programme, awards: int, lang: str) -> ProgrammeRow:
    document = json.loads(row.document)
    document = document if isinstance(document, dict) else {}
    parts = [p for p in document.get("parts") or [] if isinstance(p, dict)]
    title = (document.get("credential") or {}).get("title") if isinstance(document.get("credential"), dict) else None
    title = (title.get(lang) or next(iter(title.values()), "")) if isinstance(title, dict) and title else ""
    rule = document.get("rule") if isinstance(document.get("rule"), dict) else {}
    return ProgrammeRow(f"{row.site_id}/{row.programme_id}", str(title),
                        ", ".join(f"{p.get('course')}" + (f" ({p['code']})" if p.get("code") else "") for p in parts),
                        _rule_words(rule, len(parts)) if row.valid else "", row.valid,
                        tuple(f"{p.get('pointer') or '/'}: {p.get('message')}" for p in json.loads(row.problems)), awards)


def _award_row(award: ProgrammeAward, credential_id: str | None, learner: str) -> AwardRow:
    reasons = tuple(i18n.t("review_part_revoked", credential=r.get("credential_id"), reason=r.get("reason"))
                    for r in json.loads(award.review_reasons or "[]"))
    reviewed = f"{award.reviewed_by} {award.reviewed_at:%Y-%m-%d %H:%M}" + (f": {award.review_note}" if award.review_note else "") \
        if award.reviewed_at else ""
    return AwardRow(award.id, f"{award.site_id}/{award.programme_id}", learner, credential_id, award.status,
                    award.created_at.strftime("%Y-%m-%d %H:%M"), reasons, reviewed)


@staff.get("/programmes")
@roles.needs(roles.VIEWER)
def programmes():
    lang = i18n.current_language()
    with _registry().reading() as db:
        counts: dict[str, int] = {}
        for site_id, programme_id in db.execute(select(ProgrammeAward.site_id, ProgrammeAward.programme_id)):
            counts[f"{site_id}/{programme_id}"] = counts.get(f"{site_id}/{programme_id}", 0) + 1
        rows = [_programme_row(row, counts.get(f"{row.site_id}/{row.programme_id}", 0), lang) for row in db.execute(
            select(Programme).order_by(Programme.site_id, Programme.programme_id)).scalars()]
        found = db.execute(select(ProgrammeAward, Issuance).join(Issuance, Issuance.id == ProgrammeAward.issuance_id)
                           .order_by(ProgrammeAward.created_at.desc()).limit(PAGE_AWARDS)).all()
        awards = [_award_row(award, issuance.credential_id, _learner_name(issuance)) for award, issuance in found]
    return _render("staff/programmes.html", rows=rows, review=[a for a in awards if a.status == "review"],
                   awards=awards)



def _learner_name(issuance: Issuance) -> str:
    try:
        learner = json.loads(issuance.payload).get("learner") or {}
    except ValueError:
        return issuance.learner_id
    name = " ".join(str(learner.get(k) or "") for k in ("given_names", "family_name")).strip()
    return name or issuance.learner_id


@staff.post("/programmes/awards/<award_id>/reviewed")
@roles.needs(roles.REGISTRAR)
def programme_reviewed(award_id: str):
    from bridge.worker import Conflict, NotFound
    from bridge.worker.programmes import mark_reviewed

    try:
        mark_reviewed(_context(), award_id, _actor(), request.form.get("note", ""))
    except NotFound:
        abort(404)
    except Conflict:
        flash(i18n.t("review_not_flagged"), "error")
        return redirect(url_for("staff.programmes"), 303)
    flash(i18n.t("review_done"), "ok")
    return redirect(url_for("staff.programmes"), 303)
