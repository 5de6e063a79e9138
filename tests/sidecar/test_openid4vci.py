"""The OpenID4VCI 1.0 issuer (issue 17): offers, token, nonce and credential endpoints, refusals, audit.

Real parts only: the SoftHSM token signs, a loopback SMTP server receives the transaction codes, the
registry is SQLite and PostgreSQL. The wallet's side is played here by a few lines of JOSE with a
software key (the holder's key is the wallet's, never the HSM's); tests/sidecar/test_wallet_node.py
runs the independent Node wallet against a served sidecar.
"""
from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import re
import time

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from sqlalchemy import select, update

from bridge import worker
from bridge.app import create_app, stop_app
from bridge.delivery.email import EmailChannel, parse_smtp_url
from bridge.edc import jws, ob3, oid4vci, sd_jwt_vc
from bridge.registry.models import AuditEntry, Credential
from bridge.registry.wallet import WalletOffer
from tests.delivery.conftest import mail_sink  # noqa: F401 - the loopback SMTP server fixture, shared
from tests.sidecar.conftest import (KEY_ID, STAFF_HEADERS, RecordingChannel, make_event, pilot_learner, pilot_spec,
                                    post_event, put_spec, signed)

MAIL_FROM = "credentials@edc.example.test"
ISSUER = "https://edc.example.test"
TX_CODE = re.compile(r"^\s*(\d{6})\s*$", re.M)


@pytest.fixture
def wallet_app(settings, mail_sink):
    channels = {"email": EmailChannel(parse_smtp_url(mail_sink.url), MAIL_FROM, timeout=5),
                "moodle": RecordingChannel("moodle")}
    app = create_app(dataclasses.replace(settings, mail_from=MAIL_FROM, wallet_tx_code_limit="1000/minute"),
                     channels=channels)
    yield app
    stop_app(app)
    app.extensions["edc"].registry.dispose()


@pytest.fixture
def client(wallet_app):
    return wallet_app.test_client()


@pytest.fixture
def ctx(wallet_app):
    return wallet_app.extensions["edc"]


@pytest.fixture
def cid(client, ctx) -> str:
    put_spec(client, 1, pilot_spec())
    assert post_event(client, make_event()).status_code == 202
    assert worker.drain(ctx) == 1
    return client.get("/api/v1/credentials", headers=STAFF_HEADERS).json["items"][0]["id"]


# --- the wallet's side, by hand ----------------------------------------------------------------------


