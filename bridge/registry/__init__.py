"""The registry: the sidecar's durable memory (inbox, specifications, credentials, deliveries, audit).

`Registry` (in db.py) is the one handle the rest of the service holds; the tables are in models.py,
the hash-chained audit trail in audit.py, and how sealed documents are packed in compression.py.
"""
from bridge.registry.db import Registry

__all__ = ["Registry"]
