"""The sidecar fixtures (SQLite and PostgreSQL registries, SoftHSM, recording channels) for the programme tests,
and the pilot as `make run` loads it: five courses of site "demo" (ids 1..5, alphabetical) and one programme."""
from __future__ import annotations

import json
from pathlib import Path

from tests.sidecar.conftest import app, channels, client, ctx, database_url, settings  # noqa: F401 - fixtures

REPO = Path(__file__).resolve().parents[2]
PILOT = REPO / "examples" / "pilot"
PROGRAMME = "digital-skills"
COURSE_IDS = {path.stem: n for n, path in enumerate(sorted((PILOT / "courses").glob("*.json")), start=1)}


def programme_doc() -> dict:
    return json.loads((PILOT / "programmes" / f"{PROGRAMME}.json").read_text(encoding="utf-8"))
