"""The Flask application factory: one `Context` (settings, registry, seal, channels, metrics) per app.

Everything an endpoint or a worker thread needs hangs off `app.extensions["edc"]`, built once by
bridge/assembly.py (here, or by `edc-bridge serve` before it imports this module), so a test can build a
complete, isolated sidecar from a `Settings` object and nothing else.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import BaseConverter, ValidationError

from bridge.api import credentials, errors, europass, health, intake, learner, openid4vci, programmes, verify
from bridge.api import bulk as bulk_api, status
from bridge.assembly import Background, build_context, start_background
from bridge.edc import inputs
from bridge.registry import Registry
from bridge.settings import Settings
from bridge.worker import Context

log = logging.getLogger("edc.app")


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
               registry: Registry | None = None, context: Context | None = None,
               background: Background | None = None) -> Flask:
    """The sidecar. `seals`, `channels` and `registry` may be passed in (tests); else built from `config`.

    `edc-bridge serve` passes the `context` it built (bridge/assembly.py) and attaches the worker after
    its socket listens (`attach_background`); a test may pass a `background` it started itself.
    """
    settings = context.settings if context is not None else (config or Settings.from_env())
    app = Flask(__name__)
    app.json = InputJSONProvider(app)
    app.url_map.converters["id"] = MoodleIdConverter
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes
    app.config["JSON_SORT_KEYS"] = False
    ctx = context or build_context(settings, seals=seals, channels=channels, registry=registry)
    app.extensions["edc"] = ctx

    errors.install(app)
    for blueprint in (intake.bp, credentials.bp, learner.bp, europass.bp, programmes.bp, health.bp, openid4vci.bp, status.bp,
                      bulk_api.bp):
        app.register_blueprint(blueprint)
    _public_verification(app, settings)

    if background is None and context is None and settings.start_background:
        background = start_background(ctx)
    if background is not None:
        attach_background(app, background)
    return app


def attach_background(app: Flask, background: Background) -> None:
    """The worker (and its processes) that `stop_app` stops with this app."""
    app.extensions["edc_background"] = background
    app.extensions["edc_worker"] = background.worker


def _public_verification(app: Flask, settings: Settings) -> None:
    """POST /api/v1/verify and the web pages (bridge/web), rate-limited per client address."""
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    limiter = Limiter(key_func=get_remote_address, app=app, storage_uri="memory://", default_limits=[],
                      headers_enabled=True)
    app.extensions["edc_limiter"] = limiter
    # Only what is wrapped here is limited; every other request skips the limiter at its first test (it
    # resolved the limits of each one, 0.15 ms of every intake event). The intake never has a per-address
    # limit anyway: every event of a site comes from its Moodle's one address.
    limited: set[str] = set()
    limiter.request_filter(lambda: request.endpoint not in limited)
    # One budget per client address for the API and the page together (a scraper gains nothing by switching).
    shared = limiter.shared_limit(settings.verify_rate_limit, scope="verify", methods=["POST"])

    def limit(endpoint: str, view: Any) -> Any:
        limited.add(endpoint)
        return shared(view)

    app.add_url_rule("/api/v1/verify", "verify_api", limit("verify_api", verify.verify_api), methods=["POST"])
    try:
        from bridge.web import public as web_public
    except ImportError:  # the pages are optional: the API works without them
        return
    web_public.register(app)
    endpoint = "edc_pages.verify"
    if endpoint in app.view_functions:
        app.view_functions[endpoint] = limit(endpoint, app.view_functions[endpoint])


def stop_app(app: Flask) -> None:
    """Stop the worker threads, the scheduler and the worker processes (tests, shutdown)."""
    background = app.extensions.get("edc_background")
    if background is not None:
        background.stop()
