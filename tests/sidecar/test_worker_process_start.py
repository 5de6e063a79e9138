"""Worker processes start before their server has loaded or migrated anything (bridge/worker_processes.py).

`edc-bridge serve` starts its worker processes first, so that after a crash they load their libraries
while the server loads its own. So a child must not touch the registry before the server says it is
migrated, and must not outlive a server that dies or stops before saying so.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from bridge.registry import Registry
from bridge.registry.models import SidecarProcess
from bridge.settings import Settings
from bridge.worker_processes import FromEnvironment, Supervisor
from tests.sidecar.conftest import token_env
from tests.sidecar.processes import running, wait_until

REPO = Path(__file__).resolve().parents[2]
LOADED = 3.0  # far longer than a child needs to import the worker side (~0.5 s here)


def _env(tmp_path: Path, token) -> dict[str, str]:
    return {**token_env(token), "EDC_DATABASE_URL": f"sqlite:///{tmp_path / 'registry.sqlite3'}",
            "EDC_WORKER_PROCESSES": "1", "EDC_TRUST_ANCHORS": str(token.ca_cert_path)}


def _registered(registry: Registry, pid: int) -> bool:
    with registry.reading() as session:
        return pid in session.execute(select(SidecarProcess.pid)).scalars().all()


@pytest.fixture(params=["settings", "environment"])
def supervisor(request, tmp_path, ec_token):
    """Given parsed settings (start_background), or the environment to parse (`edc-bridge serve`)."""
    env = _env(tmp_path, ec_token)
    started = Supervisor(Settings.from_env(env) if request.param == "settings" else FromEnvironment(env))
    started.start()
    yield started
    started.stop()


def test_a_worker_process_begins_only_once_the_registry_is_migrated(tmp_path, supervisor):
    database = tmp_path / "registry.sqlite3"
    child = supervisor.children[0]
    time.sleep(LOADED)
    assert child.is_alive(), f"the worker process exited with {child.exitcode} before the registry was ready"
    assert not database.exists(), "the worker process touched the registry before it was migrated"

    registry = Registry(f"sqlite:///{database}")  # what the server does next: migrate
    supervisor.registry_ready()
    assert wait_until(lambda: _registered(registry, child.pid), 30), "the worker process never began working"
    assert child.is_alive()
    registry.dispose()


def test_a_waiting_worker_process_stops_when_asked(supervisor):
    child = supervisor.children[0]
    time.sleep(LOADED)
    began = time.monotonic()
    supervisor.stop()
    assert not child.is_alive() and child.exitcode == 0, child.exitcode
    assert time.monotonic() - began < 5  # it left at once, not after the stop's timeout and a SIGKILL


def test_a_worker_process_given_wrong_settings_leaves_quietly(tmp_path, ec_token):
    """The server reports a wrong setting (tests/sidecar/test_serve.py); its children only leave."""
    started = Supervisor(FromEnvironment({**_env(tmp_path, ec_token), "EDC_LEASE_SECONDS": "soon"}))
    started.start()
    try:
        child = started.children[0]
        child.join(30)
        assert child.exitcode == 0, child.exitcode
        assert not (tmp_path / "registry.sqlite3").exists()
    finally:
        started.stop()


def test_a_waiting_worker_process_does_not_outlive_its_server(tmp_path, ec_token):
    """The server dies (here: the process that started the child exits at once) before the registry is ready."""
    env = {**os.environ, **token_env(ec_token), "EDC_DATABASE_URL": f"sqlite:///{tmp_path / 'registry.sqlite3'}",
           "EDC_WORKER_PROCESSES": "1", "EDC_TRUST_ANCHORS": str(ec_token.ca_cert_path)}
    script = ("import os\n"
              "from bridge.settings import Settings\n"
              "from bridge.worker_processes import Supervisor\n"
              "started = Supervisor(Settings.from_env())\n"
              "started.start()\n"
              "print(started.children[0].pid, flush=True)\n"
              "os._exit(0)  # as a SIGKILL would: no clean stop\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    pid = int(done.stdout.split()[0])
    assert wait_until(lambda: not running(pid), 15), "the worker process outlived the server that started it"
    assert not (tmp_path / "registry.sqlite3").exists()


def test_the_environment_given_to_a_worker_process_never_shows_in_its_repr(tmp_path, ec_token):
    env = {**_env(tmp_path, ec_token), "EDC_STAFF_TOKEN": "staff-token-do-not-log"}
    shown = repr(FromEnvironment(env))
    assert "staff-token-do-not-log" not in shown and env["EDC_PIN"] not in shown
    assert FromEnvironment(env).load().worker_processes == 1  # and it still carries everything
