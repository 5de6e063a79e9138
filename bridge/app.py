"""The Flask application factory: one `Context` (settings, registry, seal, channels, metrics) per app.

Everything an endpoint or a worker thread needs hangs off `app.extensions["edc"]`, built here once,
so a test can build a complete, isolated sidecar from a `Settings` object and nothing else.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import BaseConverter, ValidationError

from bridge.api import credentials, errors, europass, health, intake, learner, openid4vci, programmes, verify
from bridge.edc import inputs
from bridge.metrics import Metrics
from bridge.api import bulk as bulk_api, status
from bridge.registry import Registry
from bridge.status_service import StatusService
from bridge.settings import Settings, SettingsError
from bridge.trusted_lists_source import TrustedListsSource
from bridge.worker import Context, Worker

log = logging.getLogger("edc.app")


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


class InputJSONProvider(DefaultJSONProvider):
    """Every JSON body any endpoint reads goes through the one input rule (bridge/edc/inputs.py): a body
    nested 100,000 deep or holding a lone surrogate is a 400, never a RecursionError or a failed write."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return inputs.parse_json(s)  # InputError is a ValueError: request.get_json reports it as bad JSON


class MoodleIdConverter(BaseConverter):
    """`<id:name>` in a route: an id a 64-bit column holds, in ASCII digits (Werkzeug's `int` matches any
    Unicode digit, "٣" included, and any size)."""

    regex = r"[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        try:
            return inputs.moodle_id(value, "")
        except inputs.InputError:
            raise ValidationError() from None

    def to_url(self, value: Any) -> str:
        return str(int(value))


def create_app(config: Settings | None = None, *, seals: Any = None, channels: dict[str, Any] | None = None,
               registry: Registry | None = None) -> Flask:
    """The sidecar. `seals`, `channels` and `registry` may be passed in (tests); else built from `config`."""
    settings = config or Settings.from_env()
    app = Flask(__name__)
    app.json = InputJSONProvider(app)
    app.url_map.converters["id"] = MoodleIdConverter
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes
    app.config["JSON_SORT_KEYS"] = False
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
    app.extensions["edc"] = ctx

    errors.install(app)
    for blueprint in (intake.bp, credentials.bp, learner.bp, europass.bp, programmes.bp, health.bp, openid4vci.bp, status.bp,
                      bulk_api.bp):
        app.register_blueprint(blueprint)
    _public_verification(app, settings)

    if settings.start_background:
        if settings.worker_processes:
            from bridge.worker_processes import Supervisor, shared_events

            ctx.wake, ctx.deliveries_due = shared_events()
            supervisor = Supervisor(settings, ctx.wake, ctx.deliveries_due)
            supervisor.start()
            app.extensions["edc_worker_processes"] = supervisor
        runner = Worker(ctx, working=not settings.worker_processes)  # the scheduler runs here either way
        runner.start()
        app.extensions["edc_worker"] = runner
    return app


def _public_verification(app: Flask, settings: Settings) -> None:
    """POST /api/v1/verify and the web pages (bridge/web), rate-limited per client address."""
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    limiter = Limiter(key_func=get_remote_address, app=app, storage_uri="memory://", default_limits=[],
                      headers_enabled=True)
    app.extensions["edc_limiter"] = limiter
    # One budget per client address for the API and the page together (a scraper gains nothing by switching).
    shared = limiter.shared_limit(settings.verify_rate_limit, scope="verify", methods=["POST"])
    app.add_url_rule("/api/v1/verify", "verify_api", shared(verify.verify_api), methods=["POST"])
    try:
        from bridge.web import public as web_public
    except ImportError:  # the pages are optional: the API works without them
        return
    web_public.register(app)
    endpoint = "edc_pages.verify"
    if endpoint in app.view_functions:
        app.view_functions[endpoint] = shared(app.view_functions[endpoint])


def stop_app(app: Flask) -> None:
    """Stop the worker threads and the scheduler (tests, shutdown)."""
    runner = app.extensions.get("edc_worker")
    if runner is not None:
        runner.stop()
    supervisor = app.extensions.get("edc_worker_processes")
    if supervisor is not None:
        supervisor.stop()
