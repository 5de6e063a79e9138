"""An independent wallet takes the credential: tests/wallet/wallet.mjs (Node 20, @openid4vc/openid4vci 0.4.6 for
the OpenID4VCI 1.0 client side, @sd-jwt/sd-jwt-vc 0.19.0 to verify) against the sidecar served on loopback.

The wallet resolves the offer the learner sees in Moodle, gets a token with the transaction code from the
learner's mail, fetches a nonce, proves its key, receives the SD-JWT VC and verifies it against our TEST CA
(the seal certificate in x5c must be issued by it). `.ci/run` installs the packages (`npm ci`); without
Node or without them the test is skipped, saying how to install them.
"""
from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bridge import worker
from bridge.app import create_app
from bridge.delivery.email import EmailChannel, parse_smtp_url
from bridge.edc import sd_jwt_vc
from tests.delivery.conftest import mail_sink  # noqa: F401 - the loopback SMTP server fixture, shared
from tests.delivery.sinks import free_port
from tests.loopback import served_on_loopback
from tests.sidecar.conftest import STAFF_HEADERS, make_event, pilot_spec, post_event, put_spec
from tests.sidecar.test_openid4vci import tx_code_from

WALLET = Path(__file__).resolve().parents[1] / "wallet"
MAIL_FROM = "credentials@edc.example.test"


def _wallet_ready() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed (Node 20 runs the independent wallet)"
    for package in ("@openid4vc/openid4vci", "@openid4vc/oauth2", "@sd-jwt/sd-jwt-vc"):
        if not (WALLET / "node_modules" / package / "package.json").is_file():
            return f"{package} is not installed: run `npm ci --prefix tests/wallet` (.ci/run does)"
    return None


@pytest.fixture
def served(settings, mail_sink, rsa_token):
    """The sidecar served over HTTP on 127.0.0.1 (its public URL, so the issuer identifier matches)."""
    reason = _wallet_ready()
    if reason:
        pytest.skip(reason)
    from tests.sidecar.conftest import token_env

    port = free_port()
    config = dataclasses.replace(settings, public_url=f"http://127.0.0.1:{port}", mail_from=MAIL_FROM,
                                 token_env=token_env(rsa_token), trust_anchors=str(rsa_token.ca_cert_path))
    app = create_app(config, channels={"email": EmailChannel(parse_smtp_url(mail_sink.url), MAIL_FROM, timeout=5)})
    with served_on_loopback(app, port):
        yield app


def run_wallet(offer: str, tx_code: str, ca_file: Path, *extra: str) -> tuple[int, dict]:
    done = subprocess.run(["node", str(WALLET / "wallet.mjs"), offer, tx_code, str(ca_file), *extra],
                          capture_output=True, text=True, timeout=120, cwd=WALLET)
    try:
        return done.returncode, json.loads(done.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"the wallet printed no JSON: {done.stdout!r} {done.stderr!r}") from None


def _offer(app, mail_sink) -> tuple[dict, str]:
    client, ctx = app.test_client(), app.extensions["edc"]
    put_spec(client, 1, pilot_spec())
    assert post_event(client, make_event()).status_code == 202
    assert worker.drain(ctx) == 1
    cid = client.get("/api/v1/credentials", headers=STAFF_HEADERS).json["items"][0]["id"]
    before = len(mail_sink.messages)
    answer = client.post(f"/api/v1/credentials/{cid}/wallet-offer", json={}, headers=STAFF_HEADERS)
    assert answer.status_code == 201, answer.json
    return dict(answer.json, credential_id=cid), tx_code_from(mail_sink, before)


def test_the_node_wallet_receives_and_verifies_the_sd_jwt_vc(served, mail_sink, rsa_token):
    answer, tx_code = _offer(served, mail_sink)
    status, result = run_wallet(answer["credential_offer_uri"], tx_code, rsa_token.ca_cert_path, "alter")
    assert status == 0, result
    assert (result["format"], result["typ"], result["alg"], result["vct"]) == (
        "dc+sd-jwt", "dc+sd-jwt", "RS256", sd_jwt_vc.VCT)  # signed RS256 on the RSA token
    assert result["holder_bound"] is True
    assert "TEST SEAL" in result["signer"]
    claims = result["claims"]
    assert (claims["given_name"], claims["family_name"]) == ("Ona", "Jonaitė")
    assert claims["credential_id"] == answer["credential_id"]
    assert claims["level_of_learning_experience"] == 5 and claims["ects_credits"] == 3
    assert claims["achievement_title"] == "Data Literacy for Everyone"
    assert sd_jwt_vc.verify_sd_jwt_vc(result["credential"], trust_anchors=[rsa_token.ca_cert]).valid
    # A changed disclosure: @sd-jwt 0.19.0, like PyPI's sd-jwt 0.10, leaves it out and verifies the rest (the
    # family name is simply missing), so neither can be the tamper check; our verifier refuses the same text.
    altered = result["altered"]
    assert altered["refused"] or ("Mallory" not in json.dumps(altered["claims"])
                                  and "family_name" not in altered["claims"]), altered
    if not altered["refused"]:
        ours = sd_jwt_vc.verify_sd_jwt_vc(altered["credential"], trust_anchors=[rsa_token.ca_cert])
        assert not ours.valid and "altered or added" in ours.problems[0]


def test_the_node_wallet_is_refused_with_a_wrong_transaction_code(served, mail_sink, rsa_token):
    answer, tx_code = _offer(served, mail_sink)
    wrong = f"{(int(tx_code) + 7) % 10 ** 6:06d}"
    status, result = run_wallet(answer["credential_offer_uri"], wrong, rsa_token.ca_cert_path)
    assert status == 1 and re.search(r"invalid_grant|transaction code", json.dumps(result)), result


def test_the_node_wallet_refuses_a_credential_from_another_ca(served, mail_sink, ec_token):
    answer, tx_code = _offer(served, mail_sink)
    status, result = run_wallet(answer["credential_offer_uri"], tx_code, ec_token.ca_cert_path)
    assert status == 1 and "not issued by our CA" in result["error"], result
