"""The staff pages: the registry (search, one credential, revoke, re-issue, retry, CSV) and a dashboard.

Staff log in as named people (issue 15: the university's identity provider or a local account with a TOTP
second factor, bridge/web/staff_login.py) or with the shared staff token (EDC_STAFF_TOKEN, one admin). Every
route declares the role it needs (bridge/staff/roles.py); the guard refuses a session whose roles do not
cover it (403) and an undeclared route is an admin's. The session lives in the registry
(bridge/registry/staff_access.py); the browser's cookie (`edc_staff`: HttpOnly, SameSite=Strict, Secure
behind https, path /staff) holds only its random id, so logout, expiry or a role change ends it for
every copy of the cookie. Every form that changes something carries the session's CSRF token, bound to
the server-side session; the login form carries one of its own (Flask's signed `edc_ui` cookie, which
also carries flash messages and opens nothing). Failed logins count against the client address's
budget (EDC_STAFF_AUTH_LIMIT), shared with the staff API's Bearer check. Every change goes through the
registry in one transaction with its audit entry, whose actor is the session's, so the audit trail
says who did what even when the change came from a browser.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import urlencode, urlparse

from flask import (Blueprint, Flask, Response, abort, current_app, flash, g, redirect, render_template, request,
                   session, stream_with_context, url_for)
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from bridge.edc import inputs
from bridge.presentation.charts import last_weeks, stacked_weekly_bars, week_start
from bridge.presentation.spreadsheet import csv_line
from bridge.registry import audit, site_secrets, staff_access
from bridge.staff import roles
from bridge.registry.models import AuditEntry, Credential, Delivery, Issuance, Revocation, StaffSession, utcnow
from bridge.trusted_lists_source import status_of as trusted_lists_status
from bridge.web import i18n
from bridge.web.public import (security_headers, _context, _registry, _remember_language, _settings, _template_globals,
                               credential_view, full_id, public_url, stored_document)

staff = Blueprint("staff", __name__, url_prefix="/staff")
staff.after_request(_remember_language)
staff.after_request(security_headers)

SESSION_LIFETIME = dt.timedelta(hours=8)
SESSION_COOKIE = "edc_staff"  # the server-side session's id, nothing else
UI_COOKIE = "edc_ui"  # Flask's signed cookie: flash messages and the login form's CSRF token
STAFF_SESSION_SECRET = "staff-session-key"  # its name in site_secrets when no staff token or OIDC secret is set
PAGE_ROWS = 200
WEEKS_SHOWN = 12
CREDENTIAL_STATUSES = ("issued", "revoked", "superseded")
CSV_COLUMNS = ("credential_id", "issued_at", "learner_name", "learner_email", "course", "title", "status",
               "supersedes", "superseded_by", "sha256")


# --- session, login, CSRF ------------------------------------------------------------------------


def _session_secret(staff_token: str) -> bytes:
    """The key of the UI cookie, derived from the staff token: stable across restarts and replicas, so a
    login form served by one replica is accepted by another."""
    return hmac.new(staff_token.encode(), b"edc-staff-session-v1", hashlib.sha256).digest()


def _proof(actor: str = staff_access.SHARED_TOKEN_ACTOR) -> str:
    """The fingerprint a session is opened under: for the shared token, the token's (a rotated staff token
    no longer matches it); for a named person, their name's (their sessions end by revocation: logout,
    role change, disabled account)."""
    if actor == staff_access.SHARED_TOKEN_ACTOR:
        return staff_access.credential_proof(_settings().staff_token or "")
    return staff_access.credential_proof(actor, b"edc-named-staff-session-v1")


def current_session() -> StaffSession | None:
    """The registry's session this request's cookie opens (looked up once per request), or None."""
    if "staff_session" not in g:
        session_id = request.cookies.get(SESSION_COOKIE, "")
        g.staff_session = None
        if session_id:
            with _registry().reading() as db:
                g.staff_session = staff_access.active_session(db, session_id, _proof)
    return g.staff_session


def _actor() -> str:
    """Who the audit trail names for this request's changes: the session's actor, never a form field."""
    return current_session().actor


def csrf_token() -> str:
    """Logged in: the token bound to the server-side session. On the login form: one kept in the UI
    cookie against login CSRF (it opens nothing)."""
    if current_session() is not None:
        return staff_access.csrf_token(request.cookies[SESSION_COOKIE])
    token = session.get("login_csrf")
    if not token:
        token = session["login_csrf"] = secrets.token_urlsafe(32)
    return token


def _csrf_ok() -> bool:
    sent = request.form.get("csrf_token", "")
    return bool(sent) and hmac.compare_digest(sent, csrf_token())


def _logged_in() -> bool:
    return current_session() is not None


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to somewhere else."""
    if target and target.startswith("/staff") and not urlparse(target).netloc and not target.startswith("//"):
        return target
    return url_for("staff.dashboard")


