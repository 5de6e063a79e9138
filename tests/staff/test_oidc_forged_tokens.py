"""Forged ID tokens through the sidecar's whole login (issue 15), on SQLite and PostgreSQL: the browser goes
/staff/oidc/start → the real provider (oidc-provider) → /staff/oidc/callback, and the sidecar redeems the code
at the provider's token endpoint as always, but through a loopback proxy of this test that swaps the real
answer's `id_token` for one the test forged: expired, for another audience, from another issuer, unsigned
(alg none), HMAC-"signed" with the client secret, signed with another key. Each login is refused with a
message saying what was wrong, makes no session, is audited with the reason, and no secret (client secret,
code, the real or the forged tokens) reaches the sidecar's logs or its audit trail. The same token re-signed
unchanged with the provider's key logs in, so the proxy itself refuses nothing.

The provider is told the proxy is its issuer, so every URL it publishes (discovery, authorisation, token,
keys) leads through the proxy, which forwards all of it untouched except the token endpoint's answer.
One provider and one proxy serve the whole module.
"""
from __future__ import annotations

import base64
import html
import http.client
import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey
from sqlalchemy import select

from bridge.registry.models import AuditEntry, OidcLogin, StaffSession
from tests.delivery.sinks import free_port
from tests.staff.conftest import (CLIENT_ID, CLIENT_SECRET, PUBLIC_URL, OidcProvider, at_provider, callback_path,
                                  running_provider)

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "accept-encoding"}
Forger = Callable[[dict], str]


class TamperingProxy(ThreadingHTTPServer):
    """Forwards every request to the provider; in the token endpoint's JSON answer, `forge(claims)` (the
    real ID token's claims) replaces the ID token. `answers` keeps the real answers, to look for leaks."""

    daemon_threads = True

    def __init__(self, port: int, upstream_port: int) -> None:
        super().__init__(("127.0.0.1", port), _Forward)
        self.upstream_port = upstream_port
        self.forge: Forger | None = None
        self.forged: list[str] = []
        self.answers: list[dict] = []


class _Forward(BaseHTTPRequestHandler):
    server: TamperingProxy

    def log_message(self, *args) -> None:  # noqa: ANN002 - quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._forward()

    def do_POST(self) -> None:  # noqa: N802
        self._forward()

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
        upstream = http.client.HTTPConnection("127.0.0.1", self.server.upstream_port, timeout=10)
        # the Host header stays the proxy's: the provider builds the URLs it answers with from it
        upstream.request(self.command, self.path, body=body or None, headers=headers)
        answer = upstream.getresponse()
        content = answer.read()
        if self.command == "POST" and self.path.split("?")[0] == "/token" and answer.status == 200:
            content = self._tampered(content)
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in HOP_HEADERS:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)
        upstream.close()

    def _tampered(self, content: bytes) -> bytes:
        document = json.loads(content)
        self.server.answers.append(dict(document))
        if self.server.forge is not None:
            document["id_token"] = self.server.forge(_payload(document["id_token"]))
            self.server.forged.append(document["id_token"])
        return json.dumps(document).encode()


@pytest.fixture(scope="module")
def tampered(tmp_path_factory):
    proxy_port, provider_port = free_port(), free_port()
    key_file = tmp_path_factory.mktemp("oidc-tampered") / "signing-key.json"
    with running_provider(key_file, provider_port, f"http://127.0.0.1:{proxy_port}") as provider:
        proxy = TamperingProxy(proxy_port, provider_port)
        thread = threading.Thread(target=proxy.serve_forever, daemon=True)
        thread.start()
        try:
            yield provider, proxy
        finally:
            proxy.shutdown()
            proxy.server_close()


@pytest.fixture
def tampered_app(settings, channels, tampered):  # noqa: F811 - tests/sidecar's fixtures
    import dataclasses

    from bridge.app import create_app, stop_app

    provider, proxy = tampered
    proxy.forge, proxy.forged[:], proxy.answers[:] = None, [], []
    application = create_app(dataclasses.replace(
        settings, public_url=PUBLIC_URL, oidc_issuer=provider.issuer, oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET, oidc_role_claim="roles"), channels=channels)
    yield application, provider, proxy
    proxy.forge = None
    stop_app(application)
    application.extensions["edc"].registry.dispose()


