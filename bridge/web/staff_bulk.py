"""Staff pages for bulk cohorts: templates, upload and check (the preview), issue, progress, results.

The routes hang on the staff blueprint under /staff/bulk (bridge/web/staff.py), so its login, CSRF
check and security headers (a CSP without any script: the progress page refreshes itself with
<meta http-equiv="refresh">) guard them too. Every route is a registrar's act: `REQUIRED_ROLE`
(bridge/bulk/__init__.py, shared with the staff API) says so, and `_allowed` is the pages' one check
(issue 15's roles part fills it in).
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import threading
from dataclasses import dataclass

from flask import Response, abort, flash, redirect, request, stream_with_context, url_for
from sqlalchemy import select

from bridge.bulk import REQUIRED_ROLE, batches, columns, files, reading  # noqa: F401 - the role, see _allowed
from bridge.bulk.batches import BulkError
from bridge.edc import inputs
from bridge.registry.models import BulkBatch, CourseSpecification
from bridge.staff import roles
from bridge.web import i18n
from bridge.web.public import _context, _registry, _settings
from bridge.web.staff import _actor, _course_names, _render, current_session, staff

log = logging.getLogger("edc.bulk")
PROBLEMS_SHOWN = 500
INLINE_ROWS = batches.CHUNK  # up to one chunk is handed over within the request
REFRESH_SECONDS = 3
RECENT_BATCHES = 20


def _allowed() -> bool:
    """Whether this request's staff session may use the bulk pages: one holding REQUIRED_ROLE (the shared
    staff token is an admin, which holds every role). The staff guard checks the declared role first."""
    held = current_session()
    return held is not None and roles.allows(held.role, REQUIRED_ROLE)


def registrar(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if not _allowed():
            abort(403)
        return view(*args, **kwargs)

    return roles.needs(REQUIRED_ROLE)(wrapper)


@staff.before_app_request
def _bulk_upload_limit() -> None:
    """The upload form may carry a cohort file (EDC_BULK_MAX_UPLOAD_BYTES), not only the verify page's
    limit; set before the staff guard reads the form for its CSRF token."""
    if request.method == "POST" and request.path.endswith("/staff/bulk/upload"):
        request.max_content_length = _settings().bulk_max_upload_bytes + 1024 * 1024


def _course(text: str) -> tuple[str, int]:
    """site/course -> (site, id); 404 for anything else (as the catalogue pages answer)."""
    site, _, course = (text or "").rpartition("/")
    course_id = inputs.learner_moodle_id(course)
    if not site or course_id is None:
        abort(404)
    return site, course_id


@dataclass(frozen=True)
class CourseChoice:
    key: str
    label: str


def _courses() -> list[CourseChoice]:
    lang = i18n.current_language()
    with _registry().reading() as db:
        names = _course_names(db)
        rows = db.execute(select(CourseSpecification).where(CourseSpecification.valid.is_(True))
                          .order_by(CourseSpecification.site_id, CourseSpecification.course_id)).scalars().all()
    out = []
    for row in rows:
        key = f"{row.site_id}/{row.course_id}"
        title = json.loads(row.document).get("title") or {}
        text = title.get(lang) or next(iter(title.values()), "") if isinstance(title, dict) else ""
        out.append(CourseChoice(key, " — ".join(x for x in (key, names.get(key, ""), text) if x)))
    return out


@staff.get("/bulk")
@registrar
def bulk():
    with _registry().reading() as db:
        recent = db.execute(select(BulkBatch).order_by(BulkBatch.uploaded_at.desc()).limit(RECENT_BATCHES)).scalars().all()
    return _render("staff/bulk.html", courses=_courses(), recent=recent,
                   limit_mb=f"{_settings().bulk_max_upload_bytes / (1024 * 1024):g}")


@staff.get("/bulk/template")
@registrar
def bulk_template():
    site, course_id = _course(request.args.get("course", ""))
    kind = request.args.get("format", "xlsx")
    if kind not in ("xlsx", "csv"):
        abort(404)
    with _registry().reading() as db:
        try:
            spec = batches.course_spec(db, site, course_id)
        except BulkError:
            abort(404)
    today = dt.datetime.now(dt.timezone.utc).date()
    name = f"template-{_ascii(site)}-{course_id}.{kind}"
    if kind == "xlsx":
        body, mimetype = files.template_xlsx(spec, f"{site}/{course_id} {spec.code or ''}".strip(), today), files.XLSX_TYPE
    else:
        body, mimetype = files.template_csv(spec, today), files.CSV_TYPE
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@staff.post("/bulk/upload")
@registrar
def bulk_upload():
    settings = _settings()
    upload = request.files.get("file")
    text = request.form.get("course", "")
    site, _, course = text.rpartition("/")
    course_id = inputs.learner_moodle_id(course)
    if not site or course_id is None:
        flash(i18n.t("bulk_no_course"), "error")
        return redirect(url_for("staff.bulk"), 303)
    if upload is None or not upload.filename:
        flash(i18n.t("bulk_no_file"), "error")
        return redirect(url_for("staff.bulk"), 303)
    data = upload.stream.read(settings.bulk_max_upload_bytes + 1)
    try:
        batch_id = batches.store_batch(_registry(), site, course_id, upload.filename, data,
                                       reading.Limits.of(settings), _actor())
    except reading.FileRefused as exc:
        flash(i18n.t("bulk_refused_file", reason=exc.text(i18n.current_language())), "error")
        return redirect(url_for("staff.bulk"), 303)
    except BulkError as exc:
        flash(i18n.t(exc.code), "error")
        return redirect(url_for("staff.bulk"), 303)
    return redirect(url_for("staff.bulk_batch", batch_id=batch_id), 303)


def _hand_over(registry, batch_id: str, actor: str, valid_only: bool, wake) -> None:
    """A large batch's hand-over, off the request; a failure is logged and the batch, left issuing, is
    offered to be continued (batches.STALE_ISSUING)."""
    try:
        batches.hand_over(registry, batch_id, actor, valid_only=valid_only,
                          after_chunk=wake.set if wake is not None else None)
    except Exception:  # noqa: BLE001 - a thread's last word: logged, never lost silently
        log.exception("handing bulk batch %s to the intake failed; it can be continued from its page", batch_id)


def _batch_or_404(db, batch_id: str) -> BulkBatch:
    row = db.get(BulkBatch, batch_id) if len(batch_id) <= 36 else None
    if row is None:
        abort(404)
    return row


@dataclass(frozen=True)
class ProblemRow:
    row: int
    column: str
    problem: str


@staff.get("/bulk/<batch_id>")
@registrar
def bulk_batch(batch_id: str):
    lang = i18n.current_language()
    with _registry().reading() as db:
        batch = _batch_or_404(db, batch_id)
        problems = [ProblemRow(number, columns.header(p.column, (lang,)), p.text(lang))
                    for number, p in batches.problems_of(db, batch_id, PROBLEMS_SHOWN)]
        count = batches.problem_count(db, batch_id) if len(problems) >= PROBLEMS_SHOWN else len(problems)
        progress = batches.progress(db, batch_id) if batch.status != "checked" else None
        handed = batches.handed_over(db, batch_id) if batch.status == "issuing" else None
    refresh = progress is not None and (batch.status == "issuing" or not progress.finished)
    return _render("staff/bulk_batch.html", batch=batch, problems=problems, problem_count=count,
                   refused=batch.rows_total - batch.rows_valid, progress=progress, states=batches.STATES,
                   stalled=batches.stalled(batch), handed=handed,
                   refresh=REFRESH_SECONDS if refresh else None)


@staff.post("/bulk/<batch_id>/issue")
@registrar
def bulk_issue(batch_id: str):
    """Claim the batch here (a second click, or a batch with problems and no choice, is answered at once);
    hand its rows to the intake in this request when small, else in a thread of its own, so a 20,000-row
    batch never holds the request (and a proxy's timeout) for the half minute it takes."""
    valid_only = request.form.get("valid_only") == "1"
    registry, actor = _registry(), _actor()
    wake = getattr(_context(), "wake", None)
    try:
        batch = batches.claim(registry, batch_id, actor, valid_only=valid_only)
    except BulkError as exc:
        if exc.code == "not_found":
            abort(404)
        flash(i18n.t(exc.code) if exc.code in i18n.MESSAGES["en"] else str(exc), "error")
        return redirect(url_for("staff.bulk_batch", batch_id=batch_id), 303)
    if batch.rows_valid > INLINE_ROWS:
        threading.Thread(target=_hand_over, args=(registry, batch_id, actor, valid_only, wake),
                         name=f"bulk-{batch_id[:8]}", daemon=True).start()
        flash(i18n.t("bulk_handing_over", count=batch.rows_valid), "ok")
        return redirect(url_for("staff.bulk_batch", batch_id=batch_id), 303)
    result = batches.hand_over(registry, batch_id, actor, valid_only=valid_only)
    if wake is not None and result.created:
        wake.set()
    if result.created:
        flash(i18n.t("bulk_issued_flash", created=result.created, duplicates=result.duplicates), "ok")
    else:
        flash(i18n.t("bulk_nothing_new"), "ok")
    return redirect(url_for("staff.bulk_batch", batch_id=batch_id), 303)


@staff.get("/bulk/<batch_id>/refused.<kind>")
@registrar
def bulk_refused(batch_id: str, kind: str):
    if kind not in ("xlsx", "csv"):
        abort(404)
    lang = i18n.current_language()
    with _registry().reading() as db:
        batch = _batch_or_404(db, batch_id)
        languages = batches.languages_of(db, batch.site_id, batch.course_id)
        body = files.refused_rows(kind, languages, list(batches.refused_rows(db, batch_id)), lang)
    stem = batch.filename.rsplit(".", 1)[0] or "upload"
    mimetype = files.XLSX_TYPE if kind == "xlsx" else files.CSV_TYPE
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="refused-{_ascii(stem)}.{kind}"'})


def _ascii(text: str) -> str:
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in text)[:80] or "upload"


@staff.get("/bulk/<batch_id>/results.csv")
@registrar
def bulk_results(batch_id: str):
    lang = i18n.current_language()
    with _registry().reading() as db:
        batch = _batch_or_404(db, batch_id)

    def lines():
        with _registry().reading() as db:
            yield from files.results_lines(batches.results(db, batch_id, lang))

    return Response(stream_with_context(lines()), mimetype=files.CSV_TYPE, headers={
        "Content-Disposition": f'attachment; filename="results-{_ascii(batch.filename.rsplit(".", 1)[0])}.csv"'})
