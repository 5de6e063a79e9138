"""The scheduled jobs that keep stored credentials verifiable (bridge/worker/upkeep.py), on SQLite and
PostgreSQL, against the loopback OpenSSL TSA: a time-stamp left pending while the TSA was down is
added later; at B-LTA a new archive time-stamp is added before the newest TSA certificate expires;
each earlier version stays byte-exact in the registry, the learner's copy keeps verifying, a
re-download gets the newest.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from bridge import worker
from bridge.edc import formats, ltv
from bridge.edc.verifier import verify_credential
from bridge.registry import Registry, documents
from bridge.registry.models import Base, Credential, DocumentVersion
from bridge.worker import upkeep
from tests.sidecar.conftest import STAFF_HEADERS, downgraded, make_event, pilot_spec, post_event, put_spec

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ltv"))
from ltv_pki import LoopbackTSA, TestCA, closed_port_url  # noqa: E402

NOW = dt.datetime.now(dt.timezone.utc)


@pytest.fixture
def token_ca(ec_token):
    """The token's TEST CA, which also certifies the TSAs and signs the CRL a B-LT seal embeds."""
    return TestCA(key=ec_token.ca_key, cert=ec_token.ca_cert)


@pytest.fixture
def short_tsa(token_ca):
    server = LoopbackTSA(token_ca, days=60)
    yield server
    server.close()


@pytest.fixture
def long_tsa(token_ca):
    server = LoopbackTSA(token_ca, days=3000)
    yield server
    server.close()


def _issue_one(client, ctx, formats_asked: list[str] | None = None) -> str:
    spec = pilot_spec("data101")
    if formats_asked:
        spec["format"] = formats_asked
    put_spec(client, 1, spec)
    post_event(client, make_event(1))
    assert worker.drain(ctx) == 1
    return client.get("/api/v1/credentials", headers=STAFF_HEADERS).json["items"][0]["id"]


def _download(client, cid) -> bytes:
    return client.get(f"/api/v1/credentials/{cid}.xml", headers=STAFF_HEADERS).data


def _row(ctx, cid) -> Credential:
    with ctx.registry.reading() as session:
        return session.get(Credential, cid)


def _versions(ctx, cid) -> list[bytes]:
    with ctx.registry.reading() as session:
        return [documents.read_version(session, ctx.registry.dictionaries, v) for v in documents.held_versions(session, cid)]


def test_a_time_stamp_left_pending_while_the_tsa_was_down_is_added_by_the_job(client, ctx, ec_token, token_ca,
                                                                              long_tsa):
    ctx.revocation_source = ltv.StaticRevocationSource(crls=[token_ca.crl(days=30)])
    ctx.seal_level = ltv.SealLevelSettings("B-LT", ltv.TsaClient(closed_port_url(), timeout=2), "seal-then-stamp")
    cid = _issue_one(client, ctx)
    sent = _download(client, cid)  # what the learner got: sealed at B-B
    assert _row(ctx, cid).timestamp_pending is True
    assert upkeep.complete_pending(ctx) == 0  # the TSA is still down: nothing changes
    assert _download(client, cid) == sent

    ctx.seal_level = ltv.SealLevelSettings("B-LT", ltv.TsaClient(long_tsa.url, timeout=5), "seal-then-stamp")
    assert upkeep.complete_pending(ctx) == 1
    assert upkeep.complete_pending(ctx) == 0  # done once
    row = _row(ctx, cid)
    assert row.timestamp_pending is False and row.document_version == 2
    assert row.proof_expires_at == long_tsa.cert.not_valid_after_utc
    newest = _download(client, cid)
    assert newest != sent and _versions(ctx, cid) == [sent]  # the first version, byte-exact
    anchors = [ec_token.ca_cert]
    assert verify_credential(newest, trust_anchors=anchors).level == "B-LT"
    assert verify_credential(newest, trust_anchors=anchors).valid
    assert verify_credential(sent, trust_anchors=anchors).valid  # the learner's copy is still good
    for copy in (sent, newest):  # both are copies this issuer holds
        assert client.post("/api/v1/verify", data=copy, content_type="application/xml").json["registry"][
            "sha256_matches"] is True


