"""The pages anyone may open: a credential in plain words (with its PDF), the verification of one
credential (/verify/<id>), and the /verify upload page for files from elsewhere.

A credential's page and its verification are shown only to who holds its unguessable link (the one
in the learner's email, on the PDF's QR code and behind Moodle's "Verify") or, when the learner chose
to share it, to anyone who knows its id. The links live in the registry (bridge/registry/links.py).
Every view re-verifies the stored sealed document and looks up revocation, so the verdict shown is
today's, not the one of the day of issue.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge import verification
from bridge.edc import formats
from bridge.edc.report import VerificationReport
from bridge.presentation import wording
from bridge.presentation.credential_view import CredentialView, Verdict, verdict_from_report, view_from_document
from bridge.presentation.qr import qr_svg
from bridge.registry import documents, links
from bridge.registry.links import link_for, new_link, set_sharing  # noqa: F401 - the names callers use
from bridge.registry.links import page_url as public_url
from bridge.registry.models import Credential, CredentialLink, Revocation
from bridge.web import i18n

pages = Blueprint("edc_pages", __name__, template_folder="templates", static_folder="static",
                  static_url_path="/static/edc")


# --- what the rest of the service calls ----------------------------------------------------------


def stored_document(session: Session, row: Credential) -> bytes:
    """The sealed document exactly as issued, unpacked from the registry's compressed form."""
    return documents.read_document(session, _registry().dictionaries, row)


# --- the service objects this blueprint needs from the app ---------------------------------------


def _context() -> Any:
    """The sidecar's service context (bridge.worker.Context) that the app factory keeps in extensions."""
    ctx = current_app.extensions.get("edc")
    if ctx is None:
        raise RuntimeError("the app factory did not put the service context in app.extensions['edc']")
    return ctx


def _registry():
    return _context().registry


def _settings():
    return _context().settings


def verify_bytes(data: bytes) -> VerificationReport:
    """The verifier's verdict on a file, with the app's trust configuration (bridge/verification.py)."""
    return verification.verify_file(_context(), data)


def _verdict(report: VerificationReport, standing: verification.Standing, lang: str) -> Verdict:
    return verdict_from_report(report, lang, revocation_reason=standing.revocation_reason,
                               revoked_at=standing.revoked_at.isoformat() if standing.revoked_at else None)


# --- shared template helpers ---------------------------------------------------------------------


def _lang_url(lang: str) -> str:
    args = request.args.to_dict()
    args["lang"] = lang
    return url_for(request.endpoint, **(request.view_args or {}), **args) if request.endpoint else f"?lang={lang}"


def _template_globals() -> dict[str, Any]:
    lang = i18n.current_language()
    return {
        "lang": lang, "t": i18n.t, "lang_url": _lang_url,
        "verdict_word": lambda key: wording.verdict_text(key, lang),
    }


def _remember_language(response: Response) -> Response:
    if request.args.get("lang"):
        response.set_cookie(i18n.LANG_COOKIE, i18n.current_language(), max_age=365 * 24 * 3600,
                            samesite="Lax", httponly=True, secure=request.is_secure)
    return response


pages.after_request(_remember_language)

# No scripts at all, styles and images only from here (inline SVG and data: QR codes), no framing.
CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
                           "frame-ancestors 'none'; base-uri 'none'")


