"""A separate sidecar worker process for test_claims: claims and seals until the queue is empty.

Run as `python -m tests.sidecar.claim_worker <database url>`; the token comes from the EDC_* environment.
It takes work in batches of 4. It prints "ready", waits for a line on stdin (so both processes start together), then prints one JSON
line: the issuance ids it sealed.
"""
from __future__ import annotations

import json
import os
import sys

from sqlalchemy import select

from bridge import worker
from bridge.assembly import build_seal_provider
from bridge.registry import Registry
from bridge.registry.models import Issuance
from bridge.settings import Settings


def main() -> int:
    settings = Settings.from_env(dict(os.environ), database_url=sys.argv[1], start_background=False)
    ctx = worker.Context(settings=settings, registry=Registry(settings.database_url), seals=build_seal_provider(settings))
    ctx.seals.current()  # log in before the start signal
    print("ready", flush=True)
    sys.stdin.readline()
    me = f"proc-{os.getpid()}"
    sealed, idle = [], 0
    while idle < 3:
        claimed = worker.claim_issuances(ctx, me, 4)  # batches, as the sidecar's worker threads take them
        if not claimed:
            idle += 1
            continue
        idle = 0
        made = worker.process_issuances(ctx, claimed, me)
        with ctx.registry.reading() as session:
            sealed += [i for (i,) in session.execute(select(Issuance.id).where(Issuance.credential_id.in_(made)))]
    print(json.dumps(sealed), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
