"""Taking back, at once, the work of a sidecar process that died (bridge/registry/liveness.py).

Leases (`requeue_expired_leases`, `recover_handed_over`) stay as the safety net for a process that is
alive but stuck. What a dead process held is handled as its lease running out would handle it, only
without the wait: issuances it was sealing go back to the queue (its late store would be refused by the
lease check, and it is dead anyway); its pending deliveries are due again; a mail it had handed to the
SMTP server is counted as sent (the at-most-once window, tests/reliability/README.md).
"""
from __future__ import annotations

import logging

from sqlalchemy import select, update

from bridge.registry import audit
from bridge.registry.liveness import process_of
from bridge.registry.models import Delivery, Issuance, utcnow
from bridge.worker.context import Context
from bridge.worker.delivering import RECOVERED_NOTE, update_issuances_after_delivery

log = logging.getLogger("edc.worker")


def claimed_owners(ctx: Context) -> set[str]:
    """The processes that hold claims right now (issuances being sealed, deliveries under a lease)."""
    now = utcnow()
    with ctx.registry.reading() as session:
        sealing = session.execute(select(Issuance.claimed_by).where(Issuance.status == "sealing").distinct()).scalars()
        delivering = session.execute(select(Delivery.claimed_by).where(
            Delivery.claimed_by.is_not(None), Delivery.claimed_until > now).distinct()).scalars()
        return {p for p in (process_of(owner) for owner in [*sealing, *delivering]) if p}


def take_back_from_the_dead(ctx: Context) -> int:
    """Everything held by processes whose liveness lock is free, taken back now; the number of rows."""
    dead = ctx.liveness.dead(claimed_owners(ctx)) if ctx.liveness is not None else set()
    return sum(_take_back(ctx, process) for process in sorted(dead))


def _take_back(ctx: Context, process: str) -> int:
    now = utcnow()
    with ctx.registry.transaction() as session:
        issuances = session.execute(
            update(Issuance).where(Issuance.status == "sealing", Issuance.claimed_by.like(f"{process}/%"))
            .values(status="queued", claimed_by=None, claimed_until=None, updated_at=now)).rowcount or 0
        rows = session.execute(select(Delivery).where(Delivery.claimed_by == process, Delivery.claimed_until > now)
                               .order_by(Delivery.id).with_for_update(skip_locked=True)).scalars().all()
        handed_over = []
        for row in rows:
            row.claimed_until = None
            if row.state == "handed_over":
                row.state, row.sent_at, row.last_error = "sent", now, RECOVERED_NOTE
                audit.append(session, "worker", "delivery.sent_after_crash", str(row.id),
                             {"credential": row.credential_id, "channel": row.channel, "process": process})
                if row.kind == "issued":
                    handed_over.append(row.credential_id)
        update_issuances_after_delivery(session, sorted(set(handed_over)))
    if issuances or rows:
        log.warning("took back from %s: %d issuance(s), %d delivery(ies)", process, issuances, len(rows))
        ctx.wake.set()
        ctx.deliveries_due.set()
    return issuances + len(rows)
