"""One JSON error shape everywhere: {"error": summary, "problems": [{"pointer", "message"}]}.

The pointer names the field (a JSON pointer into the body, or `?name` for a query parameter, or a
header name), so a client — or a teacher reading the Moodle log — knows what to fix.
"""
from __future__ import annotations

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException


class ApiError(Exception):
    def __init__(self, status: int, error: str, problems: list[dict[str, str]] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(error)
        self.status, self.error, self.problems, self.headers = status, error, problems or [], headers or {}


def problem(pointer: str, message: str) -> dict[str, str]:
    return {"pointer": pointer, "message": message}


def response(status: int, error: str, problems: list[dict[str, str]] | None = None, headers=None):
    body = jsonify({"error": error, "problems": problems or []})
    body.status_code = status
    for k, v in (headers or {}).items():
        body.headers[k] = v
    return body


def install(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return response(exc.status, exc.error, exc.problems, exc.headers)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if exc.code == 413:
            return response(413, "request body too large", [problem("", exc.description or "too large")])
        if exc.code == 429:
            return response(429, "too many requests; try again later", [problem("", str(exc.description))])
        return response(exc.code or 500, exc.name, [problem("", exc.description or exc.name)])
