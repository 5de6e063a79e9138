"""Open Badges 3.0 as the third format of the table (issue 17): a course that names `ob3-vcjwt` gets its badge
sealed on the token, stored, mailed as an attachment, stored in Moodle under its true format and file name,
served by the staff API with its media type, and verified by `edc-bridge verify` and `/api/v1/verify`.
"""
from __future__ import annotations

import base64
import dataclasses
import json
import subprocess
import sys

import pytest

from bridge import worker
from bridge.app import create_app, stop_app
from bridge.delivery.email import EmailChannel, parse_smtp_url
from bridge.edc import formats, ob3
from bridge.registry import documents
from bridge.registry.models import Credential
from tests.delivery.conftest import mail_sink  # noqa: F401 - the loopback SMTP server fixture, shared
from tests.delivery.sinks import FakeMoodle
from tests.sidecar.conftest import REPO, STAFF_HEADERS, make_event, pilot_learner, pilot_spec, post_event, put_spec

MAIL_FROM = "credentials@edc.example.test"


@pytest.fixture
def moodle():
    fake = FakeMoodle(users={pilot_learner()["id"]}, courses={1}).start()
    yield fake
    fake.stop()


@pytest.fixture
def badge_app(settings, moodle, mail_sink):
    from bridge.delivery.moodle import MoodleChannel

    channels = {"email": EmailChannel(parse_smtp_url(mail_sink.url), MAIL_FROM, timeout=5),
                "moodle": MoodleChannel(moodle.url, moodle.token)}
    app = create_app(dataclasses.replace(settings, moodle_url=moodle.url, moodle_token=moodle.token,
                                         mail_from=MAIL_FROM, formats=formats.names()), channels=channels)
    yield app
    stop_app(app)
    app.extensions["edc"].registry.dispose()


def test_a_course_that_names_open_badges_gets_a_sealed_badge_everywhere(badge_app, moodle, mail_sink, ec_token,
                                                                        tmp_path):
    client, ctx = badge_app.test_client(), badge_app.extensions["edc"]
    spec = dict(pilot_spec(), format="ob3-vcjwt")
    assert put_spec(client, 1, spec).json["valid"] is True
    assert post_event(client, make_event()).status_code == 202
    assert worker.drain(ctx) == 1
    with ctx.registry.reading() as session:
        row = session.query(Credential).one()
        document = documents.read_document(session, ctx.registry.dictionaries, row)
        assert row.format == "ob3-vcjwt" and row.size == len(document)
    assert formats.detect(document) is formats.get("ob3-vcjwt")
    assert ob3.parse(document)[1]["id"] == row.id

    served = client.get(f"/api/v1/credentials/{row.id}.xml", headers=STAFF_HEADERS)
    assert served.mimetype == "application/vc+jwt" and served.data == document
    name = f"credential-{row.id.rsplit(':', 1)[1]}.jwt"
    assert name in served.headers["Content-Disposition"]

    assert moodle.files == {(row.id, "ob3-vcjwt"): document} and moodle.filenames[(row.id, "ob3-vcjwt")] == name
    mail_sink.wait_for(1)
    (_, message), = mail_sink.messages
    (attachment,) = [part for part in message.iter_attachments() if part.get_filename() == name]
    assert attachment.get_content_type() == "application/vc+jwt" and attachment.get_payload(decode=True) == document

    checked = client.post("/api/v1/verify", data=document, content_type="application/vc+jwt").json
    assert checked["valid"] is True and checked["format"] == "ob3-vcjwt" and checked["learner"] == "Ona Jonaitė"
    path = tmp_path / name
    path.write_bytes(document)
    cli = subprocess.run([sys.executable, "-m", "bridge.cli", "verify", str(path), "--json", "--trust-anchors",
                          str(ec_token.ca_cert_path)], capture_output=True, text=True, cwd=REPO, timeout=120)
    verdict = json.loads(cli.stdout)
    assert cli.returncode == 0 and verdict["valid"] is True and verdict["format"] == "ob3-vcjwt", cli.stderr


def test_a_badge_is_stored_compactly_and_its_dictionary_holds_no_person(ec_token):
    from hsm.signer import open_seal
    import zstandard

    from bridge.edc import model
    from bridge.worker.issuing import PLACEHOLDER_LEARNER

    fmt = formats.get("ob3-vcjwt")
    spec = model.load_course_spec(pilot_spec())
    credential = model.Credential(spec, model.load_learner(pilot_learner()), model.Issuance.new())
    sealed = fmt.issue(credential, open_seal(ec_token.config), checks=formats.Checks())
    seed = fmt.dictionary_seed(model.Credential(spec, PLACEHOLDER_LEARNER, credential.issuance), sealed)
    assert b"Jonait" not in seed and pilot_learner()["email"].encode() not in seed
    assert base64.urlsafe_b64encode("Jonaitė".encode()).rstrip(b"=") not in seed
    plain = len(zstandard.ZstdCompressor(level=3).compress(sealed))
    seeded = len(zstandard.ZstdCompressor(level=3, dict_data=zstandard.ZstdCompressionDict(
        seed, dict_type=zstandard.DICT_TYPE_RAWCONTENT)).compress(sealed))
    assert seeded < plain, (seeded, plain)
    assert fmt.summarise(sealed)["learner"] == "Ona Jonaitė"
    assert fmt.raise_level(sealed, None) == sealed  # no place for a time-stamp: it stays B-B
    with pytest.raises(ValueError):
        fmt.read(b"eyJhbGciOiJub25lIn0.e30.AA")