# --- forging ---------------------------------------------------------------------------------------------------


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _payload(token: str) -> dict:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _resigned(provider: OidcProvider, claims: dict, key=None) -> str:  # noqa: ANN001 - a joserfc key
    jwk = provider.private_jwk()
    return jwt.encode({"alg": "RS256", "kid": jwk["kid"]}, claims, key or RSAKey.import_key(jwk))


def _changed(provider: OidcProvider, **changes) -> Forger:
    return lambda claims: _resigned(provider, {**claims, **changes})


def _expired(provider: OidcProvider) -> Forger:
    now = int(time.time())
    return _changed(provider, iat=now - 7200, exp=now - 3600)


def _unsigned(provider: OidcProvider) -> Forger:
    return lambda claims: f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


def _hmac_with_client_secret(provider: OidcProvider) -> Forger:
    secret = OctKey.import_key(CLIENT_SECRET)
    return lambda claims: jwt.encode({"alg": "HS256"}, claims, secret, algorithms=["HS256"])


def _another_key(provider: OidcProvider) -> Forger:
    stranger = RSAKey.generate_key(2048)
    return lambda claims: _resigned(provider, claims, stranger)


# (forger, audit reason, what the login page says was wrong)
REFUSED = {
    "expired": (_expired, "expired", "the ID token has expired"),
    "wrong_audience": (lambda p: _changed(p, aud="another-client"), "wrong_audience",
                       "the ID token is meant for another client"),
    "wrong_issuer": (lambda p: _changed(p, iss="http://127.0.0.1:1"), "wrong_issuer",
                     "the ID token was issued by another issuer"),
    "alg_none": (_unsigned, "bad_alg", "algorithm 'none' is not accepted"),
    "hs256_client_secret": (_hmac_with_client_secret, "bad_alg", "algorithm 'HS256' is not accepted"),
    "another_key": (_another_key, "bad_signature", "signature does not verify"),
}


def _audit(ctx) -> list[AuditEntry]:
    with ctx.registry.reading() as db:
        return list(db.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())


def _login(client, provider: OidcProvider) -> tuple[str, object]:  # noqa: ANN001 - the test client
    """The browser's whole login as the viewer; the callback URL (with the code) and the sidecar's answer."""
    started = client.get("/staff/oidc/start")
    assert started.status_code == 303 and started.headers["Location"].startswith(provider.issuer)
    callback = at_provider(started.headers["Location"], "viewer")
    return callback, client.get(callback_path(callback))


def test_the_real_token_resigned_unchanged_logs_in(tampered_app):
    app, provider, proxy = tampered_app
    proxy.forge = lambda claims: _resigned(provider, claims)
    client, ctx = app.test_client(), app.extensions["edc"]
    _, answer = _login(client, provider)
    assert answer.status_code == 303, answer.get_data(as_text=True)[:500]
    assert len(proxy.forged) == 1  # the login went through the proxy and took the token it made
    assert client.get("/staff/credentials").status_code == 200
    assert [e.actor for e in _audit(ctx) if e.action == "staff.login"] == ["vera.viewer@uni.example"]


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_forged_id_token_is_refused_end_to_end(tampered_app, case, caplog):
    caplog.set_level(logging.DEBUG)
    app, provider, proxy = tampered_app
    make_forger, reason, problem = REFUSED[case]
    proxy.forge = make_forger(provider)
    client, ctx = app.test_client(), app.extensions["edc"]
    callback, answer = _login(client, provider)

    assert len(proxy.forged) == 1
    assert answer.status_code == 401
    page = html.unescape(answer.get_data(as_text=True))
    assert "The university login was refused" in page and problem in page
    with ctx.registry.reading() as db:
        assert db.execute(select(StaffSession)).first() is None
        assert db.execute(select(OidcLogin)).first() is None  # the login was taken: it cannot be retried
    assert client.get("/staff/").status_code == 303
    entries = _audit(ctx)
    refused = [json.loads(e.details) for e in entries if e.action == "staff.oidc_refused"]
    assert [r["reason"] for r in refused] == [reason]
    assert not [e for e in entries if e.action == "staff.login"]

    real = proxy.answers[0]
    code = callback.split("code=", 1)[1].split("&", 1)[0]
    secrets_seen = [CLIENT_SECRET, code, real["id_token"], real["access_token"], proxy.forged[0]]
    secrets_seen += [part for part in proxy.forged[0].split(".")[1:] if part]  # signature, payload
    written = caplog.text + json.dumps([(e.actor, e.action, e.details) for e in entries])
    for secret in secrets_seen:
        assert secret not in written, f"a secret of the login reached the logs or the audit ({case})"
