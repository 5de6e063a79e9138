"""A small stand-in for the sidecar's HTTP API, for checking the Moodle plugin's side on its own.

It checks every request's HMAC signature with its own implementation of schemas/intake-auth.md, version v2
(checked against tests/vectors/intake-hmac-v2.json on start; v1 is refused, as the plugin must send only
v2 and so sign the query too), records the events it accepts, validates course
descriptions with the project's real validator (bridge.edc.model), and answers the issuance list from
what the test tells it. It never calls Moodle back: the test does that through the web service, so each
direction is checked on its own.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote_to_bytes, urlsplit

REPO = Path(__file__).resolve().parents[2]
VECTORS = REPO / "tests" / "vectors" / "intake-hmac-v2.json"
_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"


def _query_pairs(query: str) -> list[tuple[str, str]]:
    """Raw query → canonical (name, value) pairs: '+' is a space, %XX a byte, re-encoded per RFC 3986."""
    def encode(raw: str) -> str:
        data = unquote_to_bytes(raw.replace("+", " "))
        return "".join(chr(b) if b in _UNRESERVED else "%%%02X" % b for b in data)

    pairs = []
    for part in filter(None, query.split("&")):
        name, _, value = part.partition("=")
        pairs.append((encode(name), encode(value)))
    return sorted(pairs)


def signature(secret: str, method: str, path: str, query: str, timestamp: str, nonce: str, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256 over the v2 canonical string (the only version the plugin sends)."""
    canonical_query = "&".join(f"{n}={v}" for n, v in _query_pairs(query))
    canonical = "\n".join(["v2", method, path, canonical_query, timestamp, nonce, hashlib.sha256(body).hexdigest()])
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def check_against_vectors() -> int:
    """Refuse to run with a signature function that disagrees with the shared vectors."""
    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))["vectors"]
    for v in vectors:
        got = signature(v["secret"], v["method"], v["path"], v["query"], str(v["timestamp"]), v["nonce"],
                        v["body"].encode())
        if got != v["signature"]:
            raise AssertionError(f"fake sidecar signature disagrees with vector {v['name']!r}")
    return len(vectors)


class FakeSidecar:
    """Threaded HTTP server on host:port; inspect .events, .specs, .rejected; set .issuances."""

    def __init__(self, host: str, port: int, keys: dict[str, str]):
        check_against_vectors()
        self.keys = keys
        self.events: list[dict[str, Any]] = []
        self.specs: dict[tuple[str, int], dict[str, Any]] = {}
        self.rejected: list[tuple[str, str]] = []
        self.issuances: dict[tuple[str, int], list[dict[str, Any]]] = {}
        self.force_status: int | None = None
        self.polls = 0  # GET /api/v1/issuances answered
        self.sharing: dict[str, dict[str, Any]] = {}  # credential id -> the last sharing request's body
        self.pdfs: list[tuple[str, dict[str, list[str]]]] = []  # (credential id, query) of each PDF asked for
        self._nonces: set[str] = set()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "FakeSidecar":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _authenticate(self, method: str, path: str, query: str, headers: Any, body: bytes) -> str | None:
        """None when the request is authentic, else why not."""
        if headers.get("X-EDC-Auth-Version") != "v2":
            return "X-EDC-Auth-Version is not v2"
        kid = headers.get("X-EDC-Key-Id")
        ts = headers.get("X-EDC-Timestamp", "")
        nonce = headers.get("X-EDC-Nonce", "")
        sig = headers.get("X-EDC-Signature", "")
        if kid not in self.keys:
            return "unknown key id"
        if not ts.isdigit() or abs(time.time() - int(ts)) > 300:
            return "timestamp missing or more than 300 s off"
        if len(nonce) < 32 or any(c not in "0123456789abcdef" for c in nonce):
            return "nonce malformed"
        expected = signature(self.keys[kid], method, path, query, ts, nonce, body)
        if not hmac.compare_digest(expected, sig):
            return "signature mismatch"
        with self._lock:
            if nonce in self._nonces:
                return "nonce reused"
            self._nonces.add(nonce)
        return None

    def _handler(self):
        sidecar = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _answer(self, code: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _pdf(self, credential_id: str, query: dict[str, list[str]]) -> None:
                sidecar.pdfs.append((credential_id, query))
                data = b"%PDF-1.4\n% fake printable PDF of " + credential_id.encode() + b"\n%%EOF\n"
                self.send_response(200)
                self.send_header("Content-Type", "application/pdf")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                url = urlsplit(self.path)
                why = sidecar._authenticate(method, url.path, url.query, self.headers, body)
                if why:
                    sidecar.rejected.append((url.path, why))
                    return self._answer(401, {"error": "unauthorized"})
                if sidecar.force_status:
                    return self._answer(sidecar.force_status, {"error": "forced by the test"})
                if method == "POST" and url.path == "/api/v1/events":
                    event = json.loads(body)
                    with sidecar._lock:
                        sidecar.events.append(event)
                    return self._answer(202, {"issuance_id": "iss-" + hashlib.sha256(
                        event["event_id"].encode()).hexdigest()[:12], "status": "queued"})
                parts = url.path.strip("/").split("/")
                if method == "PUT" and len(parts) == 6 and parts[:3] == ["api", "v1", "courses"] \
                        and parts[5] == "specification":
                    from bridge.edc.model import validate_course_spec

                    doc = json.loads(body)
                    problems = [{"pointer": p.pointer, "message": p.message} for p in validate_course_spec(doc)]
                    # As bridge/api/intake.py answers: stored either way (a draft), "valid" says if it can issue.
                    if not problems:
                        sidecar.specs[(parts[3], int(parts[4]))] = doc
                    return self._answer(200, {"site": parts[3], "course": int(parts[4]), "valid": not problems,
                                              "problems": problems, "resumed": 0})
                if len(parts) == 5 and parts[:3] == ["api", "v1", "credentials"]:
                    # The learner's actions (bridge/api/learner.py): the same answers, from memory.
                    if method == "POST" and parts[4] == "sharing":
                        request = json.loads(body)
                        with sidecar._lock:
                            sidecar.sharing[parts[3]] = request
                        return self._answer(200, {"credential_id": parts[3], "shared": request["shared"],
                                                  "public_url": f"https://edc.e2e.example/credentials/{parts[3]}",
                                                  "changed_at": "2026-12-02T10:00:00Z"})
                    if method == "GET" and parts[4] == "pdf":
                        return self._pdf(parts[3], parse_qs(url.query))
                if method == "GET" and url.path == "/api/v1/issuances":
                    sidecar.polls += 1
                    query = parse_qs(url.query)
                    key = (query.get("site", [""])[0], int(query.get("course", ["0"])[0]))
                    return self._answer(200, {"issuances": sidecar.issuances.get(key, [])})
                return self._answer(404, {"error": "not found"})

            def do_POST(self) -> None:
                self._handle("POST")

            def do_PUT(self) -> None:
                self._handle("PUT")

            def do_GET(self) -> None:
                self._handle("GET")

        return Handler
