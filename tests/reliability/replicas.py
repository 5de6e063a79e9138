"""Several real `edc-bridge serve` replicas on one PostgreSQL registry, driven and watched from outside.

Shared by tests/reliability/test_replicas.py and bench/replicas.py. Each replica is its own process
group on loopback (tests/reliability/harness.py `Sidecar`), with its own port, its own SoftHSM login
on the same test token and the same SMTP sink and Moodle-like server; the intake spreads events over
the replicas round-robin and, as a load balancer would, sends an event to the next replica when one
does not answer. What is judged comes from outside the processes: the registry (read with SQL), the
mail sink, the Moodle-like server, each replica's /metrics and its CPU time in /proc, and PostgreSQL's
pg_stat_activity sampled while the burst runs.
"""
from __future__ import annotations

import collections
import glob
import itertools
import os
import shutil
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from delivery.sinks import FakeMoodle, MailSink, free_port

from .harness import REPO, Sidecar, make_event, pilot_course, sidecar_env

COURSE_ID = 31
APP_PREFIX = "edc-replica-"
TICKS = os.sysconf("SC_CLK_TCK")


def postgres_url() -> str | None:
    """EDC_TEST_DATABASE_URL, else the URL scripts/start-test-postgres.sh wrote; None without either."""
    url = os.environ.get("EDC_TEST_DATABASE_URL")
    if not url:
        path = REPO / "var" / "test-postgres" / "url"
        url = path.read_text(encoding="utf-8").strip() if path.exists() else None
    return url or None


class Schema:
    """A schema of its own for one run, dropped afterwards; `url` puts every connection into it."""

    def __init__(self, url: str) -> None:
        self.name = f"rep_{uuid.uuid4().hex[:10]}"
        self.base = url
        self.admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {self.name}"))
        self.url = f"{url}{'&' if '?' in url else '?'}options={quote(f'-csearch_path={self.name}')}"
        self.engine = create_engine(self.url)

    def replica_url(self, n: int) -> str:
        """The registry URL of replica n: its connections carry its name, for pg_stat_activity."""
        return f"{self.url}&application_name={APP_PREFIX}{n}"

    def scalar(self, query: str) -> int:
        with self.engine.connect() as conn:
            return conn.execute(text(query)).scalar_one()

    def rows(self, query: str) -> list[tuple]:
        with self.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(query))]

    def drop(self) -> None:
        self.engine.dispose()
        with self.admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {self.name} CASCADE"))
        self.admin.dispose()