class Holder:
    """A wallet's key pair (software, as a phone's would be) and the key proofs it signs."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.jwk = jws.jwk_of(self.key.public_key())

    def sign(self, header: dict, payload: dict) -> str:
        head = jws.b64url(json.dumps(header).encode())
        body = jws.b64url(json.dumps(payload).encode())
        r, s = decode_dss_signature(self.key.sign(f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256())))
        return f"{head}.{body}.{jws.b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def proof(self, nonce: str, *, aud: str = ISSUER, iat: float | None = None, typ: str = oid4vci.PROOF_TYP) -> str:
        return self.sign({"typ": typ, "alg": "ES256", "jwk": self.jwk},
                         {"aud": aud, "iat": int(iat or time.time()), "nonce": nonce})


def tx_code_from(mail_sink, before: int) -> str:
    mail_sink.wait_for(before + 1)
    (_, message), = mail_sink.messages[before:]
    return TX_CODE.search(message.get_body(("plain",)).get_content()).group(1)


def offer(client, cid: str, mail_sink, **body) -> tuple[dict, str | None]:
    """A staff offer; returns the answer and the transaction code the learner was mailed (channel moodle)."""
    before = len(mail_sink.messages)
    answer = client.post(f"/api/v1/credentials/{cid}/wallet-offer", json=body, headers=STAFF_HEADERS)
    assert answer.status_code == 201, answer.json
    code = tx_code_from(mail_sink, before) if body.get("channel", "moodle") == "moodle" else None
    return answer.json, code


def pre_code(answer: dict) -> str:
    return answer["credential_offer"]["grants"][oid4vci.PRE_AUTHORIZED_GRANT]["pre-authorized_code"]


def token(client, code: str, tx_code: str | None):
    form = {"grant_type": oid4vci.PRE_AUTHORIZED_GRANT, "pre-authorized_code": code}
    if tx_code is not None:
        form["tx_code"] = tx_code
    return client.post("/oid4vci/token", data=form)


def nonce(client) -> str:
    return client.post("/oid4vci/nonce").json["c_nonce"]


def credential(client, access: str, proof: str, configuration: str = oid4vci.SD_JWT_CONFIGURATION):
    return client.post("/oid4vci/credential", json={"credential_configuration_id": configuration,
                                                    "proofs": {"jwt": [proof]}},
                       headers={"Authorization": f"Bearer {access}"})


def audit(ctx, prefix: str = "wallet.") -> list[AuditEntry]:
    with ctx.registry.reading() as db:
        return list(db.execute(select(AuditEntry).where(AuditEntry.action.startswith(prefix))
                               .order_by(AuditEntry.seq)).scalars())


def actions(ctx) -> list[str]:
    return [entry.action for entry in audit(ctx)]


# --- the whole flow --------------------------------------------------------------------------------


def test_metadata_names_the_endpoints_and_both_configurations(client):
    meta = client.get("/.well-known/openid-credential-issuer").json
    assert meta["credential_issuer"] == ISSUER
    assert meta["credential_endpoint"] == f"{ISSUER}/oid4vci/credential"
    assert meta["nonce_endpoint"] == f"{ISSUER}/oid4vci/nonce"
    sd = meta["credential_configurations_supported"][oid4vci.SD_JWT_CONFIGURATION]
    assert (sd["format"], sd["vct"], sd["credential_signing_alg_values_supported"]) == (
        "dc+sd-jwt", sd_jwt_vc.VCT, ["ES256"])  # the ec_token's seal signs ES256
    assert "jwt" in sd["proof_types_supported"]
    assert meta["credential_configurations_supported"][oid4vci.OB3_CONFIGURATION]["format"] == "jwt_vc_json"
    auth = client.get("/.well-known/oauth-authorization-server").json
    assert auth["token_endpoint"] == f"{ISSUER}/oid4vci/token"
    assert oid4vci.PRE_AUTHORIZED_GRANT in auth["grant_types_supported"]


def test_offer_token_nonce_credential_gives_a_sealed_sd_jwt_vc_bound_to_the_holder(client, ctx, cid, mail_sink,
                                                                                   ec_token):
    answer, tx_code = offer(client, cid, mail_sink)
    assert set(answer) >= {"credential_offer_uri", "credential_offer", "tx_code_length", "expires_at"}
    assert answer["tx_code_length"] == 6 and "tx_code" not in answer  # the code went by mail only
    assert answer["credential_offer_uri"].startswith("openid-credential-offer://?credential_offer_uri=")
    assert answer["qr_svg"].startswith("<svg")
    by_reference = answer["credential_offer_uri"].split("=", 1)[1].replace("%3A", ":").replace("%2F", "/")
    fetched = client.get(by_reference.removeprefix(ISSUER))
    assert fetched.status_code == 200 and fetched.json == answer["credential_offer"]
    assert fetched.headers["Cache-Control"] == "no-store"

    granted = token(client, pre_code(answer), tx_code)
    assert granted.status_code == 200, granted.json
    holder = Holder()
    issued = credential(client, granted.json["access_token"], holder.proof(nonce(client)))
    assert issued.status_code == 200, issued.json
    text = issued.json["credentials"][0]["credential"]

    report = sd_jwt_vc.verify_sd_jwt_vc(text, trust_anchors=[ec_token.ca_cert])
    assert report.valid, report.problems
    assert (report.credential_id, report.learner, report.title, report.ects, report.eqf_level) == (
        cid, "Ona Jonaitė", "Data Literacy for Everyone", 3.0, 5)
    header = jws.CompactJws.parse(text.split("~")[0]).header
    assert header["typ"] == "dc+sd-jwt" and header["alg"] == "ES256"
    assert base64.b64decode(header["x5c"][0]) == ec_token.seal_certificate.public_bytes(
        __import__("cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.DER)
    claims = json.loads(jws.b64url_decode(text.split("~")[0].split(".")[1], "payload"))
    assert claims["cnf"] == {"jwk": holder.jwk}
    assert "family_name" not in claims and "given_name" not in claims  # the personal claims are disclosures
    assert actions(ctx) == ["wallet.offer_created", "wallet.offer_fetched", "wallet.token_issued",
                            "wallet.credential_issued"]


def test_the_python_sd_jwt_reference_implementation_verifies_the_same_credential(client, cid, mail_sink, ec_token):
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    from jwcrypto.jwk import JWK
    from sd_jwt.verifier import SDJWTVerifier

    answer, tx_code = offer(client, cid, mail_sink)
    access = token(client, pre_code(answer), tx_code).json["access_token"]
    text = credential(client, access, Holder().proof(nonce(client))).json["credentials"][0]["credential"]

    def issuer_key(issuer, header):
        assert issuer == ISSUER
        leaf = jws.seal_certificates(jws.CompactJws.parse(text.split("~")[0]))[0]
        assert leaf == ec_token.seal_certificate  # the key the reference checks with is our seal's
        return JWK.from_pem(leaf.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))

    claims = SDJWTVerifier(text, issuer_key).get_verified_payload()
    assert claims["vct"] == sd_jwt_vc.VCT
    assert (claims["given_name"], claims["family_name"]) == ("Ona", "Jonaitė")
    assert claims["level_of_learning_experience"] == 5 and claims["credential_id"] == cid


def test_the_open_badge_configuration_gives_an_ob3_vc_jwt_whose_subject_is_the_holder(client, ctx, cid, mail_sink,
                                                                                     ec_token):
    answer, tx_code = offer(client, cid, mail_sink, configuration=oid4vci.OB3_CONFIGURATION)
    assert answer["credential_offer"]["credential_configuration_ids"] == [oid4vci.OB3_CONFIGURATION]
    access = token(client, pre_code(answer), tx_code).json["access_token"]
    holder = Holder()
    wrong = credential(client, access, holder.proof(nonce(client)))  # asks for the SD-JWT VC instead
    assert wrong.status_code == 400 and wrong.json["error"] == "unknown_credential_configuration"
    issued = credential(client, access, holder.proof(nonce(client)), oid4vci.OB3_CONFIGURATION)
    assert issued.status_code == 200, issued.json
    badge = issued.json["credentials"][0]["credential"].encode()
    report = ob3.verify_ob3(badge, trust_anchors=[ec_token.ca_cert])
    assert report.valid, report.problems
    doc = ob3.parse(badge)[1]
    assert doc["credentialSubject"]["id"] == ob3.did_jwk(holder.jwk) == doc["sub"]


# --- refusals --------------------------------------------------------------------------------------


def test_a_replayed_pre_authorised_code_is_refused_and_audited(client, ctx, cid, mail_sink):
    answer, tx_code = offer(client, cid, mail_sink)
    assert token(client, pre_code(answer), tx_code).status_code == 200
    again = token(client, pre_code(answer), tx_code)
    assert again.status_code == 400 and again.json["error"] == "invalid_grant"
    assert "already used" in again.json["error_description"]
    assert again.json["problems"][0]["pointer"] == "pre-authorized_code"
    refused = [json.loads(e.details) for e in audit(ctx) if e.action == "wallet.refused"]
    assert refused[-1]["reason"] == "replayed pre-authorised code"
    # the offer behind the code is gone too
    uri = answer["credential_offer_uri"].split("=", 1)[1].replace("%3A", ":").replace("%2F", "/")
    assert client.get(uri.removeprefix(ISSUER)).status_code == 404


def test_a_wrong_transaction_code_is_refused_and_the_offer_locks_after_the_set_number(client, ctx, cid, mail_sink):
    answer, tx_code = offer(client, cid, mail_sink)
    wrong = f"{(int(tx_code) + 1) % 10 ** 6:06d}"
    for n in range(ctx.settings.wallet_tx_code_attempts):
        refused = token(client, pre_code(answer), wrong)
        assert refused.status_code == 400 and refused.json["error"] == "invalid_grant"
        assert refused.json["problems"][0]["pointer"] == "tx_code"
    late = token(client, pre_code(answer), tx_code)  # the right code, too late: the offer is locked
    assert late.status_code == 400 and "locked" in late.json["error_description"]
    assert actions(ctx).count("wallet.tx_code_wrong") == 3 and "wallet.offer_locked" in actions(ctx)
    missing = token(client, pre_code(offer(client, cid, mail_sink)[0]), None)
    assert missing.status_code == 400 and missing.json["error"] == "invalid_request"


def test_wrong_transaction_codes_are_also_limited_per_client_address(settings, mail_sink, ec_token):
    channels = {"email": EmailChannel(parse_smtp_url(mail_sink.url), MAIL_FROM, timeout=5)}
    app = create_app(dataclasses.replace(settings, wallet_tx_code_limit="2/15minutes"), channels=channels)
    try:
        client, ctx = app.test_client(), app.extensions["edc"]
        put_spec(client, 1, pilot_spec())
        post_event(client, make_event())
        worker.drain(ctx)
        cid = client.get("/api/v1/credentials", headers=STAFF_HEADERS).json["items"][0]["id"]
        answers = [offer(client, cid, mail_sink) for _ in range(2)]
        for answer, code in answers:  # one wrong code on each of two offers: the address's budget is spent
            assert token(client, pre_code(answer), "000000" if code != "000000" else "111111").status_code == 400
        throttled = token(client, pre_code(answers[0][0]), answers[0][1])
        assert throttled.status_code == 429 and throttled.json["error"] == "slow_down"
    finally:
        stop_app(app)
        app.extensions["edc"].registry.dispose()


def test_a_proof_with_another_nonce_or_audience_or_a_used_nonce_is_refused(client, ctx, cid, mail_sink):
    answer, tx_code = offer(client, cid, mail_sink)
    access = token(client, pre_code(answer), tx_code).json["access_token"]
    holder = Holder()
    invented = credential(client, access, holder.proof("a-nonce-we-never-gave"))
    assert invented.status_code == 400 and invented.json["error"] == "invalid_nonce"
    assert invented.json["problems"][0]["pointer"] == "/proofs/jwt/0"
    elsewhere = credential(client, access, holder.proof(nonce(client), aud="https://other-issuer.example"))
    assert elsewhere.status_code == 400 and elsewhere.json["error"] == "invalid_proof"
    assert "not for this issuer" in elsewhere.json["error_description"]
    stale = credential(client, access, holder.proof(nonce(client), iat=time.time() - 3600))
    assert stale.status_code == 400 and stale.json["error"] == "invalid_proof"
    untyped = credential(client, access, holder.proof(nonce(client), typ="JWT"))
    assert untyped.status_code == 400 and untyped.json["error"] == "invalid_proof"
    used = nonce(client)
    assert credential(client, access, holder.proof(used)).status_code == 200
    answer2, tx_code2 = offer(client, cid, mail_sink)
    access2 = token(client, pre_code(answer2), tx_code2).json["access_token"]
    replayed = credential(client, access2, holder.proof(used))  # the nonce was spent by the first credential
    assert replayed.status_code == 400 and replayed.json["error"] == "invalid_nonce"
    assert credential(client, access, holder.proof(nonce(client))).json["error"] == "invalid_token"  # token spent
    reasons = [json.loads(e.details)["reason"] for e in audit(ctx) if e.action == "wallet.refused"]
    assert any("not for this issuer" in r for r in reasons) and any("nonce" in r for r in reasons)


def test_a_proof_signed_by_another_key_than_it_carries_is_refused(client, cid, mail_sink):
    answer, tx_code = offer(client, cid, mail_sink)
    access = token(client, pre_code(answer), tx_code).json["access_token"]
    holder, thief = Holder(), Holder()
    forged = thief.sign({"typ": oid4vci.PROOF_TYP, "alg": "ES256", "jwk": holder.jwk},
                        {"aud": ISSUER, "iat": int(time.time()), "nonce": nonce(client)})
    refused = credential(client, access, forged)
    assert refused.status_code == 400 and refused.json["error"] == "invalid_proof"


def test_an_expired_offer_is_refused_at_the_offer_uri_and_the_token_endpoint(client, ctx, cid, mail_sink):
    answer, tx_code = offer(client, cid, mail_sink)
    with ctx.registry.transaction() as db:  # the offer's lifetime runs out
        db.execute(update(WalletOffer).values(expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
    uri = answer["credential_offer_uri"].split("=", 1)[1].replace("%3A", ":").replace("%2F", "/")
    assert client.get(uri.removeprefix(ISSUER)).status_code == 404
    expired = token(client, pre_code(answer), tx_code)
    assert expired.status_code == 400 and "expired" in expired.json["error_description"]
    assert [json.loads(e.details)["reason"] for e in audit(ctx) if e.action == "wallet.refused"][-1] == "offer expired"


def test_a_revoked_credential_cannot_be_offered_nor_redeemed(client, ctx, cid, mail_sink):
    answer, tx_code = offer(client, cid, mail_sink)
    assert client.post(f"/api/v1/credentials/{cid}/revoke", json={"reason": "wrong course"},
                       headers=STAFF_HEADERS).status_code == 200
    refused = client.post(f"/api/v1/credentials/{cid}/wallet-offer", json={}, headers=STAFF_HEADERS)
    assert refused.status_code == 409 and "revoked" in refused.json["error"]
    late = token(client, pre_code(answer), tx_code)
    assert late.status_code == 400 and "revoked" in late.json["error_description"]
    with ctx.registry.reading() as db:
        assert db.execute(select(WalletOffer)).scalars().one().state == "open"  # only the first offer exists


def test_a_credential_revoked_after_the_token_is_not_handed_out(client, ctx, cid, mail_sink):
    answer, tx_code = offer(client, cid, mail_sink)
    access = token(client, pre_code(answer), tx_code).json["access_token"]
    client.post(f"/api/v1/credentials/{cid}/revoke", json={"reason": "wrong course"}, headers=STAFF_HEADERS)
    refused = credential(client, access, Holder().proof(nonce(client)))
    assert refused.status_code == 400 and refused.json["error"] == "credential_request_denied"


def test_bad_requests_name_the_field(client, cid, mail_sink):
    bad = client.post(f"/api/v1/credentials/{cid}/wallet-offer", json={"channel": "sms", "configuration": "x"},
                      headers=STAFF_HEADERS)
    assert bad.status_code == 400 and {p["pointer"] for p in bad.json["problems"]} == {"/channel", "/configuration"}
    assert client.post("/api/v1/credentials/nope/wallet-offer", json={}, headers=STAFF_HEADERS).status_code == 404
    assert client.post(f"/api/v1/credentials/{cid}/wallet-offer", json={}).status_code == 401
    grant = client.post("/oid4vci/token", data={"grant_type": "authorization_code"})
    assert grant.status_code == 400 and grant.json["error"] == "unsupported_grant_type"
    assert token(client, "made-up", "123456").json["error"] == "invalid_grant"
    no_token = client.post("/oid4vci/credential", json={})
    assert no_token.status_code == 401 and no_token.headers["WWW-Authenticate"].startswith("Bearer")
    answer, tx_code = offer(client, cid, mail_sink)
    access = token(client, pre_code(answer), tx_code).json["access_token"]
    for body, pointer in (({"credential_configuration_id": oid4vci.SD_JWT_CONFIGURATION}, "/proofs"),
                          ({"credential_configuration_id": oid4vci.SD_JWT_CONFIGURATION,
                            "proofs": {"jwt": ["a", "b"]}}, "/proofs/jwt"),
                          ({"credential_configuration_id": oid4vci.SD_JWT_CONFIGURATION,
                            "proofs": {"jwt": ["not a jwt"]}}, "/proofs/jwt/0")):
        refused = client.post("/oid4vci/credential", json=body, headers={"Authorization": f"Bearer {access}"})
        assert refused.status_code == 400 and refused.json["problems"][0]["pointer"] == pointer, refused.json


# --- the two channels, and Moodle's own call -------------------------------------------------------


def test_an_offer_by_mail_puts_the_code_in_the_answer_and_the_offer_in_the_mail(client, ctx, cid, mail_sink):
    before = len(mail_sink.messages)
    answer = client.post(f"/api/v1/credentials/{cid}/wallet-offer", json={"channel": "email"},
                         headers=STAFF_HEADERS).json
    assert "credential_offer" not in answer and "credential_offer_uri" not in answer
    assert re.fullmatch(r"\d{6}", answer["tx_code"])
    mail_sink.wait_for(before + 1)
    (rcpt, message), = mail_sink.messages[before:]
    assert rcpt == [pilot_learner()["email"]]
    body = message.get_body(("plain",)).get_content()
    link = re.search(r"openid-credential-offer://\?credential_offer_uri=(\S+)", body).group(1)
    assert answer["tx_code"] not in body
    (qr,) = [part for part in message.iter_attachments() if part.get_content_type() == "image/png"]
    import io

    import zxingcpp
    from PIL import Image

    (scanned,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.get_payload(decode=True))))
    assert scanned.text == f"openid-credential-offer://?credential_offer_uri={link}"  # the QR code is the link
    uri = link.replace("%3A", ":").replace("%2F", "/")
    code = client.get(uri.removeprefix(ISSUER)).json["grants"][oid4vci.PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
    assert token(client, code, answer["tx_code"]).status_code == 200


def test_the_learner_mail_is_in_their_language(client, ctx, mail_sink):
    put_spec(client, 1, pilot_spec())
    post_event(client, make_event(learner=dict(pilot_learner(), lang="lt")))
    worker.drain(ctx)
    cid = client.get("/api/v1/credentials", headers=STAFF_HEADERS).json["items"][0]["id"]
    before = len(mail_sink.messages)
    offer(client, cid, mail_sink)
    (_, message), = mail_sink.messages[before:]
    assert message["Subject"].startswith("Jūsų piniginės kodas")


def test_moodle_may_ask_only_for_the_learners_own_credential(client, ctx, cid, mail_sink):
    path = f"/api/v1/credentials/{cid}/wallet-offer"
    learner = pilot_learner()

    def moodle(body: dict):
        raw = json.dumps(body).encode()
        return client.post(path, data=raw, headers=signed("POST", path, raw))

    other = moodle({"site": "demo", "learner": "999"})
    assert other.status_code == 404
    nameless = moodle({"site": "demo"})
    assert nameless.status_code == 400 and nameless.json["problems"][0]["pointer"] == "/learner"
    own = moodle({"site": "demo", "learner": learner["id"]})
    assert own.status_code == 201 and "credential_offer" in own.json
    entry = [e for e in audit(ctx) if e.action == "wallet.offer_created"][-1]
    assert entry.actor == f"moodle:{KEY_ID}"


def test_an_offer_whose_mail_is_not_accepted_is_withdrawn(client, ctx, cid, mail_sink):
    mail_sink.stop()
    refused = client.post(f"/api/v1/credentials/{cid}/wallet-offer", json={}, headers=STAFF_HEADERS)
    assert refused.status_code == 503 and refused.json["problems"][0]["pointer"] == "/channel"
    with ctx.registry.reading() as db:
        assert db.execute(select(WalletOffer.state)).scalars().all() == ["locked"]
    assert "wallet.offer_withdrawn" in actions(ctx)


def test_no_secret_of_the_flow_is_stored_or_audited(client, ctx, cid, mail_sink):
    answer, tx_code = offer(client, cid, mail_sink)
    access = token(client, pre_code(answer), tx_code).json["access_token"]
    token_part = answer["credential_offer_uri"].rsplit("%2F", 1)[1]
    with ctx.registry.reading() as db:
        row = db.execute(select(WalletOffer)).scalars().one()
        stored = json.dumps({c.name: str(getattr(row, c.name)) for c in WalletOffer.__table__.columns})
        trail = " ".join(e.details for e in audit(ctx))
    for secret in (pre_code(answer), tx_code, access, token_part):
        assert secret not in stored and secret not in trail


def test_the_migration_creates_the_tables_the_models_describe(ctx):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bridge.registry.models import Base

    with ctx.registry.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in differences if "wallet_" in repr(d)] == []


def test_the_sealed_credential_and_the_record_must_agree(client, ctx, cid, mail_sink):
    changed = pilot_spec()
    changed["title"]["en"] = "A title the sealed credential does not carry"
    put_spec(client, 1, changed)
    refused = client.post(f"/api/v1/credentials/{cid}/wallet-offer", json={}, headers=STAFF_HEADERS)
    assert refused.status_code == 409 and "title" in refused.json["error"] and "Re-issue" in refused.json["error"]
    with ctx.registry.reading() as db:
        assert db.execute(select(WalletOffer)).first() is None
        assert db.get(Credential, cid).status == "issued"


def test_answers_match_the_openapi_document(client, cid, mail_sink):
    from tests.sidecar.test_openapi import Checked

    check = Checked()
    check("/.well-known/openid-credential-issuer", "get", client.get("/.well-known/openid-credential-issuer"), 200)
    check("/.well-known/oauth-authorization-server", "get", client.get("/.well-known/oauth-authorization-server"), 200)
    path = "/api/v1/credentials/{cred_id}/wallet-offer"
    before = len(mail_sink.messages)
    answer = check(path, "post", client.post(f"/api/v1/credentials/{cid}/wallet-offer", json={},
                                             headers=STAFF_HEADERS), 201).json
    tx_code = tx_code_from(mail_sink, before)
    check(path, "post", client.post(f"/api/v1/credentials/{cid}/wallet-offer", json={"channel": "email"},
                                    headers=STAFF_HEADERS), 201)
    check(path, "post", client.post(f"/api/v1/credentials/{cid}/wallet-offer", json={"channel": 1},
                                    headers=STAFF_HEADERS), 400)
    check(path, "post", client.post("/api/v1/credentials/x/wallet-offer", json={}, headers=STAFF_HEADERS), 404)
    check(path, "post", client.post(f"/api/v1/credentials/{cid}/wallet-offer", json={}), 401)
    uri = answer["credential_offer_uri"].split("=", 1)[1].replace("%3A", ":").replace("%2F", "/").removeprefix(ISSUER)
    check("/oid4vci/offers/{token}", "get", client.get(uri), 200)
    check("/oid4vci/offers/{token}", "get", client.get("/oid4vci/offers/nope"), 404)
    check("/oid4vci/token", "post", token(client, pre_code(answer), "x"), 400)
    access = check("/oid4vci/token", "post", token(client, pre_code(answer), tx_code), 200).json["access_token"]
    value = check("/oid4vci/nonce", "post", client.post("/oid4vci/nonce"), 200).json["c_nonce"]
    check("/oid4vci/credential", "post", client.post("/oid4vci/credential", json={}), 401)
    check("/oid4vci/credential", "post", credential(client, access, Holder().proof("made-up")), 400)
    check("/oid4vci/credential", "post", credential(client, access, Holder().proof(value)), 200)


def test_the_registry_itself_refuses_an_offer_for_a_revoked_credential(client, ctx, cid):
    """The rule holds where the offer is written, even for a caller that skipped the service's own check."""
    from bridge.registry import wallet

    client.post(f"/api/v1/credentials/{cid}/revoke", json={"reason": "wrong course"}, headers=STAFF_HEADERS)
    with pytest.raises(wallet.CredentialNotOfferable, match="never offered") as refused:
        wallet.create_offer(ctx.registry, cid, oid4vci.SD_JWT_CONFIGURATION, "moodle", "staff",
                            lifetime=dt.timedelta(minutes=5), tx_code_length=6)
    assert refused.value.code == "revoked"
    with pytest.raises(wallet.CredentialNotOfferable) as unknown:
        wallet.create_offer(ctx.registry, "urn:credential:nope", oid4vci.SD_JWT_CONFIGURATION, "moodle", "staff",
                            lifetime=dt.timedelta(minutes=5), tx_code_length=6)
    assert unknown.value.code == "not_found"
    with ctx.registry.reading() as db:
        assert db.execute(select(WalletOffer)).first() is None


