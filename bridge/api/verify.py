"""Public verification: the core verifier's verdict on an uploaded file, plus the registry's word on
revocation (a file cannot know it was revoked after it was sealed)."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from bridge.api.errors import ApiError, problem
from bridge.api.security import context
from bridge.verification import verify_with_registry

bp = Blueprint("verify", __name__)


def uploaded_bytes() -> bytes:
    """The credential from a multipart field `file`, or the raw body."""
    if request.files:
        upload = request.files.get("file")
        if upload is None:
            raise ApiError(400, "no file uploaded", [problem("file", "send the credential in the form field 'file'")])
        return upload.read()
    return request.get_data(cache=False)


def verify_api():
    data = uploaded_bytes()
    if not data:
        raise ApiError(400, "nothing to verify", [problem("", "send the credential file as the body or as 'file'")])
    report, standing = verify_with_registry(context(), data)
    body = report.as_dict()
    body["registry"] = standing.as_dict()
    body["verdict"] = report.plain_words()
    return jsonify(body)
