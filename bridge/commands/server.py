"""`edc-bridge serve`, `edc-bridge audit verify` and `edc-bridge send-demo-event`.

`serve --demo` is what `make run` starts: the embedded defaults (SQLite registry under var/, the SoftHSM
demo token, a local SMTP sink writing .eml files to var/mail/, the pilot courses loaded for site "demo"
as courses 1..5, a demo intake key and a demo staff token). Only demo secrets are ever printed; real
ones come from the environment and never appear in output or logs.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import signal
import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bridge.worker_processes import Supervisor

REPO_ROOT = Path(__file__).resolve().parents[2]
VAR = REPO_ROOT / "var"
PILOT = REPO_ROOT / "examples" / "pilot"
DEMO_SITE = "demo"
DEMO_KEY_ID = "demo"
DEMO_KEY_FILE = VAR / "demo-intake-key"
DEMO_STAFF_FILE = VAR / "demo-staff-token"
DEMO_SMTP_PORT = 8025
MAIL_DIR = VAR / "mail"


def register(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="run the sidecar (HTTP API, worker threads, scheduler)",
                           description="Run the sidecar with a production WSGI server (waitress). Configured by the "
                           "EDC_* environment names; --demo fills in the embedded defaults.")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    serve.add_argument("--threads", type=int, default=8, help="HTTP request threads (default 8)")
    serve.add_argument("--demo", action="store_true",
                       help="embedded defaults: SQLite registry, SoftHSM demo token, local SMTP sink, pilot courses")
    serve.set_defaults(func=cmd_serve)

    audit = sub.add_parser("audit", help="audit trail tools", description="Audit trail tools.")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = audit_sub.add_parser("verify", help="check the hash chain; names the first broken entry",
                                  description="Walk the audit trail and check every entry's hash and link. "
                                  "Exit 0 when intact, 1 naming the first broken entry.")
    verify.add_argument("--database-url", help="registry URL (default EDC_DATABASE_URL, else the SQLite default)")
    verify.add_argument("--expect-head", metavar="SEQ:HASH",
                        help="an entry noted earlier (printed by a previous run as 'head'); it must still be "
                        "there, which detects entries cut off the end")
    verify.set_defaults(func=cmd_audit_verify)

    demo = sub.add_parser("send-demo-event", help="sign and send one pilot completion event to a running sidecar",
                          description="Sign (HMAC, schemas/intake-auth.md) and POST a course_completed event for a "
                          "pilot learner, so a person can watch the whole flow. Uses the demo intake key by default.")
    demo.add_argument("--url", default="http://127.0.0.1:8080", help="the sidecar's base URL")
    demo.add_argument("--course", type=int, default=1, choices=range(1, 6), metavar="{1..5}",
                      help="demo course id (pilot course in alphabetical order; default 1)")
    demo.add_argument("--learner", default="ona-jonaite",
                      help="pilot learner file name without .json (default ona-jonaite)")
    demo.add_argument("--key-id", default=DEMO_KEY_ID, help="intake key id (default: the demo key)")
    demo.add_argument("--key-file", type=Path, default=DEMO_KEY_FILE,
                      help=f"file holding the intake secret (default {DEMO_KEY_FILE.relative_to(REPO_ROOT)})")
    demo.add_argument("--completed-at", help="completion time, ISO 8601 (default now: a new completion each time)")
    demo.set_defaults(func=cmd_send_demo_event)


# --- serve ---------------------------------------------------------------------------------------


def _secret_file(path: Path) -> str:
    """A demo secret, made once and kept (0600) so restarts keep working with the same key."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(value + "\n")
    return value


