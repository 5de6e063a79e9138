"""Drive a real `edc-bridge serve` process from outside, as Moodle and an operator would.

The sidecar runs as its own process group so a SIGKILL takes it down whole (worker processes too),
exactly like a crashed container. Everything the tests judge afterwards comes from outside the
process: the HTTP answers, the mail sink, the fake Moodle, and the registry file.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import requests

from bridge.intake.auth import signed_headers

REPO = Path(__file__).resolve().parents[2]
PILOT = REPO / "examples" / "pilot"
SITE = "moodle-rel"
KEY_ID, SECRET = "rel-test", "reliability-shared-secret-0123456789"
STAFF_TOKEN = "staff-token-for-reliability-tests-0123456789"
EVENTS_PATH = "/api/v1/events"


def pilot_course(name: str = "data101") -> dict:
    return json.loads((PILOT / "courses" / f"{name}.json").read_text(encoding="utf-8"))


def make_event(n: int, course_id: int, *, lang: str | None = None) -> dict:
    """Event n: its own learner (id, address) so every event is a distinct credential."""
    return {
        "event_id": f"{SITE}:course_completed:{course_id}:{n}",
        "type": "course_completed",
        "site": {"id": SITE, "url": "https://moodle.example.edu"},
        "course": {"id": course_id, "shortname": f"C{course_id}", "fullname": f"Course {course_id}"},
        "learner": {"id": 1000 + n, "email": f"learner{n}@example.edu", "given_names": "Ona",
                    "family_name": f"Jonaitė {n}", "lang": lang or ("lt" if n % 2 else "en")},
        "completed_at": "2026-11-28T10:00:00Z",
        "requested_by": None,
    }


class Sidecar:
    """One `edc-bridge serve` on loopback; `kill()` is SIGKILL to its whole process group."""

    def __init__(self, workdir: Path, port: int, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.port = port
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.kills = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        self.starts += 1
        log = open(self.workdir / f"sidecar-{self.starts}.log", "wb")
        command = [str(Path(sys.executable).with_name("edc-bridge")), "serve", "--host", "127.0.0.1",
                   "--port", str(self.port)]
        self.proc = subprocess.Popen(command, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sidecar exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"sidecar not healthy after {timeout} s: {self.log_tail()}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.kills += 1

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def log_tail(self, size: int = 3000) -> str:
        text = ""
        for path in sorted(self.workdir.glob("sidecar-*.log")):
            text += f"\n--- {path.name}\n" + path.read_text(errors="replace")
        return text[-size:]

    # --- the API, as Moodle and staff use it ------------------------------------------------------

    def post_event(self, event: dict, session: requests.Session | None = None, timeout: float = 10) -> requests.Response:
        body = json.dumps(event, ensure_ascii=False).encode("utf-8")
        headers = signed_headers(KEY_ID, SECRET, "POST", EVENTS_PATH, body)
        headers["Content-Type"] = "application/json"
        return (session or requests).post(self.url + EVENTS_PATH, data=body, headers=headers, timeout=timeout)

    def put_specification(self, course_id: int, document: dict) -> requests.Response:
        return requests.put(f"{self.url}/api/v1/courses/{SITE}/{course_id}/specification", json=document,
                            headers={"Authorization": f"Bearer {STAFF_TOKEN}"}, timeout=10)


def sidecar_env(workdir: Path, token_dir: Path, smtp_url: str, moodle_url: str, moodle_token: str,
                **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDC_")}
    env.update({
        "EDC_DATABASE_URL": f"sqlite:///{workdir / 'registry.sqlite3'}",
        "EDC_INTAKE_KEYS": f"{KEY_ID}={SECRET}",
        "EDC_STAFF_TOKEN": STAFF_TOKEN,
        "EDC_SMTP_URL": smtp_url,
        "EDC_MAIL_FROM": "credentials@edc.example.edu",
        "EDC_MOODLE_URL": moodle_url,
        "EDC_MOODLE_TOKEN": moodle_token,
        "EDC_DEMO_DIR": str(token_dir),
        "EDC_TRUST_ANCHORS": str(token_dir / "ca.pem"),
        "EDC_PUBLIC_URL": "https://edc.example.edu",
        "EDC_LOG_LEVEL": "WARNING",
    })
    env.update(extra)
    return env


def registry_rows(db_path: Path, query: str) -> list[tuple]:
    """Read the registry file directly (read-only), the way an auditor would, after the sidecar stopped."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        return db.execute(query).fetchall()


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
