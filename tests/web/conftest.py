"""A whole sidecar for the web tests: the real app factory, a SQLite registry, the SoftHSM RSA test token,
credentials issued by the real worker, and a werkzeug server on a loopback port.

Email delivery points at a closed loopback port, so the dashboard has real failing deliveries to show.
"""
from __future__ import annotations

import json
import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

from bridge import worker
from bridge.app import create_app
from bridge.intake.events import store_event
from bridge.intake.specifications import store_specification
from bridge.registry.models import Credential
from bridge.settings import Settings
from tests.loopback import served_on_loopback

REPO = Path(__file__).resolve().parents[2]
PILOT = REPO / "examples" / "pilot"
SCHEMA_DIR = REPO.parent / "shared" / "reference" / "edc" / "v1_xsd"
STAFF_TOKEN = "staff-token-for-tests-" + "x" * 20
SITE = "test-site"
COURSES = {"DATA101": (12, "data101"), "LTLANG01": (31, "ltlang01"), "GREEN310": (44, "green310")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _closed_port() -> int:
    """A loopback port nobody listens on (bound then released), so SMTP connections are refused."""
    return _free_port()


@dataclass
class Sidecar:
    app: object
    base_url: str
    credentials: dict[str, str]  # "<COURSE>/<learner file stem>" -> credential id

    @property
    def ctx(self):
        return self.app.extensions["edc"]


def _event(n: int, shortname: str, course_id: int, learner: dict) -> dict:
    return {
        "event_id": f"web-test-{n}", "type": "course_completed",
        "site": {"id": SITE, "url": "https://moodle.test.example"},
        "course": {"id": course_id, "shortname": shortname, "fullname": shortname.title()},
        "learner": learner, "completed_at": "2026-11-20T10:00:00Z", "requested_by": None,
    }


def issue_pilot_credentials(ctx) -> dict[str, str]:
    """Store the pilot course descriptions and one completion per learner, then let the worker seal them."""
    learners = sorted((PILOT / "learners").glob("*.json"))
    for shortname, (course_id, stem) in COURSES.items():
        spec = json.loads((PILOT / "courses" / f"{stem}.json").read_text())
        store_specification(ctx.registry, SITE, course_id, spec, None)
    n = 0
    for shortname, (course_id, _stem) in COURSES.items():
        for learner_file in learners if shortname == "DATA101" else learners[:1]:
            n += 1
            store_event(ctx.registry, _event(n, shortname, course_id, json.loads(learner_file.read_text())), None)
    made = worker.drain(ctx)
    assert made == n, f"the worker sealed {made} of {n} credentials"
    found: dict[str, str] = {}
    with ctx.registry.transaction() as session:
        for row in session.query(Credential).all():
            shortname = next(s for s, (cid, _) in COURSES.items() if cid == row.course_id)
            found[f"{shortname}/{row.learner_name}"] = row.id
    return found


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    """Each page test runs on both registries: SQLite (embedded) and PostgreSQL (production).

    The PostgreSQL variant gets a throw-away database beside EDC_TEST_DATABASE_URL's, so the registry
    tests' own database is never touched; without that variable it is skipped, and says so.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('web-registry') / 'registry.sqlite3'}"
        return
    base = os.environ.get("EDC_TEST_DATABASE_URL")
    if not base:
        pytest.skip("no PostgreSQL for the web tests: set EDC_TEST_DATABASE_URL (scripts/start-test-postgres.sh)")
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(base)
    name = f"edc_web_{secrets.token_hex(4)}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sidecar(rsa_token, database_url) -> Sidecar:
    from hsm.signer import SealProvider

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=database_url,
        staff_token=STAFF_TOKEN,
        public_url=base_url,
        schema_dir=str(SCHEMA_DIR),
        trust_anchors=str(rsa_token.ca_cert_path),
        smtp_url=f"smtp://127.0.0.1:{_closed_port()}",
        mail_from="credentials@university.test",
        start_background=False,
        retry_base_seconds=3600.0,
    )
    app = create_app(settings, seals=SealProvider(rsa_token.config))
    credentials = issue_pilot_credentials(app.extensions["edc"])
    with served_on_loopback(app, port):
        yield Sidecar(app, base_url, credentials)