def security_headers(response: Response) -> Response:
    """Headers for every page of ours. `Referrer-Policy: no-referrer` matters most: a credential page's
    URL carries its secret link token, which must not leak to other sites through the Referer header."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.endpoint and (request.endpoint.startswith("staff.") or request.args.get("t")):
        response.headers["Cache-Control"] = "no-store"
    return response


pages.after_request(security_headers)


# --- credential pages ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Visible:
    row: Credential
    link: CredentialLink
    document: bytes
    revocation: Revocation | None
    holds_link: bool  # came with the secret token (the learner, or whoever they gave the link to)


def full_id(credential_id: str) -> str:
    """Links may carry the bare UUID (as the worker's email link does) or the whole URN."""
    return credential_id if credential_id.startswith("urn:") else f"urn:credential:{credential_id}"


def _visible_credential(session: Session, credential_id: str) -> Visible | None:
    """The credential if this request may see it: right token, or shared by the learner."""
    credential_id = full_id(credential_id)
    row = session.get(Credential, credential_id)
    if row is None:
        return None
    link = session.get(CredentialLink, credential_id)
    holds_link = _holds_link(link, request.args.get("t", ""))
    if link is None or not (link.shared or holds_link):
        return None
    return Visible(row, link, stored_document(session, row), revocation_of(session, credential_id), holds_link)


def revocation_of(session: Session, credential_id: str) -> Revocation | None:
    """The credential's revocation, if it was revoked."""
    return session.execute(select(Revocation).where(Revocation.credential_id == credential_id)).scalar_one_or_none()


def _holds_link(link: CredentialLink | None, token: str) -> bool:
    return links.holds_link(link, token)


def credential_view(document: bytes, lang: str, revocation: Revocation | None) -> tuple[CredentialView, VerificationReport]:
    """The plain-words view with today's verdict (seal, trust, and the registry's revocation)."""
    report = verify_bytes(document)
    standing = verification.Standing.of_revocation(revocation)
    verification.join(report, standing)
    return _readable_view(document, report, lang).with_verdict(_verdict(report, standing, lang)), report


def _readable_view(document: bytes, report: VerificationReport, lang: str) -> CredentialView:
    """What the file says (every element for EDC XML, its format's summary for another); for a file in
    none of our formats, what the verifier read."""
    fmt = formats.detect(document)
    return view_from_document(document, lang, fmt) if fmt is not None else _view_from_report(report, lang)


def _own_url(credential_id: str, suffix: str = "") -> str:
    token = request.args.get("t")
    args = {"t": token} if token else {}
    return url_for(f"edc_pages.credential{suffix}", credential_id=credential_id, **args)


def _unavailable():
    """The answer for a credential this request may not see (or that does not exist): the same either way."""
    return render_template("public/unavailable.html", message=i18n.t("public_unavailable"), **_template_globals()), 404


@pages.get("/credentials/<credential_id>")
def credential(credential_id: str):
    lang = i18n.current_language()
    with _registry().transaction() as session:
        visible = _visible_credential(session, credential_id)
        if visible is None:
            return _unavailable()
        view, _report = credential_view(visible.document, lang, visible.revocation)
        check_url = links.verify_url(session, visible.row.id, _settings().public_url)
    return render_template("public/credential.html", view=view, qr_svg=qr_svg(check_url), verify_url=check_url,
                           pdf_url=_own_url(credential_id, "_pdf"), xml_url=_own_url(credential_id, "_xml"),
                           file_format=formats.get(visible.row.format).label,
                           sharing=visible.link.shared if visible.holds_link else None,
                           link_token=visible.link.token if visible.holds_link else None,
                           **_template_globals())


@pages.post("/credentials/<credential_id>/sharing")
def credential_sharing(credential_id: str):
    """The link holder's choice to show the page to anyone with the id; the secret token is the proof
    (a forged cross-site form cannot know it), so no other CSRF token is needed here."""
    credential_id = full_id(credential_id)
    token = request.form.get("t", "")
    with _registry().transaction() as session:
        link = session.get(CredentialLink, credential_id)
        if not _holds_link(link, token):
            abort(404)
        set_sharing(session, credential_id, request.form.get("shared") == "1", "learner-link")
    flash(i18n.t("sharing_saved"), "ok")
    return redirect(url_for("edc_pages.credential", credential_id=credential_id, t=token), 303)


def render_pdf(view: CredentialView, check_url: str) -> bytes:
    """The printable PDF (bridge/presentation/pdf.py); reportlab is loaded with the first one, not at
    start: a sidecar restarting after a crash serves sooner (issue 18)."""
    from bridge.presentation.pdf import render_pdf as render

    return render(view, check_url)


@pages.get("/credentials/<credential_id>/pdf")
def credential_pdf(credential_id: str):
    lang = i18n.current_language()
    with _registry().transaction() as session:
        visible = _visible_credential(session, credential_id)
        if visible is None:
            abort(404)
        view, _report = credential_view(visible.document, lang, visible.revocation)
        check_url = links.verify_url(session, visible.row.id, _settings().public_url)
    pdf = render_pdf(view, check_url)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{pdf_filename(credential_id)}"'})


@pages.get("/credentials/<credential_id>/xml")
def credential_xml(credential_id: str):
    with _registry().transaction() as session:
        visible = _visible_credential(session, credential_id)
        if visible is None:
            abort(404)
    fmt = formats.get(visible.row.format)
    return Response(visible.document, mimetype=fmt.media_type, headers={
        "Content-Disposition": f'attachment; filename="{fmt.filename(visible.row.id)}"'})


def pdf_filename(credential_id: str) -> str:
    return f"credential-{credential_id.rsplit(':', 1)[-1]}.pdf"


# --- /verify -------------------------------------------------------------------------------------


@pages.get("/verify/<credential_id>")
def verify_stored(credential_id: str):
    """The verification of one credential we issued, for whoever holds its link (or anyone, when the
    learner shares it): today's verdict on the sealed file exactly as stored, at once, no upload."""
    lang = i18n.current_language()
    with _registry().transaction() as session:
        visible = _visible_credential(session, credential_id)
        if visible is None:
            return _unavailable()
        view, report = credential_view(visible.document, lang, visible.revocation)
    return render_template("public/verify.html", view=view, report=report, error=None, qr_svg=None, stored=True,
                           page_url=_own_url(credential_id), **_template_globals())


@pages.route("/verify", methods=["GET", "POST"])
def verify():
    lang = i18n.current_language()
    context: dict[str, Any] = {"view": None, "report": None, "error": None, "qr_svg": None}
    if request.method == "POST":
        upload = request.files.get("file")
        data = upload.read(_settings().max_upload_bytes + 1) if upload else b""
        if not data:
            context["error"] = i18n.t("verify_no_file")
        elif len(data) > _settings().max_upload_bytes:
            context["error"] = i18n.t("verify_too_big")
        else:
            report, standing = verification.verify_with_registry(_context(), data)
            view = _readable_view(data, report, lang)
            context.update(view=view.with_verdict(_verdict(report, standing, lang)), report=report)
    status = 400 if context["error"] else 200
    return render_template("public/verify.html", **context, **_template_globals()), status


def _view_from_report(report: VerificationReport, lang: str) -> CredentialView:
    from bridge.presentation.credential_view import format_ects, format_eqf

    return CredentialView(lang=lang, credential_id=report.credential_id, title=report.title, learner=report.learner,
                          issuer=report.issuer, issued=report.issued, ects=format_ects(report.ects, lang),
                          eqf_level=format_eqf(report.eqf_level, lang))


# --- wiring --------------------------------------------------------------------------------------


def register(app: Flask) -> None:
    """Add the public pages and the staff pages to the sidecar (one call from the app factory)."""
    from bridge.web import staff

    app.register_blueprint(pages)
    staff.register(app)
