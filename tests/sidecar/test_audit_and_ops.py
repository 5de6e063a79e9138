"""Audit chain (verify, tamper detection naming the entry, the CLI), health, readiness and metrics."""
from __future__ import annotations

import dataclasses

from sqlalchemy import delete, select, update

from bridge import worker
from bridge.app import create_app, stop_app
from bridge.cli import main as edc_bridge
from bridge.registry.audit import verify_chain
from bridge.registry.models import AuditEntry
from tests.sidecar.conftest import make_event, pilot_learner, pilot_spec, post_event, put_spec


def _chain(ctx):
    with ctx.registry.sessions() as s:
        return verify_chain(s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars().all())


def _populate(client, ctx):
    put_spec(client, 1, pilot_spec())
    for name in ("ona-jonaite", "liam-obrien", "maria-garcia"):
        post_event(client, make_event(1, pilot_learner(name)))
    worker.drain(ctx)


def test_audit_chain_intact_then_each_tampering_named(client, ctx, settings, capsys):
    _populate(client, ctx)
    verdict = _chain(ctx)
    assert verdict.ok and verdict.entries == 7  # 1 specification + 3 events + 3 credentials
    assert edc_bridge(["audit", "verify", "--database-url", settings.database_url]) == 0
    out = capsys.readouterr().out
    assert "intact: 7 entries" in out
    head = out.split("head ")[1].split()[0]
    assert edc_bridge(["audit", "verify", "--database-url", settings.database_url, "--expect-head", head]) == 0
    wrong = head.split(":")[0] + ":" + "f" * 64
    assert edc_bridge(["audit", "verify", "--database-url", settings.database_url, "--expect-head", wrong]) == 1
    assert "BROKEN at entry 7" in capsys.readouterr().out

    with ctx.registry.transaction() as s:  # someone edits the details of entry 4
        s.execute(update(AuditEntry).where(AuditEntry.seq == 4).values(details='{"forged":true}'))
    verdict = _chain(ctx)
    assert verdict.first_broken == 4 and "changed" in verdict.problem
    assert edc_bridge(["audit", "verify", "--database-url", settings.database_url]) == 1
    assert "BROKEN at entry 4" in capsys.readouterr().out


def test_audit_rewritten_entry_breaks_the_next_link_and_deletion_is_seen(client, ctx):
    _populate(client, ctx)
    from bridge.registry.audit import entry_hash

    with ctx.registry.transaction() as s:  # a careful forger recomputes entry 3's own hash...
        row = s.get(AuditEntry, 3)
        row.actor = "someone-else"
        row.hash = entry_hash(row)
    verdict = _chain(ctx)
    assert verdict.first_broken == 4, verdict  # ...but entry 4 still points at the old one
    with ctx.registry.transaction() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq >= 3))
    assert _chain(ctx).ok  # a cut-off tail is only detectable against a head noted earlier:
    with ctx.registry.sessions() as s:
        cut = verify_chain(s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars().all(), (5, "0" * 64))
    assert cut.first_broken == 5 and "cut off" in cut.problem
    with ctx.registry.transaction() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq == 1))
    verdict = _chain(ctx)
    assert verdict.first_broken == 2 and "removed" in verdict.problem


def test_healthz_readyz_and_metrics(client, ctx):
    assert client.get("/healthz").json == {"status": "alive"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["ready"] is True
    _populate(client, ctx)
    post_event(client, make_event(1, pilot_learner("ona-jonaite")))  # a duplicate
    text = client.get("/metrics").get_data(as_text=True)
    assert 'edc_events_accepted_total{type="course_completed"} 3.0' in text
    assert "edc_events_duplicate_total 1.0" in text
    assert "edc_credentials_issued_total 3.0" in text
    assert "edc_seal_seconds_count 3.0" in text
    assert 'edc_deliveries{channel="email",state="sent"} 3.0' in text
    assert 'edc_issuances{status="delivered"} 3.0' in text


def test_readyz_reports_a_token_that_will_not_log_in(settings, channels, tmp_path):
    from hsm.demo_token import create_demo_token
    from tests.sidecar.conftest import token_env

    # A token of its own: a wrong PIN must not count against the token the other tests share.
    spare = create_demo_token(tmp_path / "spare-token", key_type="ecp256", token_label="edc-spare")
    env = dict(token_env(spare), EDC_PIN="wrong-pin-000")
    app = create_app(dataclasses.replace(settings, token_env=env), channels=channels)
    try:
        r = app.test_client().get("/readyz")
        assert r.status_code == 503
        assert r.json["ready"] is False
        assert r.json["checks"]["registry"]["ok"] is True
        token = r.json["checks"]["token"]
        assert token["ok"] is False and token["error"]
        assert "wrong-pin" not in r.get_data(as_text=True)
    finally:
        stop_app(app)
        app.extensions["edc"].registry.dispose()


def test_an_entry_rolled_back_with_its_savepoint_leaves_no_gap_in_the_chain(ctx):
    from bridge.registry import audit
    from bridge.registry.models import AuditEntry
    from sqlalchemy import select

    with ctx.registry.transaction() as session:
        audit.append(session, "test", "first", "s1")
        savepoint = session.begin_nested()
        audit.append(session, "test", "undone", "s2")
        savepoint.rollback()
        audit.append(session, "test", "second", "s3")
    with ctx.registry.reading() as session:
        entries = session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()
    assert [e.action for e in entries][-2:] == ["first", "second"]
    assert audit.verify_chain(entries).ok
