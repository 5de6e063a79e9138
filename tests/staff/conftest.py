"""Fixtures for the named-staff tests (issue 15): the sidecar on SQLite and PostgreSQL (tests/sidecar's
fixtures), and a real OpenID Connect provider (the npm package oidc-provider, tests/staff/oidc/) run with
Node on a free loopback port for the whole session. `.ci/run` installs it (`npm ci --prefix tests/staff/oidc`);
without Node or the package the OIDC tests are skipped, saying how to install it.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tests.delivery.sinks import free_port
from tests.sidecar.conftest import (app, channels, client, ctx, database_url, settings)  # noqa: F401 - fixtures

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
CLIENT_ID = "edc-bridge"
CLIENT_SECRET = "edc-bridge-test-client-secret-0123456789"
PUBLIC_URL = "https://edc.example.test"
REDIRECT_URL = f"{PUBLIC_URL}/staff/oidc/callback"


@dataclass(frozen=True)
class OidcProvider:
    issuer: str
    key_file: Path  # the provider's private signing key (JWK), for tokens the tests forge

    def private_jwk(self) -> dict:
        return json.loads(self.key_file.read_text(encoding="utf-8"))


def _provider_ready() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed (Node 20 runs the OpenID provider)"
    if not (OIDC_DIR / "node_modules" / "oidc-provider" / "package.json").is_file():
        return "oidc-provider is not installed: run `npm ci --prefix tests/staff/oidc` (.ci/run does)"
    return None


@contextlib.contextmanager
def running_provider(key_file: Path, port: int | None = None, issuer: str | None = None) -> Iterator[OidcProvider]:
    """The provider on `port` (a free one if None); `issuer` names a proxy in front of it (every URL it
    publishes then points at the proxy). Skips the test without Node or the package."""
    reason = _provider_ready()
    if reason:
        pytest.skip(reason)
    command = ["node", str(OIDC_DIR / "provider.mjs"), str(port or free_port()), REDIRECT_URL, str(key_file)]
    process = subprocess.Popen(command + ([issuer] if issuer else []),
                               cwd=OIDC_DIR, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("ready "), f"the OpenID provider did not start: {line!r}"
        yield OidcProvider(line.split()[1], key_file)
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    with running_provider(tmp_path_factory.mktemp("oidc") / "signing-key.json") as provider:
        yield provider


@pytest.fixture
def oidc_settings(settings, oidc_provider):  # noqa: F811 - tests/sidecar's settings, with the provider
    return dataclasses.replace(settings, public_url=PUBLIC_URL, oidc_issuer=oidc_provider.issuer,
                               oidc_client_id=CLIENT_ID, oidc_client_secret=CLIENT_SECRET, oidc_role_claim="roles")


@pytest.fixture
def oidc_app(oidc_settings, channels):  # noqa: F811
    from bridge.app import create_app, stop_app

    application = create_app(oidc_settings, channels=channels)
    yield application
    stop_app(application)
    application.extensions["edc"].registry.dispose()


def at_provider(start_location: str, person: str) -> str:
    """Play the browser at the identity provider: follow its redirects to the login screen, log in as
    `person`, follow on until it sends the browser back to our callback; return that callback URL."""
    browser = requests.Session()
    url = start_location
    for _ in range(12):
        if url.startswith(REDIRECT_URL):
            return url
        answer = browser.get(url, allow_redirects=False, timeout=10)
        if answer.status_code in (302, 303):
            url = requests.compat.urljoin(url, answer.headers["Location"])
            continue
        match = re.match(r"^(.*/interaction/[^/?]+)$", url)
        assert answer.status_code == 200 and match, f"unexpected answer {answer.status_code} at {url}: {answer.text[:200]}"
        url = f"{match.group(1)}/as/{person}"
    raise AssertionError("the provider never sent the browser back")


def callback_path(url: str) -> str:
    """The callback URL as the sidecar's test client requests it (path and query)."""
    parsed = urlparse(url)
    return f"{parsed.path}?{parsed.query}"


def callback_args(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def oidc_login(client, person: str, next_url: str | None = None):  # noqa: F811
    """The whole login through the real provider; returns the sidecar's answer to the callback."""
    started = client.get("/staff/oidc/start" + (f"?next={next_url}" if next_url else ""))
    assert started.status_code == 303, started.get_data(as_text=True)[:300]
    return client.get(callback_path(at_provider(started.headers["Location"], person)))


def wait_until(check, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)