def _demo_environment(env: dict[str, str]) -> dict[str, str]:
    """Fill the demo defaults into a copy of the environment (anything set explicitly wins)."""
    env = dict(env)
    from hsm.config import DEMO_INFO_FILE, demo_directory

    demo_dir = demo_directory(env)
    if not (demo_dir / DEMO_INFO_FILE).exists() and not env.get("EDC_PKCS11_MODULE"):
        from hsm.demo_token import create_demo_token

        print(f"creating the SoftHSM demo token in {demo_dir} (as `edc-hsm demo-token` would)")
        create_demo_token(demo_dir)
    if not env.get("EDC_INTAKE_KEYS") and not env.get("EDC_INTAKE_KEYS_FILE"):
        env["EDC_INTAKE_KEYS"] = f"{DEMO_KEY_ID}={_secret_file(DEMO_KEY_FILE)}"
    env.setdefault("EDC_STAFF_TOKEN", _secret_file(DEMO_STAFF_FILE))
    env.setdefault("EDC_SMTP_URL", f"smtp://127.0.0.1:{DEMO_SMTP_PORT}")
    env.setdefault("EDC_MAIL_FROM", "credentials@demo.invalid")
    shared_xsd = REPO_ROOT.parent / "shared" / "reference" / "edc" / "v1_xsd"
    if shared_xsd.exists():
        env.setdefault("EDC_SCHEMA_DIR", str(shared_xsd))
    shared_qdr = REPO_ROOT.parent / "shared" / "reference" / "edc" / "qdr_loq_v3"
    if (shared_qdr / "loq.xsd").exists():  # course exports for Europass checked against loq.xsd
        env.setdefault("EDC_QDR_SCHEMA_DIR", str(shared_qdr))
    shared_ob3 = REPO_ROOT.parent / "shared" / "reference" / "ob3" / "ob_v3p0_achievementcredential_schema.json"
    if shared_ob3.exists():  # every Open Badge checked against 1EdTech's schema before it is signed
        env.setdefault("EDC_OB3_SCHEMA", str(shared_ob3))
    return env


def start_mail_sink(directory: Path, port: int = DEMO_SMTP_PORT) -> Any:
    """A local SMTP server that accepts everything and writes each message to an .eml file."""
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        print("note: aiosmtpd is not installed, so there is no local mail sink; email deliveries will retry")
        return None
    directory.mkdir(parents=True, exist_ok=True)

    class WriteEml:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            name = f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}.eml"
            (directory / name).write_bytes(envelope.original_content or envelope.content)
            return "250 OK stored in the demo mail folder"

    controller = Controller(WriteEml(), hostname="127.0.0.1", port=port, data_size_limit=20 * 1024 * 1024)
    try:
        controller.start()
    except (OSError, RuntimeError) as exc:
        print(f"note: could not start the mail sink on 127.0.0.1:{port} ({exc}); is another one running?")
        return None
    return controller


def load_pilot_courses(registry) -> list[str]:
    """Pilot course descriptions as specifications of site "demo", course ids 1..5 (alphabetical), and the
    pilot programmes (examples/pilot/programmes, by file name) over them."""
    from bridge.intake.specifications import store_specification

    loaded = []
    for course_id, path in enumerate(sorted((PILOT / "courses").glob("*.json")), start=1):
        result = store_specification(registry, DEMO_SITE, course_id, json.loads(path.read_text(encoding="utf-8")),
                                     None, actor="demo")
        loaded.append(f"{course_id}={path.stem}" + ("" if result.valid else " (INVALID)"))
    from bridge.intake.programmes import store_programme

    for path in sorted((PILOT / "programmes").glob("*.json")):  # stacked credentials over those courses
        result = store_programme(registry, DEMO_SITE, path.stem, json.loads(path.read_text(encoding="utf-8")), "demo")
        loaded.append(f"programme {path.stem}" + ("" if result.valid else " (INVALID)"))
    return loaded


