"""The worker seals at the configured level, and a TSA outage never loses or parks work (issue 7).

A real OpenSSL TSA on loopback (tests/ltv/ltv_pki.py) answers 503 for a while: the issuance waits,
queued, however many rounds pass, without using up its attempts; once the TSA answers, the credential
is sealed at B-T and its verified time of sealing is the time-stamp's.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from sqlalchemy import select

from bridge import worker
from bridge.edc import ltv
from bridge.edc.verifier import verify_credential
from bridge.registry.models import Issuance
from bridge.settings import Settings, SettingsError
from tests.sidecar.conftest import STAFF_HEADERS, make_event, pilot_spec, post_event, put_spec

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ltv"))
from ltv_pki import LoopbackTSA, TestCA  # noqa: E402


def _issuance(ctx, issuance_id: str) -> Issuance:
    with ctx.registry.reading() as session:
        return session.execute(select(Issuance).where(Issuance.id == issuance_id)).scalar_one()


def test_tsa_outage_keeps_the_issuance_waiting_then_it_is_sealed_at_b_t(client, ctx, ec_token):
    tsa_ca = TestCA.create()
    tsa = LoopbackTSA(tsa_ca)
    try:
        ctx.seal_level = ltv.SealLevelSettings(level="B-T", tsa=ltv.TsaClient(url=tsa.url, timeout=5), policy="wait")
        put_spec(client, 2, pilot_spec("green310"))
        issuance_id = post_event(client, make_event(2)).json["issuance_id"]

        tsa.fail_with = 503
        for _ in range(ctx.settings.max_delivery_attempts + 2):  # more rounds than it takes to park a failure
            assert worker.drain(ctx) == 0
            row = _issuance(ctx, issuance_id)
            assert row.status == "queued" and row.attempts == 0, (row.status, row.attempts)
            time.sleep(max(0.0, (row.next_attempt_at - worker.utcnow()).total_seconds()) + 0.05)
        assert "TSA unavailable" in row.last_error
        assert tsa.requests == 0  # the handler refused before reaching OpenSSL

        tsa.fail_with = None
        assert worker.drain(ctx) == 1
        assert _issuance(ctx, issuance_id).status in ("issued", "delivered")
        listing = client.get("/api/v1/credentials?course=2", headers=STAFF_HEADERS).json
        data = client.get(f"/api/v1/credentials/{listing['items'][0]['id']}.xml", headers=STAFF_HEADERS).data
        report = verify_credential(data, trust_anchors=[ec_token.ca_cert, tsa_ca.cert])
        assert report.valid and report.level == "B-T", report.problems
        assert tsa.requests == 1
    finally:
        tsa.close()


def test_misconfigured_level_is_refused_at_start():
    import pytest

    with pytest.raises(SettingsError, match="EDC_TSA_URL"):
        Settings.from_env({"EDC_SEAL_LEVEL": "B-LT"})