def test_b_lta_credentials_get_a_new_archive_time_stamp_before_the_tsa_certificate_expires(
        client, ctx, ec_token, token_ca, short_tsa, long_tsa):
    ctx.revocation_source = ltv.StaticRevocationSource(crls=[token_ca.crl(days=30)])
    ctx.seal_level = ltv.SealLevelSettings("B-LTA", ltv.TsaClient(short_tsa.url, timeout=5))
    cid = _issue_one(client, ctx)
    sent = _download(client, cid)
    assert _row(ctx, cid).proof_expires_at == short_tsa.cert.not_valid_after_utc
    ctx.settings = dataclasses.replace(ctx.settings, archive_renewal_days=30)  # EDC_ARCHIVE_RENEWAL_DAYS
    ctx.seal_level = ltv.SealLevelSettings("B-LTA", ltv.TsaClient(long_tsa.url, timeout=5))
    assert upkeep.renew_archives(ctx, now=NOW) == 0  # 60 days left, more than the 30 of the horizon
    assert _row(ctx, cid).document_version == 1
    month_later = NOW + dt.timedelta(days=31)  # 29 days left: due
    assert upkeep.renew_archives(ctx, now=month_later) == 1
    assert upkeep.renew_archives(ctx, now=month_later) == 0  # the new proof lasts
    row = _row(ctx, cid)
    assert row.document_version == 2 and row.proof_expires_at == long_tsa.cert.not_valid_after_utc
    renewed = _download(client, cid)
    assert len(formats.long_term(renewed).archive_timestamps()) == 2 and _versions(ctx, cid) == [sent]
    with ctx.registry.reading() as session:
        [kept] = session.execute(select(DocumentVersion)).scalars().all()
        assert kept.version == 1 and kept.replaced_because == "archive-timestamp-added"
        assert kept.sha256 == hashlib.sha256(sent).hexdigest()
    # after the seal certificate and the first TSA certificate expired, the renewed copy verifies
    later = max(ec_token.seal_certificate.not_valid_after_utc, short_tsa.cert.not_valid_after_utc) + dt.timedelta(days=10)
    assert verify_credential(renewed, trust_anchors=[ec_token.ca_cert], now=later).valid
    assert not verify_credential(sent, trust_anchors=[ec_token.ca_cert], now=later).valid
    assert verify_credential(sent, trust_anchors=[ec_token.ca_cert]).valid  # today the learner's copy is good


def test_a_renewal_that_would_not_outlive_the_proof_is_not_stored(client, ctx, token_ca, short_tsa):
    ctx.revocation_source = ltv.StaticRevocationSource(crls=[token_ca.crl(days=30)])
    ctx.seal_level = ltv.SealLevelSettings("B-LTA", ltv.TsaClient(short_tsa.url, timeout=5))
    cid = _issue_one(client, ctx)
    assert upkeep.renew_archives(ctx, now=NOW) == 0  # the same short-lived TSA again: no progress
    assert _row(ctx, cid).document_version == 1


def test_revoked_credentials_are_not_renewed(client, ctx, token_ca, short_tsa, long_tsa):
    ctx.revocation_source = ltv.StaticRevocationSource(crls=[token_ca.crl(days=30)])
    ctx.seal_level = ltv.SealLevelSettings("B-LTA", ltv.TsaClient(short_tsa.url, timeout=5))
    cid = _issue_one(client, ctx)
    assert client.post(f"/api/v1/credentials/{cid}/revoke", json={"reason": "issued in error"},
                       headers=STAFF_HEADERS).status_code == 200
    ctx.seal_level = ltv.SealLevelSettings("B-LTA", ltv.TsaClient(long_tsa.url, timeout=5))
    assert upkeep.renew_archives(ctx, now=NOW) == 0


def test_the_scheduler_runs_both_jobs(app, ctx):
    scheduler_worker = worker.Worker(ctx, working=False, scheduling=True)
    scheduler_worker.start()
    try:
        jobs = {job.id for job in scheduler_worker.scheduler.get_jobs()}
        assert {"timestamps-pending", "archive-renewal"} <= jobs
    finally:
        scheduler_worker.stop()


def _alternate(ctx, cid) -> tuple[str, bytes]:
    with ctx.registry.reading() as session:
        (held,) = documents.alternates(session, ctx.registry.dictionaries, session.get(Credential, cid))
    return held


def test_a_course_issuing_both_formats_has_both_copies_renewed_and_kept(client, ctx, ec_token, token_ca, short_tsa,
                                                                         long_tsa):
    ctx.revocation_source = ltv.StaticRevocationSource(crls=[token_ca.crl(days=30)])
    ctx.seal_level = ltv.SealLevelSettings("B-LTA", ltv.TsaClient(short_tsa.url, timeout=5))
    cid = _issue_one(client, ctx, ["edc-xml", "elm3-jsonld"])
    sent_xml, (fmt, sent_json) = _download(client, cid), _alternate(ctx, cid)
    assert fmt == "elm3-jsonld" and _row(ctx, cid).proof_expires_at == short_tsa.cert.not_valid_after_utc
    ctx.settings = dataclasses.replace(ctx.settings, archive_renewal_days=30)
    ctx.seal_level = ltv.SealLevelSettings("B-LTA", ltv.TsaClient(long_tsa.url, timeout=5))
    assert upkeep.renew_archives(ctx, now=NOW + dt.timedelta(days=31)) == 1
    row = _row(ctx, cid)
    assert row.document_version == 2 and row.proof_expires_at == long_tsa.cert.not_valid_after_utc
    renewed_json = _alternate(ctx, cid)[1]
    for renewed in (_download(client, cid), renewed_json):
        assert len(formats.long_term(renewed).archive_timestamps()) == 2
    with ctx.registry.reading() as session:
        kept = {(v.format, v.version): documents.read_version(session, ctx.registry.dictionaries, v)
                for v in documents.held_versions(session, cid)}
    assert kept == {("edc-xml", 1): sent_xml, ("elm3-jsonld", 1): sent_json}  # both first copies, byte-exact
    later = max(ec_token.seal_certificate.not_valid_after_utc, short_tsa.cert.not_valid_after_utc) + dt.timedelta(days=10)
    assert verify_credential(renewed_json, trust_anchors=[ec_token.ca_cert], now=later).valid
    assert not verify_credential(sent_json, trust_anchors=[ec_token.ca_cert], now=later).valid
    verdict = client.post("/api/v1/verify", data=sent_json, content_type="application/ld+json").json
    assert verdict["registry"]["sha256_matches"] is True  # the learner's first JSON-LD copy is still one of ours


