"""How much a crash costs a burst: the same burst with and without SIGKILLs, in one run (issue 18).

    .venv/bin/python bench/crash_recovery.py                       # 2,000 events, 16 senders, 5 kills, SQLite
    .venv/bin/python bench/crash_recovery.py --events 600 --kills 5 --database-url postgresql+psycopg://...
    .venv/bin/python bench/crash_recovery.py --rounds 3                            # the median of 3 ratios

A real `edc-bridge serve` (the P-256 SoftHSM test token, the default lease of 120 s) takes a burst of
signed completion events from N senders that resend until acknowledged, as the plugin does; a real SMTP
server and a Moodle-like server receive the credentials. The second run SIGKILLs the sidecar's whole
process group K times (spread over intake and delivery) and restarts it at once. Printed: the time from
the first event until every credential is mailed and stored in Moodle, for both runs, and their ratio;
and whether anything was lost or sent twice. The goal is a ratio of at most 1.15: a process that dies
must not leave its work waiting out its lease (bridge/registry/liveness.py).

Where a kill's cost goes (measured, issue 18): the in-flight work taken back is small (at most a
batch per thread) and the WAL stays small, so with the lease out of the way a kill costs about one
restart, kill to /healthz; that restart is almost all Python importing the sidecar. Printed for each
kill: the restart, and the time until the next mail reached the sink (delivery standing still). The
bench first byte-compiles bridge/ and hsm/, as installing the sidecar does: in a work tree whose sources changed
since their last run, with PYTHONDONTWRITEBYTECODE set, every restart would compile those modules
again (0.1 s here), which no installed sidecar does.
"""
from __future__ import annotations

import argparse
import compileall
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import requests  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from delivery.sinks import FakeMoodle, MailSink, free_port  # noqa: E402
from hsm.demo_token import create_demo_token  # noqa: E402
from reliability.harness import Sidecar, make_event, pilot_course, sidecar_env  # noqa: E402

COURSE_ID = 12


def send_until_acked(sidecar: Sidecar, event: dict, deadline: float, local: threading.local) -> None:
    session = getattr(local, "session", None) or requests.Session()
    local.session = session
    while time.monotonic() < deadline:
        try:
            if sidecar.post_event(event, session, timeout=5).status_code in (200, 202):
                return
        except requests.RequestException:
            session.close()
        time.sleep(0.05)
    raise SystemExit(f"event {event['event_id']} was never acknowledged")


def all_sent(registry, events: int) -> bool:
    """The registry's own view: every event has its credential delivered on both channels."""
    with registry.connect() as conn:
        sent = conn.execute(text("SELECT count(*) FROM deliveries WHERE state = 'sent'")).scalar_one()
        delivered = conn.execute(text("SELECT count(*) FROM issuances WHERE status = 'delivered'")).scalar_one()
    return sent >= 2 * events and delivered >= events


def counted_after_crash(registry) -> int:
    """Mails the registry counts as sent because a crash hit between hand-over and the server's answer."""
    with registry.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM deliveries WHERE last_error LIKE 'handed over before a crash%'")
                            ).scalar_one()


def first_mail_after(mail: MailSink, killed_at: list[float]) -> list[float]:
    """Seconds from each kill until the sink received the next mail: how long delivery stood still."""
    received = sorted(record.received_at for record in mail.records)
    gaps = []
    for kill in killed_at:
        later = [t for t in received if t > kill]
        gaps.append(later[0] - kill if later else float("nan"))
    return gaps


