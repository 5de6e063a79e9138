"""Two sidecar processes sharing one registry seal every queued event exactly once.

On PostgreSQL the claim is `SELECT ... FOR UPDATE SKIP LOCKED`; on SQLite the database write lock
(`BEGIN IMMEDIATE`). Both processes must have done part of the work, or the test proves nothing.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from bridge.intake.events import store_event
from bridge.intake.specifications import store_specification
from bridge.registry.models import Credential, Issuance
from tests.sidecar.conftest import make_event, pilot_learner, pilot_spec, token_env

REPO = Path(__file__).resolve().parents[2]
EVENTS = 60


def _start(database_url: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.sidecar.claim_worker", database_url], cwd=REPO, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_processes_issue_each_event_once(ctx, settings, ec_token):
    store_specification(ctx.registry, "demo", 1, pilot_spec(), None)
    learner = pilot_learner()
    for i in range(EVENTS):
        event = make_event(1, dict(learner, id=1000 + i), completed_at=f"2026-11-28T10:{i // 60:02d}:{i % 60:02d}Z")
        assert store_event(ctx.registry, event, None).created
    env = dict(os.environ, **token_env(ec_token))
    env.pop("EDC_DATABASE_URL", None)
    procs = [_start(settings.database_url, env) for _ in range(2)]
    try:
        for p in procs:
            assert p.stdout.readline().strip() == "ready", p.stderr.read()
        for p in procs:  # both start together
            p.stdin.write("go\n")
            p.stdin.flush()
        outputs = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert all(p.returncode == 0 for p in procs), [err[-2000:] for _, err in outputs]
    sealed = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert all(len(s) > 0 for s in sealed), f"one process did all the work: {[len(s) for s in sealed]}"
    everything = sealed[0] + sealed[1]
    assert len(everything) == EVENTS and not [i for i, n in Counter(everything).items() if n > 1]
    with ctx.registry.sessions() as s:
        assert s.execute(select(func.count()).select_from(Credential)).scalar_one() == EVENTS
        per_issuance = s.execute(select(Credential.issuance_id, func.count()).group_by(Credential.issuance_id)).all()
        assert {n for _, n in per_issuance} == {1}
        assert s.execute(select(func.count()).select_from(Issuance).where(Issuance.credential_id.is_(None))).scalar_one() == 0
