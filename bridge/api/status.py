"""GET /status/<uuid>: the public status of one credential, a statement sealed on the HSM
(bridge/status_service.py, bridge/edc/status.py). Anyone may ask: it holds no personal data."""
from __future__ import annotations

import re

from flask import Blueprint, Response

from bridge.api.errors import ApiError, problem
from bridge.api.security import context
from bridge.edc import status

bp = Blueprint("status", __name__)
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@bp.get("/status/<uuid>")
def credential_status(uuid: str):
    if not UUID.match(uuid):
        raise ApiError(404, "no such credential", [problem("{uuid}", "not a credential's id (a lowercase UUID)")])
    sealed = context().status.statement(uuid)
    if sealed is None:
        raise ApiError(404, "no such credential", [problem("{uuid}", "this issuer's registry does not know it")])
    return Response(sealed, mimetype=status.MEDIA_TYPE, headers={
        "Cache-Control": f"public, max-age={status.MAX_AGE_SECONDS}",
        "X-Content-Type-Options": "nosniff"})