def _needed_role() -> str:
    """The role this request's route declared (bridge/staff/roles.py); a route that declared none is an
    admin's (fail closed)."""
    return roles.required(current_app.view_functions.get(request.endpoint)) or roles.ADMIN


@staff.before_request
def _guard():
    needed = _needed_role()
    if needed != roles.PUBLIC and not _logged_in():
        flash(i18n.t("login_needed"), "error")
        return redirect(url_for("staff.login", next=request.full_path.rstrip("?"))), 303
    if request.method == "POST" and not _csrf_ok():
        flash(i18n.t("csrf_failed"), "error")
        return redirect(request.referrer if request.referrer and request.referrer.startswith(request.host_url)
                        else url_for("staff.login")), 303
    held = current_session()
    if held is not None:
        g.staff_acting = audit.ACTING_ROLE.set((held.actor, held.role))
    if needed != roles.PUBLIC and not roles.allows(held.role, needed):
        return _render("staff/forbidden.html", needed=role_word(needed),
                       held=", ".join(role_word(r) for r in held.role.split(","))), 403
    return None


def role_word(role: str) -> str:
    """A role's name in the page's language."""
    key = f"role_{role}"
    return i18n.t(key) if key in i18n.MESSAGES["en"] else role


@staff.teardown_request
def _acting_done(_error=None) -> None:  # noqa: ANN001
    acting = g.pop("staff_acting", None)
    if acting is not None:
        audit.ACTING_ROLE.reset(acting)


def _render(template: str, **context: Any) -> str:
    return render_template(template, **context, **_template_globals(), csrf_token=csrf_token,
                           staff_logged_in=_logged_in(), status_word=_status_word, staff_may=_may)


def _may(role: str) -> bool:
    """Whether this request's session holds `role` (the navigation shows only what it may open)."""
    held = current_session()
    return held is not None and roles.allows(held.role, role)


def _status_word(status: str) -> str:
    key = f"status_{status}"
    return i18n.t(key) if key in i18n.MESSAGES["en"] else status


@staff.route("/login", methods=["GET", "POST"])
@roles.needs(roles.PUBLIC)
def login():
    configured = _settings().staff_token
    next_url = request.args.get("next")
    if request.method == "POST" and "username" in request.form:
        from bridge.web import staff_login

        return staff_login.local_login(next_url)
    if request.method == "POST" and configured:
        return _try_login(configured, next_url)
    return login_page(next_url)


def login_page(next_url: str | None, status: int = 200, headers: dict | None = None):
    """The login page: the identity provider's button (if one is configured), the local account form, and
    the shared token's form (if EDC_STAFF_TOKEN is set)."""
    settings = _settings()
    page = _render("staff/login.html", disabled=False, next_url=next_url, oidc=settings.oidc is not None,
                   shared_token=bool(settings.staff_token))
    return page, status, headers or {}


