"""Real servers on loopback standing in for the learner's mail server and for Moodle's REST endpoint.

Both count what they *accepted* per credential id, which is what the reliability tests judge: one mail
and one stored file per credential, however many attempts the sidecar made.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import email
import email.policy
import hashlib
import json
import logging
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- SMTP --------------------------------------------------------------------------------------------


class _HungUpQuietly(logging.Filter):
    """aiosmtpd logs a traceback when a client closes the connection without QUIT. Here that is a sidecar
    stopped or SIGKILLed by a test or a benchmark on purpose: tens of tracebacks that hide the figures."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, (asyncio.IncompleteReadError, ConnectionResetError))


logging.getLogger("mail.log").addFilter(_HungUpQuietly())


@dataclass(frozen=True)
class MailRecord:
    """What the reliability tests and the benchmark need of one accepted mail, without keeping it whole."""

    rcpt: tuple[str, ...]
    credential_id: str
    attachment_sha256: str | None  # of the sealed credential attached, None for a notice
    received_at: float  # time.time() when the server accepted it
    connection: int  # which SMTP connection carried it (1, 2, ... in order of first use)


class _Collector:
    def __init__(self, sink: "MailSink") -> None:
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        await self.sink._maybe_hold("RCPT")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        # The server has read the whole message including the final "." and queues it, as a real MTA
        # does before it answers; holding after that is the moment between "the server has it" and
        # "the client has heard 250" (a client that dies now never learns the message went through).
        if self.sink.refuse_data:  # the server read the whole message, then refuses it (content filter)
            return self.sink.refuse_data
        if not hasattr(session, "edc_connection"):
            session.edc_connection = self.sink._next_connection()
        self.sink._accept(envelope.rcpt_tos, envelope.original_content or envelope.content, session.edc_connection)
        await self.sink._maybe_hold("DATA")
        return "250 Message accepted for delivery"


class _MtaLikeSMTP(SMTP):
    """aiosmtpd, but a message whose final "." arrived is kept even if the client vanishes right after.

    Stock aiosmtpd cancels its handler the moment the client's EOF arrives, dropping a DATA that is
    complete in its buffer but not yet parsed. A real MTA (Postfix, Exim) reads its input in order: it
    queues the message, then finds the connection gone. The reliability tests kill the sidecar at random,
    often just after the "." left it, so the sink has to behave like the real thing: finish reading what
    arrived, then stop. A DATA cut short (no ".") still ends in EOF and is dropped, as before.
    """

    def eof_received(self):
        if self.session is not None and self.session.ssl is not None:
            return super().eof_received()  # TLS sessions: stock behaviour (only plain SMTP is killed mid-way)
        return asyncio.StreamReaderProtocol.eof_received(self)  # no cancel: the reader sees EOF after the data

    def connection_lost(self, error):
        if self._original_transport is not None or (self.session is not None and self.session.ssl is not None):
            return super().connection_lost(error)
        if self._timeout_handle is not None:
            self._timeout_handle.cancel()
        asyncio.StreamReaderProtocol.connection_lost(self, error)
        handler = self._handler_coroutine
        if handler is not None:
            handler.add_done_callback(lambda task: task.cancelled() or task.exception())  # no "never retrieved"
            asyncio.get_running_loop().call_later(2.0, handler.cancel)  # a stuck handler still ends


class _MtaLikeController(Controller):
    def factory(self):
        return _MtaLikeSMTP(self.handler, **self.SMTP_kwargs)