def test_the_wallet_copy_names_the_status_resource_the_sealed_credential_names(client, cid, mail_sink, monkeypatch):
    """The seam to the ELM v3 status of issue 12: whatever status resource the stored credential's format reads
    from the sealed file (formats.CredentialFormat.status_url) is what the SD-JWT's `status` and the Open Badge's
    `credentialStatus` name; a format with no such field (EDC v1 XML) gets the registry's own status resource."""
    from bridge.edc import formats

    status = "https://edc.example.test/status/6f1c"
    monkeypatch.setattr(type(formats.get("edc-xml")), "status_url", lambda self, data: status)
    answer, tx_code = offer(client, cid, mail_sink)
    access = token(client, pre_code(answer), tx_code).json["access_token"]
    text = credential(client, access, Holder().proof(nonce(client))).json["credentials"][0]["credential"]
    assert json.loads(jws.b64url_decode(text.split("~")[0].split(".")[1], "payload"))["status"] == {
        "edc_status": {"uri": status}}
    answer, tx_code = offer(client, cid, mail_sink, configuration=oid4vci.OB3_CONFIGURATION)
    access = token(client, pre_code(answer), tx_code).json["access_token"]
    badge = credential(client, access, Holder().proof(nonce(client)), oid4vci.OB3_CONFIGURATION).json
    assert ob3.parse(badge["credentials"][0]["credential"])[1]["credentialStatus"]["id"] == status
    monkeypatch.undo()


