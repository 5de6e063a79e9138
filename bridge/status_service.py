"""The sidecar's public status resource: a sealed statement per credential, and how its own verifier
looks statements up (bridge/edc/status.py says what a statement is and how it is judged).

`GET /status/<uuid>` (bridge/api/status.py) answers from the registry: active, or revoked with the date
and the reason's category, and the credential that superseded it. Statements are sealed on the HSM and
kept for `MAX_AGE_SECONDS` (what Cache-Control lets a verifier keep it too), so a busy verifier costs
a registry read, not a signature, and a revocation shows within that time.

When the sidecar verifies a credential that names one of its own status URLs, it answers itself from
the same code (no HTTP request to itself); any other URL is fetched over the network, in bounded time.
"""
from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import select

from bridge.edc import status
from bridge.registry.models import Credential, Revocation

CREDENTIAL_PREFIX = "urn:credential:"


class StatusService:
    """Sealed statements of this sidecar's credentials, made on demand and kept for a while."""

    def __init__(self, ctx: Any, max_age: float = status.MAX_AGE_SECONDS) -> None:
        self.ctx = ctx
        self.max_age = max_age
        self._kept: dict[str, tuple[tuple, float, bytes]] = {}  # credential id -> (standing key, when, sealed)
        self._lock = threading.Lock()

    def base_url(self) -> str:
        return f"{self.ctx.settings.public_url.rstrip('/')}/status/"

    def standing(self, credential_id: str) -> status.Standing | None:
        """What the registry knows of the credential (None: not ours)."""
        with self.ctx.registry.reading() as session:
            row = session.get(Credential, credential_id)
            if row is None:
                return None
            revocation = session.execute(select(Revocation).where(Revocation.credential_id == credential_id)
                                         ).scalar_one_or_none()
            return status.Standing(credential_id, revocation.revoked_at if revocation else None,
                                   revocation.category if revocation else None, row.superseded_by)

    def statement(self, uuid: str) -> bytes | None:
        """The sealed statement about urn:credential:<uuid>; None when the registry does not know it."""
        credential_id = CREDENTIAL_PREFIX + uuid
        standing = self.standing(credential_id)
        if standing is None:
            return None
        now = time.monotonic()
        with self._lock:
            kept = self._kept.get(credential_id)
            if kept is not None and kept[0] == standing.key and now - kept[1] < self.max_age:
                return kept[2]
        sealed = status.sealed_statement(standing, self.ctx.seals.current())
        with self._lock:
            if len(self._kept) > 10_000:
                self._kept.clear()
            self._kept[credential_id] = (standing.key, now, sealed)
        return sealed

    def fetch(self, url: str) -> bytes:
        """The verifier's fetch: our own statements from here, anyone else's over the network."""
        if url.startswith(self.base_url()):
            sealed = self.statement(url[len(self.base_url()):].split("?", 1)[0])
            if sealed is None:
                raise LookupError("this issuer's registry does not know the credential")
            return sealed
        return status.http_fetch(url)

    def lookup(self) -> status.Lookup:
        return status.Lookup(fetch=self.fetch)