def _try_login(configured: str, next_url: str | None):
    """The token under the address's budget (429 with Retry-After once spent); right: a new session."""
    ctx, client = _context(), request.remote_addr or ""
    attempt = staff_access.try_secret(ctx.registry, request.form.get("token", ""), configured, client, "login",
                                      request.path, staff_access.Budget(*_settings().staff_auth_budget))
    if not attempt.ok:
        if ctx.metrics:
            ctx.metrics.staff_auth_refused.labels(attempt.outcome).inc()
        if attempt.outcome == "throttled":
            flash(i18n.t("login_throttled", minutes=-(-attempt.retry_after // 60)), "error")
            return login_page(next_url, 429, {"Retry-After": str(attempt.retry_after)})
        flash(i18n.t("login_failed"), "error")
        return login_page(next_url, 401)
    return start_session(staff_access.SHARED_TOKEN_ACTOR, staff_access.SHARED_TOKEN_ROLE, "token", next_url)


def start_session(actor: str, held: str, method: str, next_url: str | None):
    """A new server-side session for someone just authenticated, audited (who, which roles, how, from
    where), and the cookie that holds its id. A new login never keeps the session id it came with."""
    lifetime = dt.timedelta(minutes=_settings().staff_session_minutes)
    with _registry().transaction() as db:
        if request.cookies.get(SESSION_COOKIE):
            staff_access.end_session(db, request.cookies[SESSION_COOKIE], "replaced")
        session_id = staff_access.open_session(db, actor, held, _proof(actor), lifetime)
        audit.append(db, actor, "staff.login", "staff", {"from": request.remote_addr or "", "method": method,
                                                         "role": held})
    session.clear()  # the login form's CSRF token (or the identity provider's state) has done its job
    response = redirect(_safe_next(next_url), 303)
    response.set_cookie(SESSION_COOKIE, session_id, max_age=int(lifetime.total_seconds()),
                        path=_cookie_path(), httponly=True, samesite="Strict", secure=_secure_cookies())
    return response


@staff.post("/logout")
@roles.needs(roles.VIEWER)
def logout():
    """Ends the session in the registry: a copy of the cookie taken before opens nothing after."""
    with _registry().transaction() as db:
        staff_access.end_session(db, request.cookies[SESSION_COOKIE], "logout")
        audit.append(db, _actor(), "staff.logout", "staff", {"from": request.remote_addr or ""})
    session.clear()
    flash(i18n.t("logged_out"), "ok")
    response = redirect(url_for("staff.login"), 303)
    response.delete_cookie(SESSION_COOKIE, path=_cookie_path(), httponly=True, samesite="Strict",
                           secure=_secure_cookies())
    return response


def _cookie_path() -> str:
    return f"{request.script_root}{staff.url_prefix}"


def _secure_cookies(settings: Any = None) -> bool:
    return str(getattr(settings or _settings(), "public_url", "")).startswith("https://")


# --- registry search -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    q: str = ""
    course: str = ""
    status: str = ""
    date_from: str = ""
    date_to: str = ""

    @classmethod
    def from_request(cls) -> "Filters":
        args = request.args
        return cls(args.get("q", "").strip(), args.get("course", "").strip(), args.get("status", "").strip(),
                   _iso_date(args.get("from")), _iso_date(args.get("to")))

    def as_args(self) -> dict[str, str]:
        pairs = {"q": self.q, "course": self.course, "status": self.status, "from": self.date_from, "to": self.date_to}
        return {k: v for k, v in pairs.items() if v}


def _iso_date(value: str | None) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat() if value else ""
    except ValueError:
        return ""


def _day_start(day: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(), tzinfo=dt.timezone.utc)


def _search(filters: Filters):
    """The credentials matching the filters, newest first (a SQLAlchemy select, not yet run)."""
    query = select(Credential)
    if filters.q:
        like = f"%{filters.q.casefold()}%"
        query = query.where(or_(func.edc_casefold(Credential.learner_name).like(like),
                                func.edc_casefold(Credential.learner_email).like(like),
                                Credential.id == filters.q))
    if filters.course:
        site, _, course = filters.course.rpartition("/")
        course_id = inputs.learner_moodle_id(course)  # the ASCII id rule; "²" is no course
        if course_id is not None:
            query = query.where(Credential.course_id == course_id)
            if site:
                query = query.where(Credential.site_id == site)
    if filters.status == "superseded":
        query = query.where(Credential.superseded_by.is_not(None))
    elif filters.status == "issued":
        query = query.where(and_(Credential.status == "issued", Credential.superseded_by.is_(None)))
    elif filters.status:
        query = query.where(Credential.status == filters.status)
    if filters.date_from:
        query = query.where(Credential.issued_at >= _day_start(filters.date_from))
    if filters.date_to:
        query = query.where(Credential.issued_at < _day_start(filters.date_to) + dt.timedelta(days=1))
    return query.order_by(Credential.issued_at.desc(), Credential.id)


def _course_names(db: Session) -> dict[str, str]:
    """"site/course_id" -> the course's short name (from the event that asked for its first credential)."""
    names: dict[str, str] = {}
    rows = db.execute(select(Issuance.site_id, Issuance.course_id, Issuance.payload)
                      .where(Issuance.id.in_(select(func.min(Issuance.id)).group_by(Issuance.site_id, Issuance.course_id))))
    for site_id, course_id, payload in rows:
        try:
            course = json.loads(payload).get("course") or {}
        except (ValueError, AttributeError):
            course = {}
        names[f"{site_id}/{course_id}"] = course.get("shortname") or f"#{course_id}"
    return names


def _title(row: Credential, lang: str) -> str:
    try:
        title = json.loads(row.title)
    except ValueError:
        return row.title
    if isinstance(title, dict):
        return title.get(lang) or title.get("en") or next(iter(title.values()), "")
    return str(title)


def _status_of(row: Credential) -> str:
    return "superseded" if row.superseded_by and row.status != "revoked" else row.status


@dataclass(frozen=True)
class ResultRow:
    credential_id: str
    issued: str
    learner: str
    email: str
    course: str
    title: str
    status: str


def _result_rows(db: Session, rows, lang: str, names: dict[str, str]) -> Iterator[ResultRow]:
    for row in rows:
        yield ResultRow(row.id, row.issued_at.strftime("%Y-%m-%d %H:%M"), row.learner_name, row.learner_email,
                        names.get(f"{row.site_id}/{row.course_id}", f"#{row.course_id}"), _title(row, lang),
                        _status_of(row))


@staff.get("/credentials")
@roles.needs(roles.VIEWER)
def registry():
    filters = Filters.from_request()
    lang = i18n.current_language()
    with _registry().transaction() as db:
        names = _course_names(db)
        query = _search(filters)
        total = db.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
        rows = list(_result_rows(db, db.execute(query.limit(PAGE_ROWS)).scalars(), lang, names))
    csv_url = url_for("staff.registry_csv") + ("?" + urlencode(filters.as_args()) if filters.as_args() else "")
    return _render("staff/registry.html", filters=filters, rows=rows, total=total, csv_url=csv_url,
                   courses=sorted(names, key=lambda k: names[k]), course_label=names,
                   statuses=CREDENTIAL_STATUSES)


@staff.get("/credentials.csv")
@roles.needs(roles.VIEWER)
def registry_csv():
    """Every matching credential (not only the first page), streamed so a large export stays light."""
    filters = Filters.from_request()
    lang = i18n.current_language()

    def lines() -> Iterator[str]:
        yield csv_line(CSV_COLUMNS)
        with _registry().transaction() as db:
            names = _course_names(db)
            for row in db.execute(_search(filters).execution_options(yield_per=500)).scalars():
                yield csv_line([row.id, row.issued_at.isoformat(), row.learner_name, row.learner_email,
                                names.get(f"{row.site_id}/{row.course_id}", row.course_id), _title(row, lang),
                                _status_of(row), row.supersedes, row.superseded_by, row.sha256])

    stamp = utcnow().strftime("%Y%m%d-%H%M")
    return Response(stream_with_context(lines()), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="credentials-{stamp}.csv"'})


# --- one credential ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    channel: str
    kind: str
    status: str
    attempts: int
    last_error: str | None
    updated_at: str
    retryable: bool
    resendable: bool = False  # sent: staff may send it again (the learner lost it)
    resends: int = 0


@dataclass(frozen=True)
class AuditRow:
    at: str
    actor: str
    action: str
    detail: str


def _deliveries(db: Session, credential_id: str) -> list[DeliveryRow]:
    rows = db.execute(select(Delivery).where(Delivery.credential_id == credential_id).order_by(Delivery.id)).scalars()
    return [DeliveryRow(d.id, d.channel, d.kind, d.state, d.attempts, d.last_error,
                        (d.sent_at or d.next_attempt_at or d.created_at).strftime("%Y-%m-%d %H:%M"),
                        d.state == "failed" or (d.state == "pending" and bool(d.last_error)),
                        d.state == "sent", d.resends or 0)
            for d in rows]


def _audit(db: Session, row: Credential, deliveries: list[DeliveryRow]) -> list[AuditRow]:
    subjects = [row.id, row.issuance_id] + [str(d.id) for d in deliveries]
    entries = db.execute(select(AuditEntry).where(AuditEntry.subject.in_(subjects)).order_by(AuditEntry.seq)).scalars()
    return [AuditRow(e.at[:19].replace("T", " "), e.actor, e.action, _short(e.details)) for e in entries]


def _short(details: str) -> str:
    try:
        data = json.loads(details)
    except ValueError:
        return details[:200]
    return ", ".join(f"{k}: {v}" for k, v in data.items())[:300] if isinstance(data, dict) else str(data)[:300]


@dataclass(frozen=True)
class Record:
    credential_id: str
    status: str


@staff.get("/credentials/<credential_id>")
@roles.needs(roles.VIEWER)
def credential(credential_id: str):
    credential_id = full_id(credential_id)
    lang = i18n.current_language()
    with _registry().transaction() as db:
        row = db.get(Credential, credential_id)
        if row is None:
            abort(404)
        revocation = db.execute(select(Revocation).where(Revocation.credential_id == credential_id)).scalar_one_or_none()
        view, _report = credential_view(stored_document(db, row), lang, revocation)
        page = public_url(db, credential_id, _settings().public_url)
        deliveries = _deliveries(db, credential_id)
        entries = _audit(db, row, deliveries)
    return _render("staff/credential.html", record=Record(row.id, _status_of(row)), view=view, qr_svg=None,
                   public_url=page, deliveries=deliveries, audit=entries)


@staff.get("/credentials/<credential_id>/xml")
@roles.needs(roles.VIEWER)
def credential_xml(credential_id: str):
    with _registry().transaction() as db:
        row = db.get(Credential, credential_id)
        if row is None:
            abort(404)
        document = stored_document(db, row)
    name = f"credential-{credential_id.rsplit(':', 1)[-1]}.xml"
    return Response(document, mimetype="application/xml", headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _back_to(credential_id: str):
    return redirect(url_for("staff.credential", credential_id=credential_id), 303)


@staff.post("/credentials/<credential_id>/revoke")
@roles.needs(roles.REGISTRAR)
def revoke(credential_id: str):
    from bridge import worker

    reason = " ".join(request.form.get("reason", "").split())[:2000]
    if not reason:
        flash(i18n.t("revoke_reason_missing"), "error")
        return _back_to(credential_id)
    try:
        worker.revoke(_context(), credential_id, reason, _actor())
    except worker.NotFound:
        abort(404)
    except worker.Conflict as exc:
        flash(str(exc), "error")
        return _back_to(credential_id)
    flash(i18n.t("revoke_done"), "ok")
    return _back_to(credential_id)


@staff.post("/credentials/<credential_id>/reissue")
@roles.needs(roles.REGISTRAR)
def reissue(credential_id: str):
    from bridge import worker

    corrected = {key: " ".join(request.form.get(key, "").split())[:200] for key in ("given_names", "family_name")}
    corrected = {key: value for key, value in corrected.items() if value}
    try:
        worker.reissue(_context(), credential_id, _actor(), corrected or None, "re-issued from the staff pages")
    except worker.NotFound:
        abort(404)
    except worker.Conflict as exc:
        flash(str(exc), "error")
        return _back_to(credential_id)
    flash(i18n.t("reissue_done"), "ok")
    return _back_to(credential_id)


@staff.post("/deliveries/<id:delivery_id>/retry")
@roles.needs(roles.REGISTRAR)
def retry(delivery_id: int):
    from bridge import worker

    try:
        row = worker.retry_delivery(_context(), delivery_id, _actor())
    except worker.NotFound:
        abort(404)
    except worker.Conflict as exc:
        flash(str(exc), "error")
        return redirect(url_for("staff.dashboard"), 303)
    flash(i18n.t("retry_done"), "ok")
    return _back_to(row.credential_id)


@staff.post("/deliveries/<id:delivery_id>/resend")
@roles.needs(roles.REGISTRAR)
def resend(delivery_id: int):
    from bridge import worker

    try:
        row = worker.resend_delivery(_context(), delivery_id, _actor(), request.form.get("reason", ""))
    except worker.NotFound:
        abort(404)
    except worker.InvalidRequest:
        flash(i18n.t("resend_reason_missing"), "error")
        return _back_to_delivery(delivery_id)
    except worker.Conflict as exc:  # the worker's words are English (API, logs); the page says it in its own
        flash(i18n.t(f"resend_{exc.code}"), "error")
        return _back_to_delivery(delivery_id)
    flash(i18n.t("resend_done"), "ok")
    return _back_to(row.credential_id)


def _back_to_delivery(delivery_id: int):
    with _context().registry.reading() as db:
        row = db.get(Delivery, delivery_id)
        return _back_to(row.credential_id) if row else redirect(url_for("staff.dashboard"), 303)


# --- dashboard -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FailingDelivery:
    credential_id: str
    learner: str
    course: str
    channel: str
    attempts: int
    last_error: str | None
    next_attempt: str


@dataclass(frozen=True)
class Queue:
    events: int
    deliveries: int


@dataclass(frozen=True)
class SealState:
    text: str
    css: str
    subject: str | None = None


def weekly_counts(db: Session, weeks: list[dt.date], names: dict[str, str]) -> dict[str, dict[dt.date, int]]:
    """Credentials issued per course per week (counted in Python: the same on SQLite and PostgreSQL)."""
    since = dt.datetime.combine(weeks[0], dt.time(), tzinfo=dt.timezone.utc)
    counts: dict[str, dict[dt.date, int]] = {}
    rows = db.execute(select(Credential.site_id, Credential.course_id, Credential.issued_at)
                      .where(Credential.issued_at >= since))
    for site_id, course_id, issued_at in rows:
        course = names.get(f"{site_id}/{course_id}", f"#{course_id}")
        week = week_start(issued_at)
        counts.setdefault(course, {}).setdefault(week, 0)
        counts[course][week] += 1
    return counts


def _seal_state() -> SealState:
    provider = getattr(_context(), "seals", None)
    if provider is None or not hasattr(provider, "status"):
        return SealState(i18n.t("dash_seal_unknown"), "warn")
    try:
        status = provider.status()
    except Exception as exc:  # the dashboard must render even when the token is away
        return SealState(f"{i18n.t('dash_seal_unknown')} ({type(exc).__name__})", "bad")
    if not status.get("not_after"):
        return SealState(status.get("error") or i18n.t("dash_seal_unknown"), "bad")
    not_after = dt.datetime.fromisoformat(status["not_after"])
    days = (not_after - utcnow()).days
    date = not_after.date().isoformat()
    if days < 0:
        return SealState(i18n.t("dash_seal_expired", date=date), "bad", status.get("label"))
    css = "bad" if days < 14 else ("warn" if days < 60 else "ok")
    return SealState(i18n.t("dash_seal_expires", date=date, days=days), css, status.get("label"))


@staff.get("/")
@roles.needs(roles.VIEWER)
def dashboard():
    weeks = last_weeks(utcnow().date(), WEEKS_SHOWN)
    with _registry().transaction() as db:
        names = _course_names(db)
        counts = weekly_counts(db, weeks, names)
        failing_rows = db.execute(
            select(Delivery, Credential).join(Credential, Credential.id == Delivery.credential_id)
            .where(or_(Delivery.state == "failed", and_(Delivery.state == "pending", Delivery.last_error.is_not(None))))
            .order_by(Delivery.id.desc()).limit(50)).all()
        failing = [FailingDelivery(d.credential_id, c.learner_name, names.get(f"{c.site_id}/{c.course_id}", ""),
                                   f"{d.channel} ({d.kind})", d.attempts, d.last_error,
                                   "—" if d.state == "failed" or d.next_attempt_at is None
                                   else d.next_attempt_at.strftime("%Y-%m-%d %H:%M"))
                   for d, c in failing_rows]
        queue = Queue(
            events=db.execute(select(func.count()).select_from(Issuance)
                              .where(Issuance.status.in_(("queued", "sealing")))).scalar_one(),
            deliveries=db.execute(select(func.count()).select_from(Delivery)
                                  .where(Delivery.state == "pending")).scalar_one(),
        )
    chart = stacked_weekly_bars(counts, weeks, title=i18n.t("dash_issued_per_week"), empty_text=i18n.t("dash_no_data"))
    return _render("staff/dashboard.html", chart_svg=chart, chart_weeks=weeks, chart_courses=sorted(counts),
                   chart_counts=counts, failing=failing, queue=queue, seal=_seal_state(),
                   trusted_lists=trusted_lists_status(_context()))


# --- wiring --------------------------------------------------------------------------------------


def register(app: Flask) -> None:
    """Session cookie settings and the blueprint; called by bridge.web.public.register."""
    settings = app.extensions["edc"].settings
    staff_token = getattr(settings, "staff_token", None) or getattr(settings, "oidc_client_secret", None)
    if staff_token and not app.secret_key:  # a secret every replica shares: the staff token, else the OIDC client's
        app.secret_key = _session_secret(staff_token)
    elif not app.secret_key:  # local accounts only: a key kept in the registry, the same on every replica
        app.secret_key = site_secrets.shared_secret(app.extensions["edc"].registry, STAFF_SESSION_SECRET)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
                      SESSION_COOKIE_SECURE=_secure_cookies(settings), SESSION_COOKIE_NAME=UI_COOKIE)
    from bridge.web import staff_catalogue  # noqa: F401 - its pages (courses, programmes) hang on this blueprint
    from bridge.web import staff_login  # noqa: F401 - the identity provider's login and callback, and local accounts
    from bridge.web import staff_security  # noqa: F401 - the security officer's and the admin's pages
    from bridge.web import staff_bulk  # noqa: F401 - bulk cohorts (/staff/bulk) hang on it too
    app.register_blueprint(staff)
