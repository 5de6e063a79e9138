"""The bare parts of a sidecar, measured on this machine in the same run as the sidecar (issue 18).

Issue 18 asks for the sidecar's CPU per credential to be at most 1.5 x the in-process pipeline's. Part of
what the sidecar spends around the credential no design can skip: the event arrives over HTTP, the mail
goes over SMTP, the file goes to Moodle over HTTP, and the event and the mail's hand-over are each
committed to disk before they are acknowledged or sent. This measures each of those alone, with nothing
of ours around it, so the report can say how much of the gap is the transport and the disk and how much
is our validation, audit trail and bookkeeping:

- an HTTP request: a Flask app with one route that parses the JSON body and answers 202, under waitress
  (8 threads), in its own process, posted to by 8 threads; the server process's CPU per request;
- an SMTP send: smtplib's sendmail of a message the size of ours (the sealed credential attached) on an
  open connection to the local sink; the client thread's CPU;
- a Moodle call: a form the size of ours (the credential in base64, bridge.delivery.moodle.form_body)
  posted with the channel's session to the Moodle-like server; the client thread's CPU;
- a commit: Python's sqlite3 inserting one 500-byte row per transaction in WAL mode with
  synchronous=FULL, as the registry is configured; the thread's CPU.

    .venv/bin/python bench/service_floor.py        # alone, with a sealed-size stand-in
"""
from __future__ import annotations

import base64
import json
import os
import smtplib
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import requests  # noqa: E402

from bridge.delivery.moodle import STORE, environment_session, form_body  # noqa: E402
from delivery.sinks import FakeMoodle, MailSink, free_port  # noqa: E402

COMMITS_PER_CREDENTIAL = 2  # the event's (before its 202) and the mail's hand-over (before the final ".")


def _process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _serve(port: int) -> None:
    """The bare server: what any Flask sidecar under waitress pays per request, before its own work."""
    import waitress
    from flask import Flask, jsonify, request

    app = Flask("bare")

    @app.post("/events")
    def events():  # noqa: ANN202 - a Flask view
        body = json.loads(request.get_data())
        return jsonify({"accepted": len(body)}), 202

    @app.get("/ready")
    def ready():  # noqa: ANN202 - a Flask view
        return "ok"

    waitress.serve(app, host="127.0.0.1", port=port, threads=8, _quiet=True)


def http_request_ms(body: bytes, requests_count: int = 1000, senders: int = 8) -> float:
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if requests.get(base + "/ready", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.05)
        local = threading.local()

        def post(_n: int) -> None:
            session = getattr(local, "session", None) or requests.Session()
            local.session = session
            session.post(base + "/events", data=body, headers={"Content-Type": "application/json"},
                         timeout=10).raise_for_status()

        with ThreadPoolExecutor(senders) as pool:
            list(pool.map(post, range(100)))  # warm
            before = _process_cpu(server.pid)
            list(pool.map(post, range(requests_count)))
        return 1000 * (_process_cpu(server.pid) - before) / requests_count
    finally:
        server.terminate()
        server.wait(10)


def _mail_like_ours(document: bytes) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "credentials@edc.example.edu", "learner@example.edu", "x"
    message.set_content("Your credential is attached.\n" * 40)
    message.add_attachment(document, maintype="application", subtype="xml", filename="credential.xml")
    return message.as_bytes(policy=SMTP_POLICY)


def smtp_send_ms(document: bytes, count: int = 300) -> float:
    sink = MailSink(keep_messages=False).start()
    try:
        host, port = sink.url.split("//", 1)[1].split(":")[:2]
        data = _mail_like_ours(document)
        with smtplib.SMTP(host, int(port), timeout=10) as smtp:
            for _ in range(20):
                smtp.sendmail("credentials@edc.example.edu", ["learner@example.edu"], data)
            started = time.thread_time()
            for _ in range(count):
                smtp.sendmail("credentials@edc.example.edu", ["learner@example.edu"], data)
            return 1000 * (time.thread_time() - started) / count
    finally:
        sink.stop()


def moodle_call_ms(document: bytes, count: int = 300) -> float:
    moodle = FakeMoodle().start()
    try:
        endpoint = moodle.url.rstrip("/") + "/webservice/rest/server.php"
        session = environment_session(endpoint)
        form = form_body({"wstoken": moodle.token, "wsfunction": STORE, "moodlewsrestformat": "json",
                          "userid": "1001", "courseid": "12", "credentialid": "urn:credential:bench",
                          "filename": "credential.xml", "content": base64.b64encode(document).decode("ascii"),
                          "verifyurl": "https://edc.example.edu/verify", "format": "edc-xml",
                          "deliveredat": str(int(time.time()))})
        for _ in range(20):
            session.post(endpoint, data=form, timeout=10)
        started = time.thread_time()
        for _ in range(count):
            session.post(endpoint, data=form, timeout=10).json()
        return 1000 * (time.thread_time() - started) / count
    finally:
        moodle.stop()


def commit_ms(count: int = 1000) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(Path(tmp) / "floor.sqlite3", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE inbox (id INTEGER PRIMARY KEY, payload TEXT)")
        row = "x" * 500

        def one() -> None:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO inbox (payload) VALUES (?)", (row,))
            db.execute("COMMIT")

        for _ in range(50):
            one()
        started = time.thread_time()
        for _ in range(count):
            one()
        db.close()
        return 1000 * (time.thread_time() - started) / count


def measure(event_body: bytes, document: bytes) -> dict[str, float]:
    parts = {"http_ms": http_request_ms(event_body), "smtp_ms": smtp_send_ms(document),
             "moodle_ms": moodle_call_ms(document), "commit_ms": commit_ms()}
    parts["total_ms"] = (parts["http_ms"] + parts["smtp_ms"] + parts["moodle_ms"]
                         + COMMITS_PER_CREDENTIAL * parts["commit_ms"])
    return parts


def parts_line(parts: dict[str, float]) -> str:
    return (f"bare parts, same machine         HTTP request {parts['http_ms']:.2f} ms (server), SMTP send "
            f"{parts['smtp_ms']:.2f} ms, Moodle call {parts['moodle_ms']:.2f} ms, SQLite commit "
            f"{parts['commit_ms']:.2f} ms x {COMMITS_PER_CREDENTIAL}")


def lines(parts: dict[str, float], pipeline_ms: float, sidecar_ms: float) -> list[str]:
    """The report's lines: each bare part, and what a sidecar doing only those would cost."""
    floor = pipeline_ms + parts["total_ms"]
    return [parts_line(parts),
            f"pipeline + bare parts            {floor:.1f} ms = {floor / pipeline_ms:.2f}x the pipeline (a sidecar "
            f"with no validation, audit or bookkeeping); ours spends {sidecar_ms - floor:.1f} ms more"]


def main() -> None:
    from reliability.harness import make_event

    document = b"<credential>" + b"x" * 22_000 + b"</credential>"  # a sealed credential's size is what counts
    event = json.dumps(make_event(1, 12), ensure_ascii=False).encode("utf-8")
    parts = measure(event, document)
    print(parts_line(parts))
    print(f"together                         {parts['total_ms']:.2f} ms per credential")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        _serve(int(sys.argv[2]))
    else:
        main()