def test_the_wallet_copy_of_an_edc_xml_credential_names_the_registrys_status_resource(client, ctx, cid, mail_sink):
    """EDC v1 XML has no status field, so its wallet copies name <EDC_PUBLIC_URL>/status/<uuid>, the sealed
    statement the registry answers for every credential it holds: a revocation reaches the wallet's copy."""
    from bridge.edc import status as edc_status

    with ctx.registry.reading() as db:  # the credential is EDC v1 XML, as the pilot course asks
        assert db.get(Credential, cid).format == "edc-xml"
    expected = edc_status.status_url(ctx.settings.public_url, cid)
    answer, tx_code = offer(client, cid, mail_sink)
    access = token(client, pre_code(answer), tx_code).json["access_token"]
    text = credential(client, access, Holder().proof(nonce(client))).json["credentials"][0]["credential"]
    claims = json.loads(jws.b64url_decode(text.split("~")[0].split(".")[1], "payload"))
    assert claims["status"] == {"edc_status": {"uri": expected}}
    answer, tx_code = offer(client, cid, mail_sink, configuration=oid4vci.OB3_CONFIGURATION)
    access = token(client, pre_code(answer), tx_code).json["access_token"]
    badge = credential(client, access, Holder().proof(nonce(client)), oid4vci.OB3_CONFIGURATION).json
    assert ob3.parse(badge["credentials"][0]["credential"])[1]["credentialStatus"]["id"] == expected
    path = expected.removeprefix(ctx.settings.public_url)

    def said() -> str:
        answer = client.get(path)
        assert answer.status_code == 200
        statement, problem = edc_status.judge(answer.data, cid, trust_anchors=ctx.trust_anchors, sealer=None,
                                              now=dt.datetime.now(dt.timezone.utc))
        assert problem is None, problem
        return statement["status"]

    assert said() == "active"
    assert client.post(f"/api/v1/credentials/{cid}/revoke", json={"reason": "issued in error"},
                       headers=STAFF_HEADERS).status_code == 200
    assert said() == "revoked"