class RemoteToken:
    """One `p11-kit server` exporting a SoftHSM token on a UNIX socket, and every replica reaching it through
    p11-kit's client module: the way replicas on several machines share one network HSM (docker/README.md,
    "Running several replicas"). Only the server process loads the token's own library and logs in to it
    once per client connection; the replicas hold no key material and no token files."""

    def __init__(self, token, workdir: Path) -> None:  # noqa: ANN001 - hsm.demo_token.DemoToken
        self.token, self.socket = token, workdir / "p11-kit.sock"
        self.proc: subprocess.Popen | None = None

    @staticmethod
    def client_module() -> str | None:
        found = sorted(glob.glob("/usr/lib/*/pkcs11/p11-kit-client.so"))
        return found[0] if found and shutil.which("p11-kit") else None

    def start(self) -> "RemoteToken":
        cfg = self.token.config
        env = {**os.environ, "SOFTHSM2_CONF": str(cfg.softhsm_conf)}
        self.proc = subprocess.Popen(["p11-kit", "server", "-f", "--provider", cfg.module, "-n", str(self.socket),
                                      f"pkcs11:token={cfg.token_label}"], env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not self.socket.exists():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("p11-kit server did not start")
            time.sleep(0.05)
        return self

    def env(self) -> dict[str, str]:
        """What a replica is given instead of the token's directory (the PIN as the test token's)."""
        cfg = self.token.config
        return {"EDC_PKCS11_MODULE": self.client_module() or "", "EDC_TOKEN_LABEL": cfg.token_label,
                "EDC_PIN": cfg.pin, "P11_KIT_SERVER_ADDRESS": f"unix:path={self.socket}"}

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process and its waited-for children, from /proc (None once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    return sum(int(v) for v in fields[11:15]) / TICKS  # utime, stime, cutime, cstime


def scrape(url: str) -> dict[str, float]:
    """The counters of one replica's /metrics that the lock-wait share is made of, by name{label}."""
    out: dict[str, float] = {}
    body = requests.get(url + "/metrics", timeout=5).text
    wanted = ("edc_worker_busy_seconds", "edc_registry_lock_statement_seconds", "edc_registry_lock_statements",
              "edc_credentials_issued")
    for family in text_string_to_metric_families(body):
        if family.name not in wanted:
            continue
        for sample in family.samples:
            if sample.name.endswith("_total"):
                label = ",".join(f"{v}" for v in sample.labels.values())
                out[f"{family.name}{{{label}}}" if label else family.name] = sample.value
    return out


@dataclass
class Watch:
    """What the watcher thread keeps per replica: its last CPU reading and its last scrape."""

    cpu_start: float = 0.0
    cpu_last: float = 0.0
    metrics_start: dict[str, float] = field(default_factory=dict)
    metrics_last: dict[str, float] = field(default_factory=dict)


class LockSampler:
    """PostgreSQL's own view: how many of the replicas' backends wait on a lock, sampled every `every` s.

    Each sample's waiting backends times the time since the previous sample estimates the seconds
    spent waiting; by wait_event (advisory: the audit chain's lock, transactionid/tuple: row locks).
    """

    def __init__(self, engine: Engine, every: float = 0.05) -> None:
        self.engine, self.every = engine, every
        self.samples = 0
        self.phase = "intake"  # set to "workers" once every event is acknowledged: from then on only they run
        self.waiting_seconds: collections.Counter[tuple[str, str]] = collections.Counter()  # (phase, wait_event)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-lock-sampler", daemon=True)

    def start(self) -> "LockSampler":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        query = text("SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                     "WHERE application_name LIKE :prefix AND pid <> pg_backend_pid()")
        with self.engine.connect() as conn:
            last = time.monotonic()
            while not self._stop.wait(self.every):
                rows = conn.execute(query, {"prefix": APP_PREFIX + "%"}).all()
                conn.rollback()
                now = time.monotonic()
                step, last = now - last, now
                self.samples += 1
                for _state, wait_type, wait_event in rows:
                    if wait_type == "Lock":
                        self.waiting_seconds[(self.phase, wait_event)] += step

    def waited(self, phase: str | None = None) -> float:
        return sum(v for (p, _), v in self.waiting_seconds.items() if phase in (None, p))

    def by_event(self, phase: str | None = None) -> dict[str, float]:
        out: collections.Counter[str] = collections.Counter()
        for (p, event), v in self.waiting_seconds.items():
            if phase in (None, p):
                out[event] += v
        return dict(out)


class Replicas:
    """n replicas of one registry; `burst` sends events, `kill` SIGKILLs one, `stop` ends them all."""

    def __init__(self, workdir: Path, schema: Schema, token_dir: Path, n: int, mail: MailSink, moodle: FakeMoodle,
                 **extra: str) -> None:
        self.schema, self.mail, self.moodle = schema, mail, moodle
        self.sidecars: list[Sidecar] = []
        for i in range(1, n + 1):
            home = workdir / f"replica-{i}"
            home.mkdir(parents=True, exist_ok=True)
            env = sidecar_env(home, token_dir, mail.url, moodle.url, moodle.token,
                              **{"EDC_WORKERS": "2", "EDC_RETRY_BASE_SECONDS": "0.3", "EDC_RETRY_MAX_SECONDS": "2",
                                 **extra, "EDC_DATABASE_URL": schema.replica_url(i)})
            self.sidecars.append(Sidecar(home, free_port(), env))
        self.watch = [Watch() for _ in self.sidecars]
        self.killed: set[int] = set()
        self.acked: dict[str, str] = {}
        self.conflicts: list[str] = []
        self._lock = threading.Lock()
        self._watching = threading.Event()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        """The first replica migrates the registry; the others start on it together."""
        self.sidecars[0].start(timeout=60)
        with ThreadPoolExecutor(len(self.sidecars)) as pool:
            list(pool.map(lambda s: s.start(timeout=60), self.sidecars[1:]))
        response = self.sidecars[0].put_specification(COURSE_ID, pilot_course("data101"))
        assert response.status_code in (200, 201), response.text

    def live(self) -> list[int]:
        return [i for i in range(len(self.sidecars)) if i not in self.killed]

    # --- what each replica did ----------------------------------------------------------------------

    def begin_watching(self, every: float = 0.5) -> None:
        """From now on: CPU and metrics per replica, read every `every` s (a killed one keeps its last)."""
        for i, sidecar in enumerate(self.sidecars):
            self.watch[i].cpu_start = self.watch[i].cpu_last = cpu_seconds(sidecar.proc.pid) or 0.0
            self.watch[i].metrics_start = self.watch[i].metrics_last = scrape(sidecar.url)
        self._watcher = threading.Thread(target=self._watch_loop, args=(every,), name="replica-watch", daemon=True)
        self._watcher.start()

    def _watch_loop(self, every: float) -> None:
        while not self._watching.wait(every):
            self.read_all()

    def read_all(self) -> None:
        for i in self.live():
            sidecar = self.sidecars[i]
            cpu = cpu_seconds(sidecar.proc.pid)
            if cpu is not None and i not in self.killed:
                self.watch[i].cpu_last = cpu
            try:
                if i not in self.killed:
                    self.watch[i].metrics_last = scrape(sidecar.url)
            except requests.RequestException:
                pass

    def end_watching(self) -> None:
        self._watching.set()
        if self._watcher is not None:
            self._watcher.join()
        self.read_all()

    def cpu_spent(self) -> float:
        return sum(w.cpu_last - w.cpu_start for w in self.watch)

    def snapshot(self) -> list[dict[str, float]]:
        """Every replica's counters now (read afresh), to measure a later stretch of the burst from."""
        self.read_all()
        return [dict(w.metrics_last) for w in self.watch]

    def counter(self, prefix: str, labels: tuple[str, ...] = (), since: list[dict[str, float]] | None = None) -> float:
        """A counter's growth since `begin_watching` (or the snapshot `since`), summed over replicas and
        over the label sets that contain one of `labels` (all when empty)."""
        total = 0.0
        for i, w in enumerate(self.watch):
            start = since[i] if since is not None else w.metrics_start
            for name, value in w.metrics_last.items():
                if name.startswith(prefix) and (not labels or any(label in name for label in labels)):
                    total += value - start.get(name, 0.0)
        return total

    def issued_by_replica(self) -> list[float]:
        return [w.metrics_last.get("edc_credentials_issued", 0.0) - w.metrics_start.get("edc_credentials_issued", 0.0)
                for w in self.watch]

    # --- Moodle's side -------------------------------------------------------------------------------

    def send(self, events: list[dict], senders: int = 16, timeout: float = 300.0) -> None:
        """Every event acknowledged by some replica (round-robin, the next one when one fails)."""
        deadline = time.monotonic() + timeout
        local = threading.local()
        turn = itertools.count()

        def one(event: dict) -> None:
            session = getattr(local, "session", None) or requests.Session()
            local.session = session
            start = next(turn)
            for attempt in itertools.count():
                if time.monotonic() > deadline:
                    raise AssertionError(f"event {event['event_id']} never acknowledged")
                sidecar = self.sidecars[(start + attempt) % len(self.sidecars)]
                try:
                    response = sidecar.post_event(event, session, timeout=5)
                except requests.RequestException:
                    session.close()
                    continue
                if response.status_code in (200, 202):
                    issuance = response.json()["issuance_id"]
                    with self._lock:
                        known = self.acked.setdefault(event["event_id"], issuance)
                        if known != issuance:
                            self.conflicts.append(f"{event['event_id']}: {known} then {issuance}")
                    return
                if response.status_code < 500 and response.status_code != 429:
                    raise AssertionError(f"event refused: {response.status_code} {response.text[:300]}")
                time.sleep(0.05)

        with ThreadPoolExecutor(senders) as pool:
            list(pool.map(one, events))

    def kill(self, i: int) -> None:
        """SIGKILL replica i's whole process group (as a crashed container); it is not restarted."""
        self.read_all()
        self.killed.add(i)
        self.sidecars[i].kill()

    def stop(self) -> None:
        for i in self.live():
            self.sidecars[i].stop()

    def logs(self) -> str:
        return "".join(s.log_tail(1500) for s in self.sidecars)

    # --- the registry's view -------------------------------------------------------------------------

    def all_delivered(self, events: int) -> bool:
        sent = self.schema.scalar("SELECT count(*) FROM deliveries WHERE kind = 'issued' AND state = 'sent'")
        delivered = self.schema.scalar("SELECT count(*) FROM issuances WHERE status = 'delivered'")
        return sent >= 2 * events and delivered >= events and len(self.moodle.stored) >= events

    def wait_delivered(self, events: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.all_delivered(events):
                return True
            time.sleep(0.1)
        return self.all_delivered(events)

    def claims_of(self, i: int) -> int:
        """Rows replica i holds right now (issuances it is sealing, deliveries under its lease)."""
        process = self.schema.rows("SELECT id FROM sidecar_processes WHERE pid = "
                                   f"{int(self.sidecars[i].proc.pid)}")
        if not process:
            return 0
        pid = process[0][0].replace("'", "''")
        return (self.schema.scalar(f"SELECT count(*) FROM issuances WHERE status = 'sealing' "
                                   f"AND claimed_by LIKE '{pid}/%'")
                + self.schema.scalar(f"SELECT count(*) FROM deliveries WHERE claimed_by = '{pid}' "
                                     f"AND claimed_until > now()"))

    def outcome(self) -> dict:
        """Duplicates and losses, counted (not asserted), from the registry, the mail sink and Moodle."""
        credentials = self.schema.rows("SELECT issuance_id, id FROM credentials")
        per_issuance = collections.Counter(issuance for issuance, _ in credentials)
        ids = {cid for _, cid in credentials}
        acked = set(self.acked.values())
        handed_over = {cid for (cid,) in self.schema.rows(
            "SELECT credential_id FROM deliveries WHERE channel = 'email' AND last_error LIKE 'handed over%'")}
        missing_mail = ids - set(self.mail.by_credential)
        per_channel = collections.Counter(self.schema.rows(
            "SELECT credential_id, channel FROM deliveries WHERE kind = 'issued'"))
        return {
            "acknowledged": len(self.acked),
            "credentials": len(ids),
            "issued twice": sum(1 for n in per_issuance.values() if n > 1),
            "mailed twice": sum(1 for n in self.mail.by_credential.values() if n > 1),
            "stored in Moodle twice": sum(1 for n in self.moodle.stored.values() if n > 1),
            "two delivery rows": sum(1 for n in per_channel.values() if n > 1),
            "acknowledged, no credential": len(acked - set(per_issuance)),
            "credential nobody sent": len(set(per_issuance) - acked),
            "mail lost": len(missing_mail - handed_over),  # a mail counted sent after a crash is the one allowed
            "mail in the crash window": len(missing_mail & handed_over),
            "not in Moodle": len(ids - set(self.moodle.stored)),
            "left unfinished": self.schema.scalar(
                "SELECT count(*) FROM issuances WHERE status NOT IN ('delivered')")
            + self.schema.scalar("SELECT count(*) FROM deliveries WHERE state <> 'sent'"),
            "intake conflicts": len(self.conflicts),
        }


def duplicates(outcome: dict) -> int:
    return sum(outcome[k] for k in ("issued twice", "mailed twice", "stored in Moodle twice", "two delivery rows",
                                    "intake conflicts"))


def lost(outcome: dict) -> int:
    return sum(outcome[k] for k in ("acknowledged, no credential", "credential nobody sent", "mail lost",
                                    "not in Moodle", "left unfinished"))


def events_for(count: int, offset: int = 0) -> list[dict]:
    return [make_event(offset + n, COURSE_ID) for n in range(count)]