def fresh_schema(url: str) -> str:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with create_engine(url, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def burst(workdir: Path, token_dir: Path, args: argparse.Namespace, kills: int) -> dict:
    mail, moodle = MailSink(keep_messages=False).start(), FakeMoodle().start()
    extra = {"EDC_WORKERS": "2", "EDC_RETRY_BASE_SECONDS": "0.3", "EDC_RETRY_MAX_SECONDS": "2",
             "EDC_WORKER_PROCESSES": str(args.processes)}
    if args.database_url:
        extra["EDC_DATABASE_URL"] = fresh_schema(args.database_url)
    sidecar = Sidecar(workdir, free_port(), sidecar_env(workdir, token_dir, mail.url, moodle.url, moodle.token,
                                                         **extra))
    sidecar.start()
    try:
        assert sidecar.put_specification(COURSE_ID, pilot_course("data101")).status_code in (200, 201)
        events = [make_event(n, COURSE_ID) for n in range(args.events)]
        done = threading.Event()
        shares = [(i + 1) / (kills + 1) for i in range(kills)]  # kills spread over the mails sent
        restarts: list[float] = []  # seconds from a kill until the new process answers /healthz
        killed_at: list[float] = []  # wall-clock times of the kills, against the mail sink's receipt times

        def killer() -> None:
            for share in shares:
                while len(mail.records) < share * args.events:
                    if done.wait(0.05):
                        return
                sidecar.kill()
                killed_at.append(time.time())
                began = time.monotonic()
                sidecar.start()
                restarts.append(time.monotonic() - began)

        chaos = threading.Thread(target=killer)
        started = time.monotonic()
        chaos.start()
        local = threading.local()
        with ThreadPoolExecutor(args.senders) as pool:
            list(pool.map(lambda e: send_until_acked(sidecar, e, started + args.timeout, local), events))
        acked = time.monotonic() - started
        registry = create_engine(sidecar.env["EDC_DATABASE_URL"])
        while not all_sent(registry, args.events) and time.monotonic() - started < args.timeout:
            time.sleep(0.1)
        finished = time.monotonic() - started
        done.set()
        chaos.join()
        time.sleep(1)  # a mail in flight at the end would show up now
        return {"kills": sidecar.kills, "acked_s": acked, "finished_s": finished,
                "mailed": len(mail.by_credential), "twice": sum(1 for n in mail.by_credential.values() if n > 1),
                "moodle": len(moodle.stored), "counted_after_crash": counted_after_crash(registry),
                "restarts": restarts, "first_mail": first_mail_after(mail, killed_at)}
    finally:
        sidecar.stop()
        mail.stop()
        moodle.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--database-url", help="a PostgreSQL URL (a fresh schema per run); default SQLite")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--rounds", type=int, default=1,
                        help="run both bursts this many times and print the median ratio (one run varies by ~0.1)")
    parser.add_argument("--processes", type=int, default=0,
                        help="EDC_WORKER_PROCESSES for the sidecar (default 0: worker threads in the server process)")
    args = parser.parse_args()
    for package in ("bridge", "hsm"):  # the bytecode an installed sidecar has (see the docstring)
        compileall.compile_dir(str(REPO / package), quiet=1)
    ratios, complete = [], True
    with tempfile.TemporaryDirectory() as tmp:
        token = create_demo_token(Path(tmp) / "token", key_type="ecp256", token_label="edc-bench")
        for round_ in range(1, args.rounds + 1):
            results = {}
            for name, kills in (("no kills", 0), (f"{args.kills} kills", args.kills)):
                workdir = Path(tmp) / f"{round_}-{name.replace(' ', '-')}"
                workdir.mkdir()
                results[name] = burst(workdir, token.directory, args, kills)
            ratio, whole = report(results, args)
            ratios.append(ratio)
            complete = complete and whole
    if args.rounds > 1:
        print(f"ratios of {args.rounds} rounds: {', '.join(f'{r:.2f}' for r in ratios)}; "
              f"median {statistics.median(ratios):.2f} (goal <= 1.15)")
    sys.exit(0 if complete else 1)


def report(results: dict[str, dict], args: argparse.Namespace) -> tuple[float, bool]:
    """Print one round (both bursts); its ratio, and whether nothing was lost or sent twice."""
    for name, r in results.items():
        print(f"{name:>9}: {r['kills']} kills, acknowledged in {r['acked_s']:.1f} s, all delivered after "
              f"{r['finished_s']:.1f} s; {r['mailed']} mailed ({r['twice']} twice), {r['moodle']} in Moodle, "
              f"{r['counted_after_crash']} counted sent after a crash"
              + (f"; restarts took {', '.join(f'{t:.1f}' for t in r['restarts'])} s" if r["restarts"] else "")
              + (f"; kill to the next mail {', '.join(f'{t:.2f}' for t in r['first_mail'])} s" if r["first_mail"] else ""))
    plain, killed = results["no kills"], results[f"{args.kills} kills"]
    ratio = killed["finished_s"] / plain["finished_s"]
    print(f"ratio with kills / without: {ratio:.2f} (goal <= 1.15)")
    # A mail counted sent after a crash may be missing (the documented at-most-once window); none may be twice.
    complete = all(r["moodle"] == args.events and r["twice"] == 0
                   and args.events - r["counted_after_crash"] <= r["mailed"] <= args.events for r in results.values())
    in_window = sum(args.events - r["mailed"] for r in results.values())
    print(("nothing lost, nothing twice" + (f" ({in_window} mails in the at-most-once window: handed to the "
                                            "SMTP server as it was killed, counted sent, not seen by the sink)"
                                            if in_window else ""))
          if complete else "LOST OR DUPLICATED WORK")
    return ratio, complete


if __name__ == "__main__":
    main()
