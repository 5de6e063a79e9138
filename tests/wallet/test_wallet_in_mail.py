"""The credential's own mail carries "Add to wallet" (EDC_WALLET_IN_MAIL); its transaction code is shown in Moodle.

Real parts: the sidecar served on loopback, a real SMTP server (tests/delivery/sinks.py) receiving the
credential mail, the independent Node wallet (tests/wallet/wallet.mjs) redeeming the link read from that
mail, with the code Moodle's signed call `POST /api/v1/credentials/{id}/wallet-code` answers (what My
credentials shows the logged-in learner). The Moodle delivery channel is a recording one: the plugin's side
runs in tests/e2e against a real Moodle.
"""
from __future__ import annotations

import dataclasses
import io
import json
import re

import pytest
from sqlalchemy import select

from bridge import worker
from bridge.app import create_app, stop_app
from bridge.delivery.email import EmailChannel, parse_smtp_url
from bridge.edc import oid4vci, sd_jwt_vc
from bridge.registry import wallet
from bridge.registry.models import AuditEntry, Delivery
from bridge.registry.wallet import WalletOffer
from tests.delivery.conftest import mail_sink  # noqa: F401 - the loopback SMTP server fixture, shared
from tests.delivery.sinks import free_port
from tests.loopback import served_on_loopback
from tests.sidecar.conftest import (STAFF_HEADERS, RecordingChannel, database_url, make_event,  # noqa: F401
                                    pilot_learner, pilot_spec, post_event, put_spec, settings, signed, token_env)
from tests.sidecar.test_wallet_node import _wallet_ready, run_wallet

MAIL_FROM = "credentials@edc.example.test"
LINK = re.compile(r"(openid-credential-offer://\?credential_offer_uri=\S+)")


@pytest.fixture
def served(settings, mail_sink, rsa_token):
    """The sidecar with EDC_WALLET_IN_MAIL on, served on 127.0.0.1 (its public URL is the issuer identifier)."""
    port = free_port()
    config = dataclasses.replace(settings, public_url=f"http://127.0.0.1:{port}", mail_from=MAIL_FROM,
                                 wallet_in_mail=True, token_env=token_env(rsa_token),
                                 trust_anchors=str(rsa_token.ca_cert_path), wallet_tx_code_limit="1000/minute")
    app = create_app(config, channels={"email": EmailChannel(parse_smtp_url(mail_sink.url), MAIL_FROM, timeout=5),
                                       "moodle": RecordingChannel("moodle")})
    with served_on_loopback(app, port):
        yield app


def issue(app, mail_sink, learner: dict | None = None) -> tuple[str, object]:
    """Issue the pilot credential; returns its id and the credential mail the SMTP server received."""
    client, ctx = app.test_client(), app.extensions["edc"]
    put_spec(client, 1, pilot_spec())
    before = len(mail_sink.messages)
    assert post_event(client, make_event(learner=learner)).status_code == 202
    assert worker.drain(ctx) == 1
    mail_sink.wait_for(before + 1)
    (_, message), = mail_sink.messages[before:]
    return client.get("/api/v1/credentials", headers=STAFF_HEADERS).json["items"][0]["id"], message


def moodle_code(app, cid: str, learner=None, site: str = "demo"):
    """What the plugin's "Show wallet code" asks (signed like every Moodle call)."""
    path = f"/api/v1/credentials/{cid}/wallet-code"
    raw = json.dumps({"site": site, "learner": learner or pilot_learner()["id"]}).encode()
    return app.test_client().post(path, data=raw, headers=signed("POST", path, raw))


def mailed_link(message) -> str:
    return LINK.search(message.get_body(("plain",)).get_content()).group(1)


def test_the_node_wallet_takes_the_credential_from_the_mail_with_the_code_moodle_shows(served, mail_sink, rsa_token):
    reason = _wallet_ready()
    if reason:
        pytest.skip(reason)
    cid, message = issue(served, mail_sink, learner=dict(pilot_learner(), lang="en"))
    link = mailed_link(message)
    text = message.get_body(("plain",)).get_content()
    assert "Show wallet code" in text and "My credentials" in text
    assert f'href="{link}"' in message.get_body(("html",)).get_content()
    (qr,) = [p for p in message.iter_attachments() if p.get_filename() == "wallet-offer.png"]
    import zxingcpp
    from PIL import Image

    (scanned,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.get_payload(decode=True))))
    assert scanned.text == link  # the QR code is the link
    assert [p.get_filename() for p in message.iter_attachments()][0].endswith(".xml")  # the credential still first

    shown = moodle_code(served, cid)
    assert shown.status_code == 200, shown.json
    assert shown.headers["Cache-Control"] == "no-store"
    code = shown.json["tx_code"]
    assert re.fullmatch(r"\d{6}", code) and shown.json["channel"] == wallet.MAIL_CHANNEL
    assert code not in text  # the mail never holds the code
    status, result = run_wallet(link, code, rsa_token.ca_cert_path)
    assert status == 0, result
    assert result["claims"]["credential_id"] == cid and result["claims"]["family_name"] == "Jonaitė"
    assert sd_jwt_vc.verify_sd_jwt_vc(result["credential"], trust_anchors=[rsa_token.ca_cert]).valid
    again = moodle_code(served, cid)  # used: nothing is waiting any more
    assert again.status_code == 404 and "Add to wallet" in again.json["error"]
    ctx = served.extensions["edc"]
    with ctx.registry.reading() as db:
        trail = [e.action for e in db.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()
                 if e.action.startswith("wallet.")]
    assert trail == ["wallet.offer_created", "wallet.tx_code_made", "wallet.offer_fetched", "wallet.token_issued",
                     "wallet.credential_issued"]