def cmd_serve(args: argparse.Namespace) -> int:
    """Start order (issue 18): the socket first, then the worker processes, then the settings and the rest.

    The socket: a port already taken stops here, before any worker runs; and after a crash, Moodle's
    resent events wait in its backlog until the server answers, instead of being refused. The worker
    processes (EDC_WORKER_PROCESSES) next: they parse the settings and load their libraries while this
    process does the same, on another core, and begin once the registry is migrated, which is the first thing done here after
    that (SQLAlchemy and the models only), before the credential stack and the web layer are imported
    (bridge/worker_processes.py). The garbage collector sleeps until all that is done (bridge/startup.py).
    """
    from bridge import startup

    startup.starting()
    level = (os.environ.get("EDC_LOG_LEVEL") or "INFO").upper()
    logging.basicConfig(level=getattr(logging, level, logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not one line per job run
    from bridge.settings import Settings, SettingsError

    env = _demo_environment(dict(os.environ)) if args.demo else dict(os.environ)
    if args.demo and not os.environ.get("EDC_PUBLIC_URL"):  # links in the demo mails point at this server
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
        env["EDC_PUBLIC_URL"] = f"http://{host}:{args.port}"
    try:
        sockets = _bind(args.host, args.port)
    except OSError as exc:
        print(f"edc-bridge serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    processes = _start_worker_processes(env, args.demo)
    try:
        settings = Settings.from_env(env, demo=args.demo)
    except SettingsError as exc:
        print(f"edc-bridge serve: {exc}", file=sys.stderr)
        if processes is not None:
            processes.stop()
        return 2
    sink = start_mail_sink(MAIL_DIR) if args.demo and settings.smtp_url == f"smtp://127.0.0.1:{DEMO_SMTP_PORT}" else None
    try:
        from bridge.registry import Registry

        registry = Registry(settings.database_url)  # migrated here, before the children may touch it
        if processes is not None:
            processes.registry_ready()
        from bridge.app import attach_background, create_app, stop_app
        from bridge.assembly import build_context, start_background

        ctx = build_context(settings, registry=registry)
        app = create_app(context=ctx)
        server = _listen(app, sockets, args)
        startup.started()  # before the worker begins: its first batches must not run uncollected, nor be frozen
        if settings.start_background:
            attach_background(app, start_background(ctx, processes))
    except BaseException:
        for part in (processes, sink):
            if part is not None:
                part.stop()
        raise
    base = f"http://{args.host}:{args.port}"
    print(f"edc-bridge listening on {base}  (registry: {ctx.registry!r}, workers: {settings.workers}, "
          f"channels: {', '.join(settings.channels) or 'none'})")
    if not settings.intake_keys:
        print("warning: no intake keys (EDC_INTAKE_KEYS / EDC_INTAKE_KEYS_FILE): every Moodle request will be refused")
    if args.demo:
        courses = load_pilot_courses(ctx.registry)
        print("DEMO MODE — test token and test CA: nothing issued here is trusted anywhere else.")
        print(f"  pilot courses loaded for site '{DEMO_SITE}': {', '.join(courses)}")
        print(f"  demo intake key: id '{DEMO_KEY_ID}', secret {dict(settings.intake_keys).get(DEMO_KEY_ID, '(from your env)')}"
              f"  (kept in {DEMO_KEY_FILE})")
        print(f"  demo staff token: {settings.staff_token}  (kept in {DEMO_STAFF_FILE}; log in at {base}/staff/)")
        if sink is not None:
            print(f"  mail sink: smtp://127.0.0.1:{DEMO_SMTP_PORT} -> {MAIL_DIR}/*.eml")
        print("  send a completion:   .venv/bin/edc-bridge send-demo-event --course 1")
        print(f"  then look at:        {base}/api/v1/credentials (Authorization: Bearer <staff token>), "
              f"{MAIL_DIR}/, {base}/verify, {base}/metrics, {base}/readyz")
    sys.stdout.flush()
    stopping = {"done": False}

    def _stop(*_):
        if not stopping["done"]:
            stopping["done"] = True
            stop_app(app)
            if sink is not None:
                sink.stop()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _stop)
    try:
        from hsm.signer import refresh_on_sighup

        refresh_on_sighup(ctx.seals)  # `kill -HUP` after `edc-hsm activate` switches seals at once
    except ImportError:
        pass
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        if not stopping["done"]:
            stopping["done"] = True
            stop_app(app)
            if sink is not None:
                sink.stop()
    return 0


def _start_worker_processes(env: dict[str, str], demo: bool) -> Supervisor | None:
    """The Supervisor of EDC_WORKER_PROCESSES, started before the settings are parsed (the children parse
    them too, while this process does); None when there are none or the variable is wrong (reported next)."""
    from bridge.settings import Settings, SettingsError

    try:
        if not Settings.worker_processes_in(env):
            return None
    except SettingsError:
        return None
    from bridge.worker_processes import FromEnvironment, Supervisor

    processes = Supervisor(FromEnvironment(env, demo))
    processes.start()
    return processes


def _bind(host: str, port: int) -> list[socket.socket]:
    """Listening sockets on every address `host` names (as waitress would bind them), made before anything
    else starts; OSError when the port is taken or the host unknown."""
    sockets: list[socket.socket] = []
    try:
        for family, _, _, _, address in dict.fromkeys(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                                         flags=socket.AI_PASSIVE)):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)  # "::" and "0.0.0.0" apart, as waitress
            sock.bind(address)
            sock.listen(1024)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _listen(app: Any, sockets: list[socket.socket], args: argparse.Namespace) -> Any:
    """The waitress server on the sockets `_bind` made; it serves once `run()` is called."""
    import waitress

    proxy = os.environ.get("EDC_TRUSTED_PROXY")  # behind a reverse proxy: the rate limit needs client addresses
    options = dict(trusted_proxy=proxy, trusted_proxy_count=1,
                   trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"}) if proxy else {}
    return waitress.create_server(app, sockets=sockets, threads=args.threads, ident="edc-bridge",
                                  clear_untrusted_proxy_headers=True, **options)


# --- audit verify --------------------------------------------------------------------------------


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from bridge.registry import Registry
    from bridge.registry.audit import link_all, verify_chain
    from bridge.registry.models import AuditEntry
    from bridge.settings import Settings

    expect = None
    if args.expect_head:
        seq, _, digest = args.expect_head.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            print("edc-bridge: --expect-head must be SEQ:HASH as printed by an earlier run", file=sys.stderr)
            return 2
        expect = (int(seq), digest)
    url = args.database_url or Settings.from_env().database_url
    registry = Registry(url)
    if registry.dialect == "postgresql":
        link_all(registry.engine)  # entries committed a moment ago and not linked yet (bridge/registry/audit.py)
    with registry.reading() as session:
        rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=1000)).scalars()
        verdict = verify_chain(rows, expect)
    registry.dispose()
    if verdict.ok:
        print(f"audit trail intact: {verdict.entries} entries; head {verdict.entries}:{verdict.head} "
              "(note it to detect a cut-off tail later with --expect-head)")
        return 0
    print(f"audit trail BROKEN at entry {verdict.first_broken}: {verdict.problem}")
    return 1


