"""Operations: liveness, readiness (registry, token, seal certificate) and Prometheus metrics."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bridge.api.security import context

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "alive"})


@bp.get("/readyz")
def readyz():
    ctx = context()
    checks: dict[str, dict] = {}
    try:
        ctx.registry.ping()
        checks["registry"] = {"ok": True}
    except Exception as exc:  # noqa: BLE001
        checks["registry"] = {"ok": False, "error": f"registry not reachable: {type(exc).__name__}"}
    status = ctx.seals.status()
    checks["token"] = {"ok": bool(status.get("logged_in")), "label": status.get("label"),
                       "error": None if status.get("logged_in") else status.get("error")}
    checks["seal_certificate"] = {"ok": bool(status.get("ready")), "not_after": status.get("not_after"),
                                  "error": None if status.get("ready") else status.get("error")}
    ready = all(c["ok"] for c in checks.values())
    return jsonify({"ready": ready, "checks": checks}), 200 if ready else 503


@bp.get("/metrics")
def metrics():
    return Response(generate_latest(context().metrics.registry), mimetype=CONTENT_TYPE_LATEST)
