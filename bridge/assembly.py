"""The sidecar's parts, assembled from its `Settings`: registry, seal, checks, channels, trust, worker.

One place builds the `Context` every endpoint and worker thread shares, and starts the worker; nothing
here imports Flask or the web layer. `bridge.app.create_app` builds its app around such a context. The
worker processes of EDC_WORKER_PROCESSES build theirs from here too, so they never import the web pages
(before, they imported Flask and missed the Open Badges schema and the trust anchors). `edc-bridge
serve` starts the worker only once its socket listens (bridge/commands/server.py).

Tried and measured (issue 18, bench/crash_recovery.py): starting the worker before the web layer is
imported brings the first mail after a restart ~0.1 s sooner, but the HTTP intake ~0.2 s later, and in
a burst the intake's downtime is what the senders wait out; the ratio was no better (1.20-1.26 against
1.22-1.31, alternating runs), so the app comes first. Worker *processes* are another matter: they run
on another core, so `serve` spawns them before its own imports and they wait for the migrated registry
(bridge/worker_processes.py); 1.41 -> 1.24 with EDC_WORKER_PROCESSES=1.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bridge.metrics import Metrics
from bridge.registry import Registry
from bridge.settings import Settings, SettingsError
from bridge.status_service import StatusService
from bridge.trusted_lists_source import TrustedListsSource
from bridge.worker import Context, Worker

if TYPE_CHECKING:
    from bridge.worker_processes import Supervisor


def build_channels(settings: Settings) -> dict[str, Any]:
    """The configured delivery channels (a channel is on when its endpoint is configured)."""
    channels: dict[str, Any] = {}
    if settings.smtp_url:
        from bridge.delivery.email import EmailChannel, parse_smtp_url

        channels["email"] = EmailChannel(parse_smtp_url(settings.smtp_url), settings.mail_from)
    if settings.moodle_url:
        from bridge.delivery.moodle import MoodleChannel

        channels["moodle"] = MoodleChannel(settings.moodle_url, settings.moodle_token or "")
    return channels


def build_seal_provider(settings: Settings):
    from hsm.config import TokenConfig
    from hsm.signer import SealProvider

    # A callable, so a corrected PIN file is read again on the next attempt without a restart.
    return SealProvider(lambda: TokenConfig.from_env(dict(settings.token_env)))


def load_trust_anchors(settings: Settings) -> list:
    from bridge.edc import trust
    from hsm.config import default_trust_anchors_file

    path = settings.trust_anchors or default_trust_anchors_file(dict(settings.token_env))
    return trust.load_anchors(path) if path else []


def load_tsa_anchors(settings: Settings) -> list | None:
    """EDC_TSA_TRUST_ANCHORS: the CAs whose time-stamping authorities are believed; None: the seal's anchors."""
    if not settings.tsa_trust_anchors:
        return None
    from bridge.edc import trust

    try:
        return trust.load_anchors(settings.tsa_trust_anchors)
    except (OSError, ValueError) as exc:
        raise SettingsError(f"EDC_TSA_TRUST_ANCHORS names {settings.tsa_trust_anchors}, which is not a readable "
                            f"PEM file ({type(exc).__name__})") from None


def load_schema(settings: Settings):
    if not settings.schema_dir:
        return None
    from bridge.edc.schema_check import EdcSchema

    return EdcSchema(settings.schema_dir)


def load_ob3_schema(settings: Settings):
    """1EdTech's Open Badges 3.0 JSON Schema (EDC_OB3_SCHEMA), compiled once; None when not configured."""
    if not settings.ob3_schema:
        return None
    from bridge.edc.ob3_schema import Ob3Schema

    return Ob3Schema(settings.ob3_schema)


def load_shapes(settings: Settings):
    """The EU's ELM v3 shapes (EDC_SHACL_DIR), parsed once per process; None when not configured."""
    if not settings.shacl_dir:
        return None
    from bridge.edc.shacl_check import ElmShapes

    return ElmShapes.from_dir(settings.shacl_dir, settings.jsonld_context_dir, settings.shacl_check)


def build_context(settings: Settings, *, seals: Any = None, channels: dict[str, Any] | None = None,
                  registry: Registry | None = None) -> Context:
    """Everything an endpoint or a worker thread needs. `seals`, `channels` and `registry` may be passed
    in (tests); else they are built from `settings`."""
    registry = registry or Registry(settings.database_url)
    metrics = Metrics()
    metrics.watch_registry(registry)
    ctx = Context(settings=settings, registry=registry, seals=seals or build_seal_provider(settings),
                  schema=load_schema(settings), shapes=load_shapes(settings), ob3_schema=load_ob3_schema(settings),
                  channels=build_channels(settings) if channels is None else channels,
                  metrics=metrics)
    ctx.trust_anchors = load_trust_anchors(settings)
    ctx.tsa_anchors = load_tsa_anchors(settings)
    ctx.trusted_lists = TrustedListsSource.from_settings(settings)  # EDC_TRUSTED_LISTS; None when not set
    ctx.seal = ctx.seals  # the name the web pages use
    ctx.status = StatusService(ctx)  # GET /status/<uuid>, and how /verify looks a credential's status up
    return ctx


@dataclass
class Background:
    """What runs beside the HTTP server: the worker threads and scheduler, and the worker processes
    (EDC_WORKER_PROCESSES) when configured."""

    worker: Worker
    processes: Supervisor | None = None

    def stop(self) -> None:
        self.worker.stop()
        if self.processes is not None:
            self.processes.stop()


def start_background(ctx: Context, processes: Supervisor | None = None) -> Background:
    """Start the worker (after taking back a crashed predecessor's work) and, if asked, its processes.

    `processes` is a Supervisor started earlier (`edc-bridge serve` starts it first, so its children load
    their libraries while this process does); with EDC_WORKER_PROCESSES and none given, one starts here."""
    if ctx.settings.worker_processes and processes is None:
        from bridge.worker_processes import Supervisor

        processes = Supervisor(ctx.settings)
        processes.start()
    if processes is not None:
        ctx.wake, ctx.deliveries_due = processes.wake, processes.deliveries_due
        processes.registry_ready()  # build_context migrated the registry (serve has said so already)
    worker = Worker(ctx, working=not ctx.settings.worker_processes)  # the scheduler runs here either way
    worker.start()
    return Background(worker, processes)