def test_a_pending_time_stamp_is_added_to_each_format(client, ctx, ec_token, token_ca, long_tsa):
    ctx.revocation_source = ltv.StaticRevocationSource(crls=[token_ca.crl(days=30)])
    ctx.seal_level = ltv.SealLevelSettings("B-LT", ltv.TsaClient(closed_port_url(), timeout=2), "seal-then-stamp")
    cid = _issue_one(client, ctx, ["edc-xml", "elm3-jsonld"])
    assert _row(ctx, cid).timestamp_pending is True
    ctx.seal_level = ltv.SealLevelSettings("B-LT", ltv.TsaClient(long_tsa.url, timeout=5), "seal-then-stamp")
    assert upkeep.complete_pending(ctx) == 1
    assert _row(ctx, cid).timestamp_pending is False
    for document in (_download(client, cid), _alternate(ctx, cid)[1]):
        assert verify_credential(document, trust_anchors=[ec_token.ca_cert]).level == "B-LT"


def test_credentials_stored_before_their_facts_were_recorded_are_surveyed_then_renewed(
        database_url, client, ctx, token_ca, short_tsa, long_tsa):
    ctx.revocation_source = ltv.StaticRevocationSource(crls=[token_ca.crl(days=30)])
    ctx.seal_level = ltv.SealLevelSettings("B-LTA", ltv.TsaClient(short_tsa.url, timeout=5))
    cid = _issue_one(client, ctx, ["edc-xml", "elm3-jsonld"])
    with downgraded(ctx, "0120_formats_status"):  # as a registry older than the long-term facts held it
        pass
    older = Registry(database_url)  # migrated forward: 0130 cannot fill the facts, 0135 marks the row unsurveyed
    try:
        with older.reading() as session:
            row = session.get(Credential, cid)
            assert (row.proof_expires_at, row.long_term_surveyed) == (None, False)
        ctx.registry = older
        ctx.settings = dataclasses.replace(ctx.settings, archive_renewal_days=30)
        assert upkeep.survey(ctx) == 1 and upkeep.survey(ctx) == 0  # read once
        row = _row(ctx, cid)
        assert row.long_term_surveyed and row.proof_expires_at == short_tsa.cert.not_valid_after_utc
        ctx.seal_level = ltv.SealLevelSettings("B-LTA", ltv.TsaClient(long_tsa.url, timeout=5))
        assert upkeep.renew_archives(ctx, now=NOW + dt.timedelta(days=31)) == 1
        assert _row(ctx, cid).proof_expires_at == long_tsa.cert.not_valid_after_utc
    finally:
        older.dispose()


def test_new_credentials_are_stored_surveyed(client, ctx):
    cid = _issue_one(client, ctx)
    assert _row(ctx, cid).long_term_surveyed is True
    assert upkeep.survey(ctx) == 0


def test_the_version_table_arrives_with_the_migration_on_an_existing_registry(database_url, client, ctx):
    cid = _issue_one(client, ctx)
    with downgraded(ctx, "0120_formats_status"):  # back to the registry as 0120 left it ...
        pass
    upgraded = Registry(database_url)  # ... and forward again, as a sidecar start does
    try:
        with upgraded.reading() as session:
            row = session.get(Credential, cid)
            assert (row.document_version, row.timestamp_pending, row.proof_expires_at) == (1, False, None)
            assert session.execute(select(DocumentVersion)).scalars().all() == []
    finally:
        upgraded.dispose()


def test_the_migration_creates_what_the_models_describe(ctx):
    with ctx.registry.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    mine = ("document_versions", "document_version", "timestamp_pending", "proof_expires", "long_term_surveyed")
    assert [d for d in differences if any(name in repr(d) for name in mine)] == []
