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
    assert moodle.files == {(row.id, "elm3-jsonld"): document}
    assert moodle.filenames[(row.id, "elm3-jsonld")] == f"credential-{row.id.rsplit(':', 1)[1]}.json"
    assert base64.b64decode(store["content"]) == document
    assert moodle.statuses[(pilot_learner()["id"], 1)][1] == "delivered"