class MailSink:
    """aiosmtpd on 127.0.0.1; `stop()`/`start()` take it down and up again on the same port."""

    def __init__(self, *, port: int | None = None, tls_context=None, require_starttls: bool = False,
                 users: dict[str, str] | None = None, keep_messages: bool = True) -> None:
        self.port = port or free_port()
        self.keep_messages = keep_messages
        self.records: list[MailRecord] = []
        self.users = users
        self._smtp_kwargs = {"tls_context": tls_context, "require_starttls": require_starttls}
        if users is not None:
            self._smtp_kwargs.update(auth_required=True, auth_require_tls=True, authenticator=self._authenticate)
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.raw: list[bytes] = []  # the bytes as received, when keep_messages (header-injection tests read them)
        self.by_credential: collections.Counter[str] = collections.Counter()
        self.auth_failures = 0
        self._connections = 0
        self.hold_at: str | None = None  # "RCPT" or "DATA": stall the conversation there until release()
        self.held = threading.Event()  # set when a conversation reached hold_at
        self.refuse_data: str | None = None  # e.g. "554 5.7.1 rejected": the answer to the final "."
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            user, password = auth_data.login.decode(), auth_data.password.decode()
            if self.users.get(user) == password:
                return AuthResult(success=True)
        self.auth_failures += 1
        return AuthResult(success=False, handled=False)

    def _next_connection(self) -> int:
        with self._lock:
            self._connections += 1
            return self._connections

    def _accept(self, rcpt_tos: list[str], raw: bytes, connection: int = 0) -> None:
        received = time.time()
        # The quick compat32 parser for the bookkeeping (thousands of mails in the reliability test)...
        quick = email.message_from_bytes(raw)
        credential_id = str(quick.get("X-EDC-Credential-Id", ""))
        digest = None
        for part in quick.walk():
            if part.get_content_type() in ("application/xml", "application/ld+json"):
                digest = hashlib.sha256(part.get_payload(decode=True)).hexdigest()
                break
        # ...and the full modern parser only when a test wants to read the message itself.
        message = email.message_from_bytes(raw, policy=email.policy.default) if self.keep_messages else None
        with self._lock:
            if message is not None:
                self.messages.append((list(rcpt_tos), message))
                self.raw.append(raw)
            self.records.append(MailRecord(tuple(rcpt_tos), credential_id, digest, received, connection))
            self.by_credential[credential_id] += 1

    def hold(self, at: str) -> None:
        """Stall the next conversations at `at` ("RCPT": before any data; "DATA": after the final ".")."""
        self.hold_at, self._released = at, threading.Event()
        self.held.clear()

    def release(self) -> None:
        self.hold_at = None
        self._released.set()

    async def _maybe_hold(self, stage: str) -> None:
        if self.hold_at != stage:
            return
        released = self._released
        self.held.set()
        while not released.is_set():
            await asyncio.sleep(0.01)

    def start(self) -> "MailSink":
        self._controller = _MtaLikeController(_Collector(self), hostname="127.0.0.1", port=self.port,
                                      server_hostname="localhost", ready_timeout=10, **self._smtp_kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.records) < count and time.monotonic() < deadline:
            time.sleep(0.02)


# --- Moodle REST -------------------------------------------------------------------------------------

PLUGIN_EXTERNAL = Path(__file__).resolve().parents[2] / "moodle_plugin" / "classes" / "external"
_PARAM = re.compile(r"'(\w+)'\s*=>\s*new external_value\((PARAM_\w+)(?P<rest>[^;]*?)\)\s*,?\s*$", re.M)


def declared_parameters(php_file: Path) -> dict:
    """The parameters a plugin web service declares, read from its execute_parameters() in PHP."""
    source = php_file.read_text(encoding="utf-8")
    start = source.index("function execute_parameters")
    body = source[start:source.index("function execute(", start)]
    required, optional = {}, {}
    for match in _PARAM.finditer(body):
        kind = int if match.group(2) == "PARAM_INT" else str
        (optional if "VALUE_DEFAULT" in match.group("rest") else required)[match.group(1)] = kind
    return {"required": required, "optional": optional}


def plugin_formats(php_file: Path = PLUGIN_EXTERNAL.parent / "local" / "formats.php") -> dict:
    """The plugin's format vocabulary (classes/local/formats.php): names, old aliases, extensions."""
    source = php_file.read_text(encoding="utf-8")

    def constant(name: str) -> str:
        return re.search(rf"const {name} = \[(.*?)\];", source, re.S).group(1)

    return {"names": re.findall(r"'([a-z0-9-]+)'", constant("NAMES")),
            "aliases": dict(re.findall(r"'([a-z0-9-]+)'\s*=>\s*'([a-z0-9-]+)'", constant("ALIASES"))),
            "extensions": dict(re.findall(r"'([a-z0-9-]+)'\s*=>\s*'([a-z0-9]+)'", constant("EXTENSIONS")))}


PLUGIN_FORMATS = plugin_formats()


def stored_format(format_: str, filename: str) -> str | None:
    """formats::of_file of the plugin: the format named (or, when none is sent, the file name's), if they agree."""
    by_extension = {ext: name for name, ext in PLUGIN_FORMATS["extensions"].items()}.get(
        filename.rpartition(".")[2].lower() if "." in filename else "")
    if not format_.strip():
        return by_extension
    name = format_.strip().lower()
    named = name if name in PLUGIN_FORMATS["names"] else PLUGIN_FORMATS["aliases"].get(name)
    return None if named is None or (by_extension is not None and by_extension != named) else named


