"""The staff API of bulk cohorts on SQLite and PostgreSQL: the same check and the same exactly-once
issuing as the pages, for scripts (Bearer staff token)."""
from __future__ import annotations

import csv
import io

from bridge import worker
from tests.bulk.conftest import COURSE_KEY, csv_bytes, learners, xlsx
from tests.sidecar.conftest import STAFF_HEADERS


def _upload(client, data: bytes, name: str = "c.xlsx"):
    return client.post(f"/api/v1/bulk/batches?course={COURSE_KEY}&filename={name}", data=data, headers=STAFF_HEADERS)


def test_the_api_checks_issues_once_and_reports(client, course, ctx):
    rows = learners(3)
    rows[2][3] = "fr"
    answer = _upload(client, xlsx(rows))
    assert answer.status_code == 201
    body = answer.get_json()
    assert (body["rows"], body["valid"], body["refused"], body["status"]) == (3, 2, 1, "checked")
    assert body["problems"] == [{"row": 4, "column": "lang", "header": "Language", "code": "language",
                                 "message": "unknown language 'fr': use one of en, lt"}]
    path = f"/api/v1/bulk/batches/{body['batch_id']}"
    refused = client.post(f"{path}/issue", json={}, headers=STAFF_HEADERS)
    assert refused.status_code == 409 and refused.get_json()["problems"][0]["pointer"] == "/valid_only"
    issued = client.post(f"{path}/issue", json={"valid_only": True}, headers=STAFF_HEADERS).get_json()
    assert (issued["created"], issued["duplicates"], issued["refused"]) == (2, 0, 1)
    assert client.post(f"{path}/issue", json={"valid_only": True}, headers=STAFF_HEADERS).status_code == 409
    assert worker.drain(ctx) == 2
    state = client.get(path, headers=STAFF_HEADERS).get_json()
    assert state["status"] == "issued" and state["progress"] == {"states": {"delivered": 2}, "sealed": 2, "done": 2,
                                                                 "total": 2, "finished": True}
    results = list(csv.DictReader(io.StringIO(
        client.get(f"{path}/results.csv", headers=STAFF_HEADERS).get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["outcome"] for r in results] == ["new", "new", "refused"]
    assert results[2]["problems"] == "Language: unknown language 'fr': use one of en, lt"

    again = _upload(client, csv_bytes(rows[:2]), "again.csv").get_json()
    assert again["issued_before"] == 2
    second = client.post(f"/api/v1/bulk/batches/{again['batch_id']}/issue", json={}, headers=STAFF_HEADERS).get_json()
    assert (second["created"], second["duplicates"]) == (0, 2)
    assert worker.drain(ctx) == 0


def test_the_api_needs_the_staff_token_and_refuses_bad_input(client, course):
    assert client.post(f"/api/v1/bulk/batches?course={COURSE_KEY}", data=b"x").status_code == 401
    assert client.get(f"/api/v1/bulk/template?course={COURSE_KEY}").status_code == 401
    bad = client.post("/api/v1/bulk/batches?course=nonsense", data=b"x", headers=STAFF_HEADERS)
    assert bad.status_code == 400 and bad.get_json()["problems"][0]["pointer"] == "?course"
    bomb = _upload(client, b"PK\x03\x04" + b"\0" * 100)
    assert bomb.status_code == 400 and "damaged XLSX" in bomb.get_json()["problems"][0]["message"]
    template = client.get(f"/api/v1/bulk/template?course={COURSE_KEY}&format=xlsx", headers=STAFF_HEADERS)
    assert template.status_code == 200 and template.data.startswith(b"PK")


def test_an_api_upload_over_the_limit_is_413(client, course, ctx):
    too_big = b"a" * (ctx.settings.bulk_max_upload_bytes + 10)
    assert _upload(client, too_big).status_code == 413


def test_bulk_needs_the_registrar_role_and_the_audit_names_the_token(settings, channels):
    import dataclasses
    import json

    from sqlalchemy import select

    from bridge.app import create_app, stop_app
    from bridge.registry.models import AuditEntry
    from bridge.settings import Settings
    from tests.bulk.conftest import COURSE, SITE, pilot_spec, put_spec

    env = {"EDC_API_TOKENS": "reports:viewer:viewer-secret-0123456789abcdef; sis:registrar:registrar-secret-0123456789ab"}
    app = create_app(dataclasses.replace(settings, api_tokens=Settings.from_env(env).api_tokens), channels=channels)
    try:
        client, ctx = app.test_client(), app.extensions["edc"]
        put_spec(client, COURSE, pilot_spec("data101"), site=SITE)
        data = xlsx(learners(2))
        viewer = {"Authorization": "Bearer viewer-secret-0123456789abcdef"}
        registrar = {"Authorization": "Bearer registrar-secret-0123456789ab"}
        refused = client.post(f"/api/v1/bulk/batches?course={COURSE_KEY}", data=data, headers=viewer)
        assert refused.status_code == 403
        assert client.get(f"/api/v1/bulk/template?course={COURSE_KEY}", headers=viewer).status_code == 403
        made = client.post(f"/api/v1/bulk/batches?course={COURSE_KEY}", data=data, headers=registrar)
        assert made.status_code == 201
        batch = made.get_json()["batch_id"]
        assert client.post(f"/api/v1/bulk/batches/{batch}/issue", json={}, headers=viewer).status_code == 403
        assert client.post(f"/api/v1/bulk/batches/{batch}/issue", json={}, headers=registrar).get_json()["created"] == 2
        with ctx.registry.reading() as db:
            entries = {(e.action, e.actor, json.loads(e.details).get("role")) for e in db.execute(
                select(AuditEntry).where(AuditEntry.action.like("bulk.%"))).scalars()}
        assert ("bulk.uploaded", "api-token:sis", "registrar") in entries
        assert ("bulk.issued", "api-token:sis", "registrar") in entries
    finally:
        stop_app(app)
        app.extensions["edc"].registry.dispose()
