"""Production issuance checks every Open Badge against 1EdTech's JSON Schema (EDC_OB3_SCHEMA), as the tests do.

The schema is read from ../shared/reference/ob3 where it lies (never copied into the project): a deployment
names the file, `serve --demo` names the shared copy. A stricter copy of the real schema, written to a
temporary folder, shows that a badge the schema refuses is never signed nor stored.
"""
from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import pytest

from bridge import worker
from bridge.app import create_app, stop_app
from bridge.commands.server import _demo_environment
from bridge.edc import formats, ob3, ob3_schema
from bridge.registry import documents
from bridge.registry.models import Credential, Issuance
from bridge.settings import Settings, SettingsError
from hsm.signer import open_seal

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from elm3.helpers import COURSES, REFERENCE, pilot_credential  # noqa: E402
from tests.sidecar.conftest import database_url, settings  # noqa: E402,F401 - the registry fixtures (SQLite, PostgreSQL)
from tests.sidecar.conftest import make_event, pilot_spec, post_event, put_spec  # noqa: E402

SCHEMA_FILE = REFERENCE / "ob3" / ob3_schema.SCHEMA_FILE


@pytest.fixture(scope="module")
def real_schema() -> ob3_schema.Ob3Schema:
    if not SCHEMA_FILE.is_file():
        pytest.fail(f"1EdTech's Open Badges 3.0 schema is missing: {SCHEMA_FILE}")
    return ob3_schema.Ob3Schema(SCHEMA_FILE)


