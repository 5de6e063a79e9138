"""Public verification: the core verifier's verdict on an uploaded file, plus the registry's word on
revocation (a file cannot know it was revoked after it was sealed)."""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from sqlalchemy import select

from bridge.api.errors import ApiError, problem
from bridge.api.security import context
from bridge.edc.report import VerificationReport
from bridge.registry.models import Credential, Revocation
from bridge.trusted_lists_source import lists_of

bp = Blueprint("verify", __name__)


def uploaded_bytes() -> bytes:
    """The credential from a multipart field `file`, or the raw body."""
    if request.files:
        upload = request.files.get("file")
        if upload is None:
            raise ApiError(400, "no file uploaded", [problem("file", "send the credential in the form field 'file'")])
        return upload.read()
    return request.get_data(cache=False)


def verify_bytes(data: bytes) -> tuple[VerificationReport, dict]:
    from bridge.edc.verifier import verify_credential

    ctx = context()
    report = verify_credential(data, trust_anchors=ctx.trust_anchors, schema=ctx.schema, trusted_lists=lists_of(ctx))
    registry_view = {"known": False, "status": None}
    if report.credential_id:
        with ctx.registry.reading() as session:
            cred = session.get(Credential, report.credential_id)
            if cred is not None:
                revocation = session.execute(
                    select(Revocation).where(Revocation.credential_id == cred.id)).scalar_one_or_none()
                registry_view = {"known": True, "status": cred.status, "superseded_by": cred.superseded_by,
                                 "sha256_matches": None}
                import hashlib

                registry_view["sha256_matches"] = hashlib.sha256(data).hexdigest() == cred.sha256
                report.revoked = cred.status == "revoked"
                if revocation is not None:
                    registry_view["revoked_at"] = revocation.revoked_at.isoformat().replace("+00:00", "Z")
                    registry_view["revocation_reason"] = revocation.reason
                    report.problem(f"the issuer revoked this credential: {revocation.reason}")
            else:
                report.notes.append("this credential is not in this issuer's registry (issued elsewhere, or by "
                                    "another installation)")
    return report, registry_view


def verify_api():
    data = uploaded_bytes()
    if not data:
        raise ApiError(400, "nothing to verify", [problem("", "send the credential file as the body or as 'file'")])
    report, registry_view = verify_bytes(data)
    body = report.as_dict()
    body["registry"] = registry_view
    body["verdict"] = report.plain_words()
    return jsonify(body)
