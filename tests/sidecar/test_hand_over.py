"""A mail the SMTP server refuses at the final "." is pending again at once, not only when the batch's
outcomes are written: a crash in between must not count a refused mail as sent (bridge/worker/delivering.py)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from bridge import worker
from bridge.registry.models import Delivery
from bridge.worker import delivering
from tests.sidecar.conftest import make_event, pilot_spec, post_event, put_spec


def _email_row(ctx) -> Delivery:
    with ctx.registry.reading() as session:
        return session.execute(select(Delivery).where(Delivery.channel == "email")).scalar_one()


def _issued(app):
    client, ctx = app.test_client(), app.extensions["edc"]
    put_spec(client, 1, pilot_spec())
    post_event(client, make_event())
    assert worker.process_issuances(ctx, worker.claim_issuances(ctx, "w/0", 1), "w/0")
    return ctx


def _sent_but_not_recorded(ctx) -> list:
    """What a delivery thread has done when it dies before the batch's outcomes are written."""
    claimed = delivering._claim_deliveries(ctx, 16, None)
    return delivering._attempt_all(ctx, claimed)


def _as_after_a_crash(ctx) -> int:
    """The dead process's lease is over: the recovery job runs, as at the next start."""
    with ctx.registry.transaction() as session:
        session.execute(update(Delivery).values(claimed_until=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
    return worker.recover_handed_over(ctx)


def test_a_mail_refused_at_the_final_dot_is_pending_before_the_outcomes_are_written(mailing_app, mail_sink):
    ctx = _issued(mailing_app)
    mail_sink.refuse_data = "554 5.7.1 message refused by the content filter"
    results = dict(_sent_but_not_recorded(ctx))
    row = _email_row(ctx)
    assert results[row.id] is not None and "554" in str(results[row.id])
    assert row.state == "pending"  # not 'handed_over': the server answered, and it said no
    assert _as_after_a_crash(ctx) == 0  # nothing is counted as sent
    mail_sink.refuse_data = None
    worker.deliver_due(ctx)
    assert _email_row(ctx).state == "sent" and mail_sink.by_credential[row.credential_id] == 1


def test_a_mail_accepted_but_not_yet_recorded_is_counted_sent_after_a_crash_and_not_sent_again(mailing_app, mail_sink):
    ctx = _issued(mailing_app)
    results = dict(_sent_but_not_recorded(ctx))
    row = _email_row(ctx)
    assert results[row.id] is None and row.state == "handed_over"
    assert _as_after_a_crash(ctx) == 1
    worker.deliver_due(ctx)
    assert _email_row(ctx).state == "sent" and mail_sink.by_credential[row.credential_id] == 1
