"""The Moodle channel honours the environment a deployment sets for requests, read once per session.

requests used to read HTTP(S)_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE and ~/.netrc on every
call; the channel now reads them once when a thread's session is made (environment_session). These tests
pin that a deployment relying on them still reaches Moodle the same way: through a proxy when one is set
(a real proxy on loopback, plain forwarding and CONNECT tunnelling), directly when NO_PROXY covers the
host, and with the server certificate checked against the CA file the environment names.
"""
from __future__ import annotations

import socket
import socketserver
import threading

import pytest
import requests

from bridge.delivery import DeliveryError
from bridge.delivery.moodle import MoodleChannel

from .conftest import CREDENTIAL_ID, SEALED, make_job
from .sinks import FakeMoodle, free_port

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """Start from no proxy and no CA variables (either case), and no ~/.netrc, whatever the machine has."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))


class LoopbackProxy:
    """An HTTP proxy on 127.0.0.1 that sends every host to 127.0.0.1 (same port): a hostname that only the
    proxy can reach proves the proxy was used. Absolute-URI requests are forwarded, CONNECT is tunnelled;
    `seen` keeps each request line."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            rbufsize = 0  # unbuffered: after CONNECT, every byte still to come is the tunnel's

            def handle(self) -> None:
                # One client connection may carry several requests (the channel keeps its connection
                # alive, and an HTTP/1.1 answer relayed from Moodle lets it), so read them until it closes.
                while line := self.rfile.readline().decode("latin-1").rstrip("\r\n"):
                    headers = []
                    while (header := self.rfile.readline()) not in (b"\r\n", b"\n", b""):
                        headers.append(header.decode("latin-1").rstrip("\r\n"))
                    proxy.seen.append(line)
                    method, target, _ = line.split(" ", 2)
                    if method == "CONNECT":
                        self._tunnel(int(target.rpartition(":")[2]))
                        return
                    self._forward(method, target, headers)

            def _tunnel(self, port: int) -> None:
                upstream = socket.create_connection(("127.0.0.1", port))
                self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                self.wfile.flush()
                back = threading.Thread(target=_pipe, args=(upstream, self.connection), daemon=True)
                back.start()
                _pipe(self.connection, upstream)
                back.join(5)
                upstream.close()

            def _forward(self, method: str, target: str, headers: list[str]) -> None:
                rest = target.split("://", 1)[1]
                hostport, _, path = rest.partition("/")
                port = int(hostport.rpartition(":")[2])
                length = next((int(h.split(":", 1)[1]) for h in headers if h.lower().startswith("content-length:")), 0)
                body = b""
                while len(body) < length:
                    body += self.rfile.read(length - len(body))
                kept = [h for h in headers if not h.lower().startswith(("proxy-", "connection:"))]
                request = "\r\n".join([f"{method} /{path} HTTP/1.0", *kept, "Connection: close", "", ""])
                with socket.create_connection(("127.0.0.1", port)) as upstream:
                    upstream.sendall(request.encode("latin-1") + body)
                    while chunk := upstream.recv(65536):
                        self.wfile.write(chunk)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> "LoopbackProxy":
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


def _pipe(source: socket.socket, target: socket.socket) -> None:
    """Copy bytes one way until the source closes, then tell the other side."""
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
    except OSError:
        pass
    finally:
        try:
            target.shutdown(socket.SHUT_WR)
        except OSError:
            pass


@pytest.fixture
def tls_moodle(server_tls):
    """FakeMoodle over HTTPS, with the session-made certificate for localhost and 127.0.0.1."""
    fake = FakeMoodle(users={34, 35}, courses={12})
    fake._server.socket = server_tls.wrap_socket(fake._server.socket, server_side=True)
    fake.start()
    yield fake
    fake.stop()


def https_url(fake: FakeMoodle, host: str = "127.0.0.1") -> str:
    return f"https://{host}:{fake._server.server_address[1]}"


