"""Worker processes: sealing on every core (EDC_WORKER_PROCESSES).

One Python process seals at most one credential at a time per core's worth of GIL, so threads stop
helping at ~20 credentials/s. With EDC_WORKER_PROCESSES=N the server process keeps the HTTP API and the
periodic jobs, and N child processes (started with `spawn`: no PKCS#11 state is inherited) each run the
issuing and delivery threads with their own registry connections and their own token login. They share
the work through the registry exactly as separate sidecar replicas do (leases, SKIP LOCKED), and two
shared events wake them when the API queues work. A child whose server dies (even by SIGKILL) exits by
itself; the server restarts a child that died.

`edc-bridge serve` starts the children first, before it parses its settings or imports the web layer:
after a crash the server and its children load their libraries at the same time, on different cores,
instead of one after the other (issue 18). Such a child gets the environment (`FromEnvironment`) and
parses the settings itself; one whose settings are wrong exits quietly, as the server reports them and
stops. A child waits for `registry_ready`, set once the server has migrated the registry, before it
touches the registry.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bridge.settings import Settings, SettingsError

log = logging.getLogger("edc.worker.processes")
_spawn = multiprocessing.get_context("spawn")


def shared_events() -> tuple[Any, Any]:
    """(work queued, deliveries due): set by the server's API, waited on by every child."""
    return _spawn.Event(), _spawn.Event()


@dataclass(frozen=True)
class FromEnvironment:
    """The settings as a child parses them itself from the server's environment (its `demo` flag too)."""

    env: dict[str, str] = field(repr=False)  # holds the PIN and the shared secrets: never in a repr or a log
    demo: bool = False

    @property
    def worker_processes(self) -> int:
        return Settings.worker_processes_in(self.env)

    def load(self) -> Settings:
        return Settings.from_env(self.env, demo=self.demo)


def child_main(settings: Settings | FromEnvironment, wake: Any, deliveries_due: Any, parent_pid: int,
               registry_ready: Any) -> None:
    """Entry point of one worker process."""
    from bridge import startup

    startup.starting()  # until it is built (bridge/startup.py)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s")
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    if isinstance(settings, FromEnvironment):
        try:
            settings = settings.load()
        except SettingsError:  # the server reports it (naming the variable) and stops
            return
    from bridge.assembly import build_context  # while the server imports and migrates (module docstring)
    from bridge.registry import Registry
    from bridge.worker import Worker

    while not registry_ready.wait(0.2):  # the server migrates the registry; nothing of ours touches it before
        if stopping.is_set() or os.getppid() != parent_pid:
            return
    ctx = build_context(settings, registry=Registry(settings.database_url, migrate=False))  # the server migrated
    ctx.wake, ctx.deliveries_due = wake, deliveries_due
    runner = Worker(ctx, working=True, scheduling=False)
    startup.started()
    runner.start()
    while not stopping.wait(0.5):
        if os.getppid() != parent_pid:  # the server died without telling us: do not linger as an orphan
            os._exit(0)
    runner.stop()


class Supervisor:
    """Starts the children and restarts any that dies; `stop()` asks them to finish and waits.

    `registry_ready()` lets the children begin (the server calls it once the registry is migrated);
    `wake` and `deliveries_due` are the events the server's API sets (its Context's)."""

    def __init__(self, settings: Settings | FromEnvironment) -> None:
        self.settings = settings
        self.wake, self.deliveries_due = shared_events()
        self._ready = _spawn.Event()
        self.children: list[Any] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def registry_ready(self) -> None:
        self._ready.set()

    def _start_child(self) -> Any:
        child = _spawn.Process(target=child_main, name="edc-worker-process", daemon=True,
                               args=(self.settings, self.wake, self.deliveries_due, os.getpid(), self._ready))
        child.start()
        return child

    def start(self) -> None:
        self.children = [self._start_child() for _ in range(self.settings.worker_processes)]
        self._thread = threading.Thread(target=self._watch, name="edc-supervisor", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(2.0):
            for i, child in enumerate(self.children):
                if not child.is_alive() and not self._stop.is_set():
                    log.error("worker process %s exited (code %s); starting another", child.pid, child.exitcode)
                    self.children[i] = self._start_child()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        for child in self.children:
            if child.is_alive():
                child.terminate()  # SIGTERM: the child finishes its current work
        deadline = time.monotonic() + timeout
        for child in self.children:
            child.join(max(0.1, deadline - time.monotonic()))
            if child.is_alive():
                child.kill()
