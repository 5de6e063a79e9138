"""A credential's format, honoured from the course's description to Moodle: through the real sidecar
(intake, worker, the real Moodle channel over HTTP) into a server that answers as the plugin does."""
from __future__ import annotations

import base64
import dataclasses

import pytest

from bridge import worker
from bridge.app import create_app, stop_app
from bridge.registry import documents
from bridge.registry.models import Credential
from tests.delivery.sinks import FakeMoodle
from tests.sidecar.conftest import make_event, pilot_learner, pilot_spec, post_event, put_spec


@pytest.fixture
def moodle():
    fake = FakeMoodle(users={pilot_learner()["id"]}, courses={1, 2}).start()
    yield fake
    fake.stop()


@pytest.fixture
def sidecar(settings, moodle):
    """The sidecar with its real Moodle channel pointed at the plugin-like server (no mail)."""
    def make(**changes):
        app = create_app(dataclasses.replace(settings, smtp_url=None, moodle_url=moodle.url,
                                             moodle_token=moodle.token, **changes))
        made.append(app)
        return app

    made: list = []
    yield make
    for app in made:
        stop_app(app)
        app.extensions["edc"].registry.dispose()


def _stored(ctx) -> list[tuple[Credential, bytes]]:
    with ctx.registry.reading() as session:
        rows = session.query(Credential).order_by(Credential.format).all()
        return [(row, documents.read_document(session, ctx.registry.dictionaries, row)) for row in rows]


def test_moodle_is_told_the_true_format_and_stores_the_file_as_it(sidecar, moodle):
    app = sidecar(formats=("edc-xml", "elm3-jsonld"))
    client, ctx = app.test_client(), app.extensions["edc"]
    spec = pilot_spec()
    spec["format"] = "elm3-jsonld"
    assert put_spec(client, 1, spec).json["valid"] is True
    post_event(client, make_event())
    assert worker.drain(ctx) == 1
    ((row, document),) = _stored(ctx)
    assert row.format == "elm3-jsonld"
    (store,) = [r["form"] for r in moodle.requests if r["form"]["wsfunction"] == "block_edcissuer_store_credential"]
    assert store["format"] == "elm3-jsonld"  # what the plugin records, shows in My credentials and exports
    assert store["verifyurl"].startswith(f"https://edc.example.test/verify/{row.id}?t=")  # Moodle's "Verify"
    assert moodle.files == {(row.id, "elm3-jsonld"): document}
    assert moodle.filenames[(row.id, "elm3-jsonld")] == f"credential-{row.id.rsplit(':', 1)[1]}.json"
    assert base64.b64decode(store["content"]) == document
    assert moodle.statuses[(pilot_learner()["id"], 1)][1] == "delivered"


def _issuance(ctx, course: int = 1) -> dict:
    """The course's inbox row: its status and, when parked, why (the problems Moodle is shown)."""
    import json

    from bridge.registry.models import Issuance

    with ctx.registry.reading() as session:
        row = session.query(Issuance).filter(Issuance.course_id == course).one()
        return {"status": row.status, "problems": json.loads(row.parked_reason or "[]")}


def test_with_no_configuration_each_course_gets_the_format_its_description_names(sidecar, moodle):
    from bridge.settings import Settings

    assert Settings.from_env({}).formats == ("edc-xml", "elm3-jsonld", "ob3-vcjwt")  # all can be issued; EDC XML the default
    app = sidecar(formats=Settings.from_env({}).formats)
    client, ctx = app.test_client(), app.extensions["edc"]
    elm3 = pilot_spec()
    elm3["format"] = "elm3-jsonld"
    assert put_spec(client, 1, elm3).json == {"site": "demo", "course": 1, "valid": True, "problems": [],
                                              "resumed": 0}
    assert put_spec(client, 2, pilot_spec("cyber201")).json["valid"] is True  # names none: the site default
    post_event(client, make_event(1))
    post_event(client, make_event(2))
    assert worker.drain(ctx) == 2
    assert {(row.course_id, row.format) for row, _ in _stored(ctx)} == {(1, "elm3-jsonld"), (2, "edc-xml")}
    assert {key[1] for key in moodle.files} == {"elm3-jsonld", "edc-xml"}


def test_a_site_that_restricts_formats_refuses_a_description_naming_another(sidecar):
    app = sidecar(formats=("edc-xml",))
    client, ctx = app.test_client(), app.extensions["edc"]
    spec = pilot_spec()
    spec["format"] = "elm3-jsonld"
    answer = put_spec(client, 1, spec).json
    assert answer["valid"] is False
    assert [p["pointer"] for p in answer["problems"]] == ["/format"]
    assert "does not issue elm3-jsonld" in answer["problems"][0]["message"]
    assert "choose one of edc-xml" in answer["problems"][0]["message"]
    post_event(client, make_event(1))
    assert worker.drain(ctx) == 0 and _stored(ctx) == []
    parked = _issuance(ctx)
    assert parked["status"] == "parked"
    assert [p["pointer"] for p in parked["problems"]] == ["/format"]


def test_a_format_the_site_stopped_issuing_parks_the_issuance_never_another_format(sidecar, moodle):
    spec = pilot_spec()
    spec["format"] = "elm3-jsonld"
    before = sidecar(formats=("edc-xml", "elm3-jsonld"))
    assert put_spec(before.test_client(), 1, spec).json["valid"] is True
    after = sidecar(formats=("edc-xml",))  # the operator narrowed EDC_FORMATS; the description still names ELM v3
    client, ctx = after.test_client(), after.extensions["edc"]
    post_event(client, make_event(1))
    assert worker.drain(ctx) == 0 and _stored(ctx) == [] and moodle.files == {}
    parked = _issuance(ctx)
    assert parked["status"] == "parked" and "does not issue elm3-jsonld" in parked["problems"][0]["message"]


def test_a_course_may_ask_for_both_one_mail_carries_both_and_moodle_stores_both(settings, moodle):
    from tests.delivery.sinks import MailSink

    mail = MailSink().start()
    app = create_app(dataclasses.replace(settings, smtp_url=mail.url, moodle_url=moodle.url, moodle_token=moodle.token))
    try:
        client, ctx = app.test_client(), app.extensions["edc"]
        spec = pilot_spec()
        spec["format"] = ["edc-xml", "elm3-jsonld"]
        assert put_spec(client, 1, spec).json["valid"] is True
        post_event(client, make_event())
        assert worker.drain(ctx) == 1
        ((row, main),) = _stored(ctx)
        with ctx.registry.reading() as session:
            (other,) = documents.alternates(session, ctx.registry.dictionaries, row)
        assert row.format == "edc-xml" and other[0] == "elm3-jsonld"
        mail.wait_for(1)
        ((_, message),) = mail.messages
        attached = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
        short = row.id.rsplit(":", 1)[1]
        assert attached == {f"credential-{short}.xml": main, f"credential-{short}.json": other[1]}
        assert moodle.files == {(row.id, "edc-xml"): main, (row.id, "elm3-jsonld"): other[1]}
        for data, media in ((main, "application/xml"), (other[1], "application/ld+json")):
            verdict = client.post("/api/v1/verify", data=data, content_type=media).json
            assert verdict["valid"] is True and verdict["credential_id"] == row.id, verdict["problems"]
            assert verdict["registry"]["sha256_matches"] is True  # each is a file the registry holds
    finally:
        mail.stop()
        stop_app(app)
        app.extensions["edc"].registry.dispose()