@pytest.fixture
def stricter(tmp_path) -> Path:
    """1EdTech's schema that also requires `evidence`, which our badges do not carry."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    schema["required"] = [*schema["required"], "evidence"]
    path = tmp_path / "stricter.json"
    path.write_text(json.dumps(schema), encoding="utf-8")
    return path


def test_settings_take_the_file_or_its_folder_and_refuse_anything_else(tmp_path):
    assert Settings.from_env({"EDC_OB3_SCHEMA": str(SCHEMA_FILE)}).ob3_schema == str(SCHEMA_FILE)
    assert Settings.from_env({"EDC_OB3_SCHEMA": str(SCHEMA_FILE.parent)}).ob3_schema == str(SCHEMA_FILE.parent)
    assert Settings.from_env({}).ob3_schema is None
    (tmp_path / "list.json").write_text("[1, 2]")
    for wrong in (tmp_path / "missing.json", tmp_path / "list.json", tmp_path):
        with pytest.raises(SettingsError, match="EDC_OB3_SCHEMA"):
            Settings.from_env({"EDC_OB3_SCHEMA": str(wrong)})


def test_the_demo_names_the_shared_copy_and_nothing_is_copied_into_the_project():
    env = _demo_environment({"EDC_PKCS11_MODULE": "set", "EDC_INTAKE_KEYS": "k=s", "EDC_STAFF_TOKEN": "t"})
    assert Path(env["EDC_OB3_SCHEMA"]).resolve() == SCHEMA_FILE.resolve()
    repo = Path(__file__).resolve().parents[2]
    assert not [p for p in repo.rglob(ob3_schema.SCHEMA_FILE) if "node_modules" not in p.parts]


@pytest.mark.parametrize("course", COURSES, ids=lambda p: p.stem)
def test_every_pilot_badge_follows_the_schema_and_a_broken_one_is_named(course, real_schema):
    doc = ob3.build_ob3(pilot_credential(course, grade="9"), status_url="https://edc.example.test/status/x")
    assert real_schema.problems(doc) == []
    broken = {k: v for k, v in doc.items() if k != "issuer"}
    broken["validFrom"] = "yesterday"
    problems = real_schema.problems(broken)
    assert any(p.startswith("/: 'issuer' is a required property") for p in problems), problems
    assert any(p.startswith("/validFrom:") for p in problems), problems


def test_a_badge_the_schema_refuses_is_never_signed(ec_token, stricter, real_schema):
    credential = pilot_credential(COURSES[0])
    seal = open_seal(ec_token.config)
    with pytest.raises(ob3_schema.Ob3SchemaViolation, match="/: 'evidence' is a required property"):
        ob3.issue_ob3(credential, seal, schema=ob3_schema.Ob3Schema(stricter))
    assert ob3.issue_ob3(credential, seal, schema=real_schema).count(b".") == 2
    assert formats.get("ob3-vcjwt").skipped_check(formats.Checks(ob3_schema=real_schema)) is None
    assert "EDC_OB3_SCHEMA" in formats.get("ob3-vcjwt").skipped_check(formats.Checks())


def _issue_badge(settings: Settings, schema_path: Path) -> tuple[list, list]:
    app = create_app(dataclasses.replace(settings, ob3_schema=str(schema_path)), channels={})
    ctx, client = app.extensions["edc"], app.test_client()
    try:
        assert ctx.checks.ob3_schema is not None
        put_spec(client, 1, dict(pilot_spec(), format="ob3-vcjwt"))
        assert post_event(client, make_event()).status_code == 202
        worker.drain(ctx)
        with ctx.registry.reading() as db:
            stored = [(c.id, c.format, documents.read_document(db, ctx.registry.dictionaries, c))
                      for c in db.query(Credential)]
            inbox = [(i.status, i.last_error or "") for i in db.query(Issuance)]
        return stored, inbox
    finally:
        stop_app(app)
        ctx.registry.dispose()


def test_the_worker_signs_a_badge_that_follows_the_schema_with_its_status(settings):
    stored, _ = _issue_badge(settings, SCHEMA_FILE)
    ((cid, fmt, data),) = stored
    assert fmt == "ob3-vcjwt"
    doc = ob3.parse(data)[1]
    assert doc["credentialStatus"]["id"] == f"{settings.public_url}/status/{cid.rpartition(':')[2]}"


def test_the_worker_stores_no_badge_the_schema_refuses_and_says_why(settings, stricter):
    stored, inbox = _issue_badge(settings, stricter)
    assert stored == []
    ((status, error),) = inbox
    assert status in ("queued", "failed") and "Ob3SchemaViolation" in error and "evidence" in error, inbox


# --- verifying: `edc-bridge verify`, the API and the page check the schema too -------------------------


def test_verifying_a_badge_checks_it_against_the_configured_schema(ec_token, stricter, real_schema):
    from bridge.edc.verifier import verify_credential

    import datetime as dt

    badge = ob3.issue_ob3(pilot_credential(COURSES[0]), open_seal(ec_token.config), schema=real_schema,
                          signing_time=dt.datetime.now(dt.timezone.utc))
    anchors = [ec_token.ca_cert]
    checked = verify_credential(badge, trust_anchors=anchors, ob3_schema=real_schema)
    assert checked.valid and checked.schema_valid is True, checked.problems
    assert not [n for n in checked.notes if "JSON Schema" in n]
    refused = verify_credential(badge, trust_anchors=anchors, ob3_schema=ob3_schema.Ob3Schema(stricter))
    assert not refused.valid and refused.schema_valid is False
    assert any("does not follow 1EdTech's Open Badges 3.0 JSON Schema" in p and "evidence" in p
               for p in refused.problems), refused.problems
    unchecked = verify_credential(badge, trust_anchors=anchors)
    assert unchecked.valid and unchecked.schema_valid is None
    assert any("EDC_OB3_SCHEMA" in n for n in unchecked.notes), unchecked.notes


def test_the_verify_api_and_the_cli_use_the_configured_schema(settings, stricter, tmp_path, ec_token):
    import subprocess

    stored, _ = _issue_badge(settings, SCHEMA_FILE)
    ((_, _, badge),) = stored
    app = create_app(dataclasses.replace(settings, ob3_schema=str(stricter)), channels={})
    try:
        verdict = app.test_client().post("/api/v1/verify", data=badge, content_type="application/jwt").json
        assert verdict["valid"] is False and any("evidence" in p for p in verdict["problems"]), verdict
    finally:
        stop_app(app)
        app.extensions["edc"].registry.dispose()
    path = tmp_path / "badge.jwt"
    path.write_bytes(badge)
    cli = Path(sys.executable).with_name("edc-bridge")
    anchors = tmp_path / "ca.pem"
    from cryptography.hazmat.primitives.serialization import Encoding

    anchors.write_bytes(ec_token.ca_cert.public_bytes(Encoding.PEM))
    env = {"PATH": "/usr/bin:/bin", "EDC_TRUST_ANCHORS": str(anchors)}
    for schema, valid in ((SCHEMA_FILE, True), (stricter, False)):
        run = subprocess.run([str(cli), "verify", "--offline", "--json", str(path)], capture_output=True, text=True,
                             env={**env, "EDC_OB3_SCHEMA": str(schema)}, timeout=120)
        report = json.loads(run.stdout)
        assert (run.returncode == 0) is valid and report["valid"] is valid, (run.stderr, report)
