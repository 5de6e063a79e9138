"""The learner's own actions, asked by Moodle for the credential's holder (HMAC-signed like every Moodle call).

Moodle's "My credentials" lets a learner turn the credential's public page on or off and print it. Moodle
checks that the person is the holder; the sidecar checks that the credential belongs to the site and the
Moodle user the request names, so a site can act only on its own learners' credentials, and answers 404
(not 403) otherwise, so ids cannot be probed.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from flask import Blueprint, Response, g, jsonify, request
from sqlalchemy.orm import Session

from bridge.api.credentials import full_id
from bridge.api.errors import ApiError, problem
from bridge.api.intake import site_id_problem
from bridge.api.security import context, moodle_signed
from bridge.edc import inputs
from bridge.intake.auth import AuthError, claim_nonce
from bridge.presentation import wording
from bridge.registry import links
from bridge.registry.models import Credential, utcnow
from bridge.web import public

bp = Blueprint("learner", __name__)


@dataclass(frozen=True)
class Holder:
    """Who Moodle acts for: its site id and the learner's Moodle user id."""

    site: str
    learner: int


def _holder(site: object, learner: object, where: str) -> Holder:
    """The site and learner a request names (`where` is '/' for a body, '?' for a query), or 400."""
    problems = []
    if not isinstance(site, str) or site_id_problem(site):
        problems.append(problem(f"{where}site", "required: the Moodle site id (1 to 255 characters, no '/' or spaces)"))
    try:
        learner_id = inputs.moodle_id(learner, f"{where}learner")
    except inputs.InputError as exc:
        problems.append(problem(exc.pointer, f"required: the learner's Moodle user id; {exc.message}"))
    if problems:
        raise ApiError(400, "missing or bad site or learner", problems)
    return Holder(site, learner_id)


def _holders_credential(session: Session, cred_id: str, holder: Holder) -> Credential:
    """The credential, if it is this site's learner's; else 404 (the same answer as for no credential)."""
    row = session.get(Credential, full_id(cred_id))
    if row is None or row.site_id != holder.site or inputs.learner_moodle_id(row.learner_id) != holder.learner:
        raise ApiError(404, "no such credential for this learner",
                       [problem("/id", f"{full_id(cred_id)} is not a credential of learner {holder.learner} "
                                       f"of site {holder.site}")])
    return row


def _claimed(session: Session) -> None:
    try:
        claim_nonce(session, g.intake_auth, context().settings.timestamp_window)
    except AuthError as exc:  # a replayed request changes nothing
        raise ApiError(401, "request not authenticated", [problem("X-EDC-Nonce", str(exc))]) from None


def shared_page_url(credential_id: str) -> str:
    """The page anyone may open while the learner shares it (no token: the id is the address)."""
    return f"{context().settings.public_url.rstrip('/')}/credentials/{quote(credential_id, safe=':')}"


@bp.post("/api/v1/credentials/<cred_id>/sharing")
@moodle_signed
def set_sharing(cred_id: str):
    """Body {"site", "learner", "shared": true|false}; answers the choice now recorded and the public URL."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object", [problem("", "expected {site, learner, shared}")])
    holder = _holder(body.get("site"), body.get("learner"), "/")
    shared = body.get("shared")
    if not isinstance(shared, bool):
        raise ApiError(400, "/shared: must be true or false", [problem("/shared", "required: true or false")])
    with context().registry.transaction() as session:
        _claimed(session)
        row = _holders_credential(session, cred_id, holder)
        links.set_sharing(session, row.id, shared, f"moodle:{holder.site}:learner:{holder.learner}")
        link = links.link_for(session, row.id)
        changed = link.shared_changed_at or utcnow()
        answer = {"credential_id": row.id, "shared": link.shared, "public_url": shared_page_url(row.id),
                  "changed_at": changed.isoformat().replace("+00:00", "Z")}
    return jsonify(answer)


@bp.get("/api/v1/credentials/<cred_id>/pdf")
@moodle_signed
def printable(cred_id: str):
    """?site=&learner=&lang=: the printable PDF with today's verdict, its QR code leading to the
    verification of this very credential (the holder's link), in the learner's language."""
    for name in ("site", "learner", "lang"):
        if len(request.args.getlist(name)) > 1:  # the signature sorts pairs: a name read once is given once
            raise ApiError(400, f"?{name} given more than once", [problem(f"?{name}", "give it once")])
    holder = _holder(request.args.get("site"), request.args.get("learner"), "?")
    lang = request.args.get("lang", "en")
    if lang not in wording.LANGUAGES:
        raise ApiError(400, "?lang: not a language of the pages",
                       [problem("?lang", f"one of {', '.join(wording.LANGUAGES)}")])
    with context().registry.transaction() as session:
        _claimed(session)
        row = _holders_credential(session, cred_id, holder)
        document = public.stored_document(session, row)
        revocation = public.revocation_of(session, row.id)
        check_url = links.verify_url(session, row.id, context().settings.public_url)
    view, _report = public.credential_view(document, lang, revocation)
    return Response(public.render_pdf(view, check_url), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{public.pdf_filename(row.id)}"', "Cache-Control": "no-store"})
