"""A sidecar app served over real HTTP on 127.0.0.1, for tests whose client is another program.

The Node wallet, Chromium and the status-list fetchers reach the sidecar through a socket, not
Flask's test client, so their tests serve the app with werkzeug on loopback. Stopping it also stops
the app's background work and closes the registry, so no test leaves a thread or a connection behind.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import make_server

from bridge.app import stop_app


@contextmanager
def served_on_loopback(app: Flask, port: int = 0) -> Iterator[str]:
    """Serve `app` on 127.0.0.1:`port` (0: any free port) until the block ends; yields its base URL."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="loopback-sidecar", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        stop_app(app)
        app.extensions["edc"].registry.dispose()