# Exactly what the plugin's services declare (moodle_plugin/classes/external/*.php), so the fake
# refuses anything the real plugin would refuse, and follows the plugin if its contract changes.
DECLARED = {
    "block_edcissuer_store_credential": declared_parameters(PLUGIN_EXTERNAL / "store_credential.php"),
    "block_edcissuer_set_status": declared_parameters(PLUGIN_EXTERNAL / "set_status.php"),
}
STATUSES = {"queued", "issued", "delivered", "failed", "revoked", "parked"}


def _moodle_error(exception: str, errorcode: str, message: str) -> dict:
    return {"exception": exception, "errorcode": errorcode, "message": message}


class _QuietHTTPServer(ThreadingHTTPServer):
    """A kept-alive connection reset by a killed sidecar is what the reliability tests do on purpose;
    the stock server would print a traceback for each one."""

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


class FakeMoodle:
    """A threaded HTTP server answering like Moodle's REST server.php for the plugin's two functions.

    It refuses what real Moodle refuses: a token in the query string is ignored (Moodle reads it from
    the request, but we require the body), unknown or missing parameters give `invalidparameter`, a
    wrong token gives `invalidtoken`, storing different bytes under a known id gives `credentialconflict`.
    `fail_next(n, status)` makes the next n requests answer with that HTTP status, as a Moodle in trouble.
    `older_plugin=("deliveredat",)` answers as a plugin from before those parameters: it refuses them.
    """

    def __init__(self, token: str = "moodle-token-0123456789abcdef", *, users: set[int] | None = None,
                 courses: set[int] | None = None, older_plugin: tuple[str, ...] = ()) -> None:
        self.declared = {function: {"required": dict(d["required"]),
                                    "optional": {k: v for k, v in d["optional"].items() if k not in older_plugin}}
                         for function, d in DECLARED.items()}
        self.token = token
        self.users = users
        self.courses = courses
        self.files: dict[tuple[str, str], bytes] = {}  # (credentialid, format) -> bytes
        self.filenames: dict[tuple[str, str], str] = {}  # (credentialid, format) -> the file name offered
        self.stored = collections.Counter()  # credentialid -> "stored" answers (must end at 1)
        self.store_calls = collections.Counter()  # credentialid -> every store call that reached us
        self.stored_at: dict[str, float] = {}  # credentialid -> time.time() of the "stored" answer
        self.statuses: dict[tuple[int, int], tuple[int, str, str]] = {}  # (user, course) -> (ts, status, credid)
        self.status_calls: list[dict[str, str]] = []
        self.requests: list[dict] = []  # every request: path, query, form (token redacted)
        self._fail: list[int] = []
        self._lock = threading.Lock()
        self._server = _QuietHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "FakeMoodle":
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-moodle", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, count: int, status: int = 500) -> None:
        with self._lock:
            self._fail.extend([status] * count)

    def heal(self) -> None:
        """Stop failing: the outage is over."""
        with self._lock:
            self._fail.clear()

    # --- the functions -----------------------------------------------------------------------------

    def _dispatch(self, form: dict[str, str]) -> dict:
        if form.get("wstoken") != self.token:
            return _moodle_error("moodle_exception", "invalidtoken", "Invalid token - token not found")
        if form.get("moodlewsrestformat") != "json":
            return _moodle_error("moodle_exception", "invalidparameter", "moodlewsrestformat must be json here")
        function = form.get("wsfunction", "")
        declared = self.declared.get(function)
        if declared is None:
            return _moodle_error("dml_missing_record_exception", "invalidrecord",
                                 "Can't find data record in database table external_functions.")
        params = {k: v for k, v in form.items() if k not in ("wstoken", "wsfunction", "moodlewsrestformat")}
        problem = _check_params(params, declared)
        if problem:
            return _moodle_error("invalid_parameter_exception", "invalidparameter",
                                 f"Invalid parameter value detected ({problem})")
        userid, courseid = int(params["userid"]), int(params["courseid"])
        if self.users is not None and userid not in self.users:
            return _moodle_error("moodle_exception", "invaliduser", "Invalid user")
        if self.courses is not None and courseid not in self.courses:
            return _moodle_error("moodle_exception", "invalidcourse", "Invalid course")
        if function == "block_edcissuer_store_credential":
            return self._store(params, userid, courseid)
        return self._set_status(params, userid, courseid)

    def _store(self, p: dict[str, str], userid: int, courseid: int) -> dict:
        try:
            content = base64.b64decode(p["content"], validate=True)
        except (binascii.Error, ValueError):
            return _moodle_error("invalid_parameter_exception", "invalidparameter", "content is not base64")
        if "/" in p["filename"] or not p["verifyurl"].startswith(("http://", "https://")):
            return _moodle_error("invalid_parameter_exception", "invalidparameter", "filename or verifyurl")
        fmt = stored_format(p.get("format", ""), p["filename"])
        if fmt is None:
            return _moodle_error("moodle_exception", "invalidformat",
                                 f"format: {p.get('format', '')!r} is not one of edc-xml, elm3-jsonld, or does not "
                                 f"match the file name {p['filename']}")
        key = (p["credentialid"], fmt)
        with self._lock:
            self.store_calls[key[0]] += 1
            known = self.files.get(key)
            if known is not None and known != content:
                return _moodle_error("moodle_exception", "credentialconflict", "A different file has this id")
            if known is None:
                self.files[key] = content
                self.filenames[key] = p["filename"]
                self.stored[key[0]] += 1
                self.stored_at[key[0]] = time.time()
                self.statuses.setdefault((userid, courseid), (0, "issued", key[0]))
            answer = {"result": "unchanged", "recordid": 1} if known is not None else \
                {"result": "stored", "recordid": len(self.files)}
        return {**answer, "fileurl": self.url + "/pluginfile.php/x", **self._delivered_at(p, userid, courseid)}

    def _delivered_at(self, p: dict[str, str], userid: int, courseid: int) -> dict:
        """store_credential's deliveredat: the status "delivered", as set_status would record it."""
        at = int(p.get("deliveredat") or 0)
        if at <= 0:
            return {"delivered": False}
        answer = self._set_status({**p, "status": "delivered", "message": "", "timestamp": str(at)}, userid, courseid,
                                  call=False)
        return {"delivered": answer["applied"]}

    def _set_status(self, p: dict[str, str], userid: int, courseid: int, call: bool = True) -> dict:
        """`call`: a set_status call (kept in status_calls), not a store's deliveredat."""
        if p["status"] not in STATUSES:
            return _moodle_error("moodle_exception", "invalidstatus", f"Unknown status {p['status']}")
        with self._lock:
            if call:
                self.status_calls.append(dict(p))
            ts = int(p["timestamp"])
            current = self.statuses.get((userid, courseid))
            if current is not None and ts < current[0]:
                return {"applied": False}
            self.statuses[(userid, courseid)] = (ts, p["status"], p["credentialid"])
        return {"applied": True}

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.1 keeps the connection open between calls, as the web server in front of a real
            # Moodle does: with HTTP/1.0 every call paid a new TCP connection, which no site pays.
            protocol_version = "HTTP/1.1"
            # And sends the answer at once (TCP_NODELAY), as such a web server does: with Nagle's algorithm
            # on, the body written after the headers waited for the client's delayed ACK, 40 ms per call.
            disable_nagle_algorithm = True

            def log_message(self, *args):  # keep test output quiet
                pass

            def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):  # noqa: N802
                self._send(405, b"POST only", "text/plain")

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8")
                parts = urlsplit(self.path)
                form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                with fake._lock:
                    fake.requests.append({"path": parts.path, "query": parts.query,
                                          "content_type": self.headers.get("Content-Type", ""),
                                          "form": {k: ("***" if k == "wstoken" else v) for k, v in form.items()}})
                    failing = fake._fail.pop(0) if fake._fail else None
                if failing:
                    self._send(failing, b"<html><body>Service unavailable</body></html>", "text/html")
                    return
                if parts.path != "/webservice/rest/server.php":
                    self._send(404, b"not found", "text/plain")
                    return
                if parts.query:  # the token (or anything) in the URL is a mistake we want to catch
                    answer = _moodle_error("moodle_exception", "invalidparameter",
                                           "parameters must be in the POST body, not the URL")
                else:
                    answer = fake._dispatch(form)
                self._send(200, json.dumps(answer).encode())

        return Handler


def _check_params(params: dict[str, str], declared: dict) -> str | None:
    allowed = {**declared["required"], **declared["optional"]}
    missing = [k for k in declared["required"] if k not in params]
    if missing:
        return f"missing: {', '.join(missing)}"
    unknown = [k for k in params if k not in allowed]
    if unknown:
        return f"unexpected: {', '.join(unknown)}"
    for name, kind in allowed.items():
        if name in params and kind is int:
            try:
                int(params[name])
            except ValueError:
                return f"{name} is not an integer"
    return None