def delivered(fake: FakeMoodle) -> bool:
    return fake.files.get((CREDENTIAL_ID, "edc-xml")) == SEALED and fake.statuses[(34, 12)][1] == "delivered"


def test_no_proxy_covering_loopback_reaches_moodle_directly(moodle, monkeypatch):
    dead_proxy = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("HTTP_PROXY", dead_proxy)
    monkeypatch.setenv("HTTPS_PROXY", dead_proxy)
    with pytest.raises(DeliveryError) as err:  # the proxy is honoured: nobody listens there
        MoodleChannel(moodle.url, moodle.token, timeout=5).deliver(make_job())
    assert err.value.retryable and "cannot connect" in str(err.value)

    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    channel = MoodleChannel(moodle.url, moodle.token, timeout=5)
    channel.deliver(make_job())
    assert delivered(moodle)
    assert channel.session.proxies == {} and channel.session.trust_env is False


def test_http_proxy_from_the_environment_carries_the_calls(moodle, monkeypatch):
    port = moodle._server.server_address[1]
    with LoopbackProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        channel = MoodleChannel(f"http://moodle.invalid:{port}", moodle.token, timeout=5)
        channel.deliver(make_job())
        channel.deliver(make_job(credential_id="urn:credential:0000-second", learner_moodle_id=35))  # same connection
    assert delivered(moodle)
    assert proxy.seen == [f"POST http://moodle.invalid:{port}/webservice/rest/server.php HTTP/1.1"] * 2
    assert moodle.token not in " ".join(proxy.seen)  # the token is in the body, not the URL
    assert channel.session.proxies["http"] == proxy.url


def test_https_proxy_from_the_environment_tunnels_to_moodle(tls_moodle, tls_files, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_files[0]))
    with LoopbackProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        MoodleChannel(https_url(tls_moodle, "localhost"), tls_moodle.token, timeout=5).deliver(make_job())
    assert delivered(tls_moodle)
    assert proxy.seen and all(line.startswith(f"CONNECT localhost:{tls_moodle._server.server_address[1]} ")
                              for line in proxy.seen)


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_ca_bundle_from_the_environment_is_trusted(tls_moodle, tls_files, monkeypatch, variable):
    with pytest.raises(DeliveryError) as err:  # without it the self-signed certificate is refused
        MoodleChannel(https_url(tls_moodle), tls_moodle.token, timeout=5).deliver(make_job())
    assert not err.value.retryable and "TLS" in str(err.value)

    monkeypatch.setenv(variable, str(tls_files[0]))
    MoodleChannel(https_url(tls_moodle), tls_moodle.token, timeout=5).deliver(make_job())
    assert delivered(tls_moodle)


def test_an_explicit_verify_wins_over_the_environment(tls_moodle, tls_files, monkeypatch, tmp_path):
    other = tmp_path / "other-ca.pem"
    other.write_text("not a certificate\n")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other))
    MoodleChannel(https_url(tls_moodle), tls_moodle.token, timeout=5, verify=str(tls_files[0])).deliver(make_job())
    assert delivered(tls_moodle)


def test_the_environment_is_read_when_the_session_is_made_not_per_call(moodle, monkeypatch):
    channel = MoodleChannel(moodle.url, moodle.token, timeout=5)
    channel.deliver(make_job())

    def asked(*args, **kwargs):
        raise AssertionError("the environment was read again for a call")

    for module in (requests.sessions, requests.utils):
        monkeypatch.setattr(module, "get_environ_proxies", asked)
        monkeypatch.setattr(module, "get_netrc_auth", asked)
    monkeypatch.setattr(requests.utils, "should_bypass_proxies", asked)
    channel.deliver(make_job())
    assert moodle.store_calls[CREDENTIAL_ID] == 2


def test_a_netrc_login_for_the_moodle_host_is_sent_as_before(moodle, monkeypatch, tmp_path):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login edc password s3cret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    channel = MoodleChannel(moodle.url, moodle.token, timeout=5)
    assert channel.session.auth == ("edc", "s3cret")
    channel.deliver(make_job())
    assert delivered(moodle)