def test_without_a_code_from_moodle_the_mailed_link_adds_nothing_and_a_new_code_replaces_the_old(served, mail_sink):
    cid, message = issue(served, mail_sink)
    client = served.test_client()
    uri = mailed_link(message).split("=", 1)[1].replace("%3A", ":").replace("%2F", "/")
    offer = client.get(uri.removeprefix(served.extensions["edc"].settings.public_url)).json
    code = offer["grants"][oid4vci.PRE_AUTHORIZED_GRANT]["pre-authorized_code"]

    def token(tx_code: str):
        return client.post("/oid4vci/token", data={"grant_type": oid4vci.PRE_AUTHORIZED_GRANT,
                                                   "pre-authorized_code": code, "tx_code": tx_code})

    early = token("123456")
    assert early.status_code == 400 and "My credentials" in early.json["error_description"]
    first, second = moodle_code(served, cid).json["tx_code"], moodle_code(served, cid).json["tx_code"]
    if first != second:  # one in a million they are equal; the old code is refused only when it differs
        old = token(first)
        assert old.status_code == 400 and old.json["error"] == "invalid_grant"
    assert token(second).status_code == 200


def test_only_the_credentials_learner_on_its_site_gets_the_code(served, mail_sink):
    cid, _ = issue(served, mail_sink)
    assert moodle_code(served, cid, learner="999").status_code == 404
    assert moodle_code(served, cid, site="another").status_code == 404
    path = f"/api/v1/credentials/{cid}/wallet-code"
    unsigned = served.test_client().post(path, json={"site": "demo", "learner": pilot_learner()["id"]})
    assert unsigned.status_code == 401
    staff = served.test_client().post(path, json={"site": "demo", "learner": pilot_learner()["id"]},
                                      headers=STAFF_HEADERS)
    assert staff.status_code == 401  # Moodle shows it to the learner; staff never see it


def test_a_resent_mail_carries_a_new_link_and_the_old_one_stops(served, mail_sink):
    cid, first = issue(served, mail_sink)
    ctx, client = served.extensions["edc"], served.test_client()
    with ctx.registry.reading() as db:
        (delivery_id,) = db.execute(select(Delivery.id).where(Delivery.channel == "email")).scalars().all()
    before = len(mail_sink.messages)
    assert client.post(f"/api/v1/deliveries/{delivery_id}/resend", json={"reason": "the learner lost the mail"},
                       headers=STAFF_HEADERS).status_code == 202
    worker.drain(ctx)
    mail_sink.wait_for(before + 1)
    (_, second), = mail_sink.messages[before:]
    assert mailed_link(second) != mailed_link(first)
    with ctx.registry.reading() as db:
        states = sorted(db.execute(select(WalletOffer.state).where(WalletOffer.credential_id == cid)).scalars())
    assert states == ["locked", "open"]
    old = mailed_link(first).split("=", 1)[1].replace("%3A", ":").replace("%2F", "/")
    assert client.get(old.removeprefix(ctx.settings.public_url)).status_code == 404


def test_the_lithuanian_mail_says_it_in_lithuanian(served, mail_sink):
    assert pilot_learner()["lang"] == "lt"
    _, message = issue(served, mail_sink)
    text = message.get_body(("plain",)).get_content()
    assert "Rodyti piniginės kodą" in text and LINK.search(text)


def test_without_the_setting_the_mail_has_no_wallet_link(settings, mail_sink):
    app = create_app(dataclasses.replace(settings, mail_from=MAIL_FROM),
                     channels={"email": EmailChannel(parse_smtp_url(mail_sink.url), MAIL_FROM, timeout=5),
                               "moodle": RecordingChannel("moodle")})
    try:
        cid, message = issue(app, mail_sink)
        assert not LINK.search(message.get_body(("plain",)).get_content())
        assert "wallet-offer.png" not in [p.get_filename() for p in message.iter_attachments()]
        assert moodle_code(app, cid).status_code == 404
    finally:
        stop_app(app)
        app.extensions["edc"].registry.dispose()
