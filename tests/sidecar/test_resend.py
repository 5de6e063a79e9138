"""Staff send a delivered credential again: a new message through a real SMTP server, audited, refused where wrong."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from bridge import worker
from bridge.delivery.messages import message_id
from bridge.registry import audit
from bridge.registry.db import Registry
from bridge.registry.models import AuditEntry, Credential, Delivery
from tests.sidecar.conftest import (MAIL_FROM, STAFF_HEADERS, downgraded, make_event, pilot_spec, post_event,
                                   put_spec)

def _issued_email(ctx) -> Delivery:
    with ctx.registry.reading() as s:
        return s.execute(select(Delivery).where(Delivery.channel == "email", Delivery.kind == "issued")).scalar_one()


def _issue_one(app) -> tuple:
    client, ctx = app.test_client(), app.extensions["edc"]
    put_spec(client, 1, pilot_spec())
    post_event(client, make_event())
    assert worker.drain(ctx) == 1
    return client, ctx, _issued_email(ctx)


def test_resend_sends_a_second_mail_with_its_own_message_id_and_is_audited(mailing_app, mail_sink):
    client, ctx, delivery = _issue_one(mailing_app)
    assert delivery.state == "sent" and len(mail_sink.messages) == 1
    answer = client.post(f"/api/v1/deliveries/{delivery.id}/resend", json={"reason": "the learner lost the mail"},
                         headers=STAFF_HEADERS)
    assert answer.status_code == 202, answer.get_data(as_text=True)
    assert answer.json["state"] == "pending" and answer.json["resends"] == 1
    worker.deliver_due(ctx)
    assert len(mail_sink.messages) == 2
    first, second = (message for _, message in mail_sink.messages)
    assert first["Message-ID"] == message_id(delivery.credential_id, "issued", MAIL_FROM)
    assert second["Message-ID"] == message_id(delivery.credential_id, "issued", MAIL_FROM, 1) != first["Message-ID"]
    attached = [[a.get_content() for a in m.iter_attachments()] for m in (first, second)]
    assert attached[0] == attached[1] and len(attached[0]) == 1  # the same sealed bytes
    again = _issued_email(ctx)
    assert again.state == "sent" and again.resends == 1
    with ctx.registry.reading() as s:
        entries = s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()
    resend = [e for e in entries if e.action == "delivery.resend_requested"]
    assert len(resend) == 1 and "the learner lost the mail" in resend[0].details
    assert audit.verify_chain(entries).ok


def test_a_delivery_counted_as_sent_after_a_crash_is_listed_and_can_be_resent(mailing_app, mail_sink):
    client, ctx, delivery = _issue_one(mailing_app)
    with ctx.registry.transaction() as s:  # as if the process died right after handing the mail over
        s.execute(update(Delivery).where(Delivery.id == delivery.id).values(
            state="handed_over", claimed_until=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
    assert worker.recover_handed_over(ctx) == 1
    listed = client.get("/api/v1/deliveries?recovered=1", headers=STAFF_HEADERS).json["items"]
    assert [d["id"] for d in listed] == [delivery.id]
    assert client.get("/api/v1/deliveries?recovered=1&state=pending", headers=STAFF_HEADERS).json["items"] == []
    assert client.post(f"/api/v1/deliveries/{delivery.id}/resend", json={"reason": "not received"},
                       headers=STAFF_HEADERS).status_code == 202
    worker.deliver_due(ctx)
    assert len(mail_sink.messages) == 2 and _issued_email(ctx).state == "sent"
    assert client.get("/api/v1/deliveries?recovered=1", headers=STAFF_HEADERS).json["items"] == []


@pytest.mark.parametrize("reason, words", [("", "required"), ("   ", "required"), ("x" * 501, "at most 500")])
def test_a_missing_or_overlong_reason_is_named(mailing_app, reason, words):
    client, ctx, delivery = _issue_one(mailing_app)
    answer = client.post(f"/api/v1/deliveries/{delivery.id}/resend", json={"reason": reason}, headers=STAFF_HEADERS)
    assert answer.status_code == 400
    assert answer.json["problems"][0]["pointer"] == "/reason" and words in answer.json["problems"][0]["message"]
    assert _issued_email(ctx).state == "sent" and _issued_email(ctx).resends == 0


@pytest.mark.parametrize("body", [b"reason: lost", b"[]", b'{"reason": 5}', b""])
def test_a_body_that_is_not_a_json_object_with_a_reason_is_named(mailing_app, body):
    client, ctx, delivery = _issue_one(mailing_app)
    answer = client.post(f"/api/v1/deliveries/{delivery.id}/resend", data=body,
                         headers={**STAFF_HEADERS, "Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.json["problems"][0]["pointer"] == "/reason"
    assert _issued_email(ctx).resends == 0


def test_refusals_pending_revoked_and_unknown(mailing_app, mail_sink):
    client, ctx, delivery = _issue_one(mailing_app)
    with ctx.registry.transaction() as s:
        s.execute(update(Delivery).where(Delivery.id == delivery.id).values(state="pending"))
    pending = client.post(f"/api/v1/deliveries/{delivery.id}/resend", json={"reason": "x"}, headers=STAFF_HEADERS)
    assert pending.status_code == 409 and "use retry" in pending.json["error"]
    with ctx.registry.transaction() as s:
        s.execute(update(Delivery).where(Delivery.id == delivery.id).values(state="sent"))
    worker.revoke(ctx, delivery.credential_id, "withdrawn", "staff")
    revoked = client.post(f"/api/v1/deliveries/{delivery.id}/resend", json={"reason": "x"}, headers=STAFF_HEADERS)
    assert revoked.status_code == 409 and "revoked" in revoked.json["error"]
    assert client.post("/api/v1/deliveries/424242/resend", json={"reason": "x"},
                       headers=STAFF_HEADERS).status_code == 404
    assert client.post(f"/api/v1/deliveries/{delivery.id}/resend", json={"reason": "x"}).status_code == 401
    sent_before = len(mail_sink.messages)
    worker.deliver_due(ctx)  # only the revocation notice goes out, never the revoked credential again
    sent = [m for _, m in mail_sink.messages[sent_before:]]
    assert [m["Message-ID"] for m in sent] == [message_id(delivery.credential_id, "revoked", MAIL_FROM)]
    assert [list(m.iter_attachments()) for m in sent] == [[]]


def test_the_resends_column_arrives_with_the_migration_on_an_existing_registry(database_url, ctx, client):
    put_spec(client, 1, pilot_spec())
    post_event(client, make_event())
    assert worker.drain(ctx) == 1
    with downgraded(ctx, "0050_links"):  # back to the registry as 0050 left it ...
        pass
    upgraded = Registry(database_url)  # ... and forward again, as a sidecar start does
    try:
        with upgraded.reading() as s:
            rows = s.execute(select(Delivery)).scalars().all()
            assert len(rows) == 2 and {r.resends for r in rows} == {0}
            assert s.execute(select(Credential)).scalar_one().status == "issued"
    finally:
        upgraded.dispose()
