"""Fixtures for the sidecar tests: a registry on SQLite *and* on PostgreSQL, a real SoftHSM token,
and an app whose worker the test drives by hand (so every step is deterministic).

PostgreSQL: EDC_TEST_DATABASE_URL (set by .ci/run), else var/test-postgres/url; each test gets its own
schema, dropped afterwards. Without either, the PostgreSQL variants are skipped, saying why.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import threading
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from bridge.app import create_app, stop_app
from bridge.delivery import DeliveryError, DeliveryJob
from bridge.intake.auth import signed_headers
from bridge.settings import Settings
from tests.delivery.conftest import mail_sink  # noqa: F401 - the loopback SMTP server, for mailing_app

REPO = Path(__file__).resolve().parents[2]
PILOT = REPO / "examples" / "pilot"
KEY_ID, SECRET = "moodle-test", "test-secret-0123456789"
STAFF = "staff-token-for-tests"
STAFF_HEADERS = {"Authorization": f"Bearer {STAFF}"}


def postgres_url() -> str | None:
    url = os.environ.get("EDC_TEST_DATABASE_URL")
    if not url:
        f = REPO / "var" / "test-postgres" / "url"
        url = f.read_text(encoding="utf-8").strip() if f.exists() else None
    return url or None


def _with_schema(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/registry.sqlite3"
        return
    url = postgres_url()
    if not url:
        pytest.skip("PostgreSQL variant skipped: EDC_TEST_DATABASE_URL is unset and var/test-postgres/url is absent "
                    "(start one with scripts/start-test-postgres.sh)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield _with_schema(url, schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def token_env(token) -> dict[str, str]:
    cfg = token.config
    env = {"EDC_PKCS11_MODULE": cfg.module, "EDC_TOKEN_LABEL": cfg.token_label, "EDC_PIN": cfg.pin}
    if cfg.softhsm_conf:
        env["SOFTHSM2_CONF"] = str(cfg.softhsm_conf)
    return env


class RecordingChannel:
    """A delivery channel that keeps what it was given; `fail` makes the next attempts fail.

    The real SMTP and Moodle channels are tested by their own suite (tests/delivery); here the subject
    is the worker's bookkeeping around any channel.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.jobs: list[DeliveryJob] = []
        self.fail: DeliveryError | None = None
        self._lock = threading.Lock()

    def deliver(self, job: DeliveryJob) -> None:
        with self._lock:
            if self.fail is not None:
                raise self.fail
            self.jobs.append(job)


@pytest.fixture
def settings(database_url, ec_token, tmp_path) -> Settings:
    return Settings(database_url=database_url, intake_keys={KEY_ID: SECRET}, staff_token=STAFF,
                    token_env=token_env(ec_token), trust_anchors=str(ec_token.ca_cert_path),
                    smtp_url="smtp://127.0.0.1:9", moodle_url="http://127.0.0.1:9/moodle", moodle_token="t",
                    public_url="https://edc.example.test", start_background=False, max_delivery_attempts=3,
                    retry_base_seconds=0.01, verify_rate_limit="1000/minute",
                    staff_auth_limit="1000/minute")  # tests refused by design many times; the throttle's own set theirs


@pytest.fixture
def channels() -> dict[str, RecordingChannel]:
    return {"email": RecordingChannel("email"), "moodle": RecordingChannel("moodle")}


@pytest.fixture
def app(settings, channels):
    application = create_app(settings, channels=channels)
    yield application
    stop_app(application)
    application.extensions["edc"].registry.dispose()


MAIL_FROM = "credentials@edc.example.test"


@pytest.fixture
def mailing_app(settings, mail_sink):
    """The sidecar with the real email channel (to the loopback SMTP server) and a recording Moodle."""
    from bridge.delivery.email import EmailChannel, parse_smtp_url

    channels = {"email": EmailChannel(parse_smtp_url(mail_sink.url), MAIL_FROM, timeout=5),
                "moodle": RecordingChannel("moodle")}
    application = create_app(dataclasses.replace(settings, mail_from=MAIL_FROM), channels=channels)
    yield application
    stop_app(application)
    application.extensions["edc"].registry.dispose()


@pytest.fixture
def ctx(app):
    return app.extensions["edc"]


@pytest.fixture
def client(app):
    return app.test_client()


# --- building requests -----------------------------------------------------------------------------


def pilot_spec(name: str = "data101") -> dict:
    return json.loads((PILOT / "courses" / f"{name}.json").read_text(encoding="utf-8"))


def pilot_learner(name: str = "ona-jonaite") -> dict:
    return json.loads((PILOT / "learners" / f"{name}.json").read_text(encoding="utf-8"))


def make_event(course: int = 1, learner: dict | None = None, completed_at: str = "2026-11-28T10:00:00Z",
               site: str = "demo", kind: str = "course_completed", requested_by: int | None = None) -> dict:
    learner = learner or pilot_learner()
    return {"event_id": f"{site}:{kind}:{course}:{learner['id']}:{completed_at}", "type": kind,
            "site": {"id": site, "url": "https://moodle.example.test"},
            "course": {"id": course, "shortname": "C", "fullname": "Course"}, "learner": learner,
            "completed_at": completed_at, "requested_by": requested_by}


def signed(method: str, path: str, body: bytes = b"", **kw) -> dict[str, str]:
    headers = signed_headers(KEY_ID, SECRET, method, path, body, **kw)
    headers["Content-Type"] = "application/json"
    return headers


def post_event(client, event: dict, **kw):
    body = json.dumps(event, ensure_ascii=False).encode("utf-8")
    return client.post("/api/v1/events", data=body, headers=signed("POST", "/api/v1/events", body, **kw))


def put_spec(client, course: int, spec: dict, site: str = "demo"):
    path = f"/api/v1/courses/{site}/{course}/specification"
    body = json.dumps(spec, ensure_ascii=False).encode("utf-8")
    return client.put(path, data=body, headers=signed("PUT", path, body))


@contextlib.contextmanager
def downgraded(ctx, revision: str):
    """The app's registry taken back to migration `revision` (yields the connection, to look at it), then
    let go of; a test opens `Registry(database_url)` after it to migrate forward again, as a start does."""
    from alembic import command
    from alembic.config import Config

    from bridge.registry.db import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with ctx.registry.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
        connection.commit()
        yield connection
    ctx.registry.dispose()
