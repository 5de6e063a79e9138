"""`edc-bridge serve` as an operator runs it: a real WSGI server in its own process, a real SMTP server
on loopback, `send-demo-event` signing a pilot event; the learner's mail carries a credential that
verifies. Then SIGTERM stops it cleanly and `audit verify` finds the trail intact."""
from __future__ import annotations

import email
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from email import policy
from pathlib import Path

import pytest
import requests

from bridge.cli import main as edc_bridge
from bridge.edc.verifier import verify_credential
from tests.sidecar.conftest import pilot_spec, token_env
from tests.sidecar.processes import all_gone, children, command_line, running, wait_until

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_sink():
    from aiosmtpd.controller import Controller

    received, arrived = [], threading.Event()

    class Keep:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            received.append(envelope)
            arrived.set()
            return "250 OK"

    controller = Controller(Keep(), hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, received, arrived
    controller.stop()


def _collections(base: str) -> float:
    """The server's young-generation garbage collections so far, from its /metrics."""
    for line in requests.get(base + "/metrics", timeout=5).text.splitlines():
        if line.startswith('python_gc_collections_total{generation="0"}'):
            return float(line.split()[-1])
    raise AssertionError("no python_gc_collections_total in /metrics")


def _serve_env(tmp_path: Path, token, smtp_port: int, secret: str, processes: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDC_")}
    env.update(token_env(token), EDC_DATABASE_URL=f"sqlite:///{tmp_path}/registry.sqlite3",
               EDC_INTAKE_KEYS=f"demo={secret}",
               EDC_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}", EDC_MAIL_FROM="credentials@uni.example",
               EDC_STAFF_TOKEN="serve-staff", EDC_PUBLIC_URL="https://edc.uni.example", EDC_EMAIL_PDF="1",
               EDC_TRUST_ANCHORS=str(token.ca_cert_path), EDC_WORKER_PROCESSES=processes)
    return env


def test_a_port_already_taken_is_a_clear_error_before_any_worker_starts(tmp_path, ec_token, smtp_sink):
    controller, _, _ = smtp_sink
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = _serve_env(tmp_path, ec_token, controller.port, "serve-test-secret-0123456789", "1")
        done = subprocess.run([sys.executable, "-m", "bridge.cli", "serve", "--port", str(port)], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "Traceback" not in done.stderr
    assert "listening on" not in done.stdout  # it never claimed to serve
    assert "serve-test-secret" not in done.stdout + done.stderr


def test_a_wrong_setting_with_worker_processes_is_a_clear_error_and_leaves_no_process(tmp_path, ec_token,
                                                                                      smtp_sink):
    """The worker processes start before the settings are parsed (they parse them too): a wrong one
    still stops `serve` at once with the variable named, and takes the children with it."""
    controller, _, _ = smtp_sink
    env = _serve_env(tmp_path, ec_token, controller.port, "serve-test-secret-0123456789", "2")
    env["EDC_WORKERS"] = "two"
    began = time.monotonic()
    server = subprocess.Popen([sys.executable, "-m", "bridge.cli", "serve", "--port", str(_free_port())], cwd=REPO,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: dict[int, bytes] = {}  # pid -> its command line, the last read while the server ran (after exec)
    while server.poll() is None and time.monotonic() - began < 60:
        for pid in children(server.pid):
            seen[pid] = command_line(pid) or seen.get(pid, b"")
        time.sleep(0.002)
    out, err = server.communicate(timeout=5)
    assert server.returncode == 2, out + err
    assert "EDC_WORKERS must be a whole number" in err and "Traceback" not in err
    assert "listening on" not in out and "serve-test-secret" not in out + err
    # Python's resource tracker (it keeps the shared events' semaphores) leaves when it reads the end of
    # its pipe, which closes as the server exits: a moment later, on its own. A worker process (perhaps
    # stopped before its exec, still showing the server's command line) must be gone before the server is.
    workers = [pid for pid, command in seen.items() if b"resource_tracker" not in command]
    assert workers, "no worker process was started before the settings were parsed"
    assert not [pid for pid in workers if running(pid)], "a worker process outlived the server's refusal"
    assert wait_until(all_gone(seen), 5), "a helper process outlived the server's refusal"
    assert not (tmp_path / "registry.sqlite3").exists()  # nothing touched the registry


@pytest.mark.parametrize("processes", ["0", "1"], ids=["threads", "worker-process"])
def test_serve_send_demo_event_mail_and_shutdown(tmp_path, ec_token, smtp_sink, capsys, processes):
    controller, received, arrived = smtp_sink
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    secret = "serve-test-secret-0123456789"
    key_file = tmp_path / "intake-key"
    key_file.write_text(secret + "\n")
    database = f"sqlite:///{tmp_path}/registry.sqlite3"
    env = _serve_env(tmp_path, ec_token, controller.port, secret, processes)
    server = subprocess.Popen([sys.executable, "-m", "bridge.cli", "serve", "--port", str(port)], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if requests.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        assert requests.get(base + "/readyz", timeout=5).json()["ready"] is True
        collected = _collections(base)
        r = requests.put(base + "/api/v1/courses/demo/1/specification", json=pilot_spec("data101"),
                         headers={"Authorization": "Bearer serve-staff"}, timeout=10)
        assert r.status_code == 200 and r.json()["valid"] is True
        assert edc_bridge(["send-demo-event", "--url", base, "--course", "1", "--key-file", str(key_file)]) == 0
        assert "HTTP 202" in capsys.readouterr().out
        assert arrived.wait(30), "no mail arrived"
        message = email.message_from_bytes(received[0].content, policy=policy.default)
        assert received[0].rcpt_tos == ["ona.jonaite@student.nemunas-tech.example"]
        files = {part.get_filename(): part.get_payload(decode=True) for part in message.iter_attachments()}
        xml = next(data for name, data in files.items() if name.endswith(".xml"))
        assert any(name.endswith(".pdf") for name in files), list(files)
        report = verify_credential(xml, trust_anchors=[ec_token.ca_cert])
        assert report.valid, report.problems
        assert "Jonait" in (report.learner or "")
        assert _collections(base) > collected, "the server never collects garbage once started (bridge/startup.py)"
        started = children(server.pid)
        if processes != "0":
            assert started, "no worker process was started"
            server.kill()  # the worst case: SIGKILL; the worker processes must not linger as orphans
            assert wait_until(all_gone(started), 10), "worker processes outlived their server"
            return
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
        try:
            output, _ = server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            output, _ = server.communicate()
    assert server.returncode == 0, output[-3000:]
    assert secret not in output and "serve-staff" not in output, "a secret was printed"
    assert edc_bridge(["audit", "verify", "--database-url", database]) == 0