# --- send-demo-event -----------------------------------------------------------------------------


def demo_event(course: int, learner: dict, completed_at: str) -> dict:
    courses = sorted((PILOT / "courses").glob("*.json"))
    spec = json.loads(courses[course - 1].read_text(encoding="utf-8"))
    title = spec.get("title", {})
    moment = int(time.time())
    return {
        "event_id": f"{DEMO_SITE}:course_completed:{course}:{learner['id']}:{moment}",
        "type": "course_completed",
        "site": {"id": DEMO_SITE, "url": "https://moodle.demo.invalid"},
        "course": {"id": course, "shortname": spec.get("code") or courses[course - 1].stem.upper(),
                   "fullname": title.get("en") or next(iter(title.values()), "")},
        "learner": learner,
        "completed_at": completed_at,
        "requested_by": None,
    }


def cmd_send_demo_event(args: argparse.Namespace) -> int:
    import datetime as dt

    import requests

    from bridge.intake.auth import signed_headers

    learner_file = PILOT / "learners" / f"{args.learner}.json"
    if not learner_file.exists():
        names = ", ".join(p.stem for p in sorted((PILOT / "learners").glob("*.json")))
        print(f"edc-bridge: no pilot learner {args.learner!r}; choose one of: {names}", file=sys.stderr)
        return 2
    try:
        secret = args.key_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        print(f"edc-bridge: cannot read the intake key file {args.key_file}: {exc.strerror} "
              "(start the demo with `make run` first)", file=sys.stderr)
        return 2
    completed = args.completed_at or dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace(
        "+00:00", "Z")
    event = demo_event(args.course, json.loads(learner_file.read_text(encoding="utf-8")), completed)
    body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    path = "/api/v1/events"
    headers = signed_headers(args.key_id, secret, "POST", path, body)
    headers["Content-Type"] = "application/json"
    try:
        answer = requests.post(args.url.rstrip("/") + path, data=body, headers=headers, timeout=30)
    except requests.RequestException as exc:
        print(f"edc-bridge: the sidecar at {args.url} did not answer: {exc}", file=sys.stderr)
        return 1
    print(f"HTTP {answer.status_code}: {answer.text.strip()}")
    if answer.status_code == 202:
        print(f"sent course {args.course} completion for {event['learner']['given_names']} "
              f"{event['learner']['family_name']}; the credential is sealed and mailed within seconds "
              f"(see var/mail/ in demo mode)")
        return 0
    return 1
