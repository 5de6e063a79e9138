"""Secrets the sidecar makes once and keeps in the registry, so every replica of one registry has the
same one with nothing to configure.

The one use today is the staff pages' session cookie key when no staff token or identity-provider secret
is configured (local accounts only): a key made at random per process would make a login form served by
one replica fail its check on another behind a load balancer. Whoever can read the registry can read
this key, as they can read the staff sessions themselves; it signs cookies, it seals nothing.
"""
from __future__ import annotations

import secrets

from sqlalchemy import select

from bridge.registry.db import Registry, insert_on_conflict
from bridge.registry.models import SiteSecret

SECRET_BYTES = 32


def shared_secret(registry: Registry, name: str) -> bytes:
    """The secret called `name`, made at random by the first replica that asks for it. Two first askers
    at once both try the insert; the second's is ignored and both return the first's value."""
    with registry.transaction() as session:
        found = session.execute(select(SiteSecret.value).where(SiteSecret.name == name)).scalar_one_or_none()
        if found is not None:
            return bytes(found)
        insert = insert_on_conflict(registry.dialect)
        session.execute(insert(SiteSecret).values(name=name, value=secrets.token_bytes(SECRET_BYTES))
                        .on_conflict_do_nothing(index_elements=["name"]))
        # Ours, or the one whose insert ours waited for (committed, so this statement sees it).
        return bytes(session.execute(select(SiteSecret.value).where(SiteSecret.name == name)).scalar_one())
