"""Paths and builders shared by the ELM v3 tests; the EU reference files are read from ../shared, never copied."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from bridge.edc import model

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO.parent / "shared" / "reference"
SHACL_DIR = REFERENCE / "edc" / "v3_shacl"
JSONLD_DIR = REFERENCE / "edc" / "v3_jsonld"
EU_SIGNED = JSONLD_DIR / "Sample-MC-Annex1-signed.jsonld"
EU_UNSIGNED = JSONLD_DIR / "Sample-MC-Annex1-unsigned.jsonld"
COURSES = sorted((REPO / "examples" / "pilot" / "courses").glob("*.json"))
LEARNERS = sorted((REPO / "examples" / "pilot" / "learners").glob("*.json"))
ISSUED_AT = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.timezone.utc)


def pilot_credential(course: Path, n: int = 0, *, grade: str | None = None) -> model.Credential:
    """The pilot course with the n-th pilot learner, issued at a fixed moment (so outputs are comparable)."""
    spec = model.load_course_spec(json.loads(course.read_text(encoding="utf-8")))
    learner = model.load_learner(json.loads(LEARNERS[n % len(LEARNERS)].read_text(encoding="utf-8")))
    issuance = model.Issuance.new(
        ISSUED_AT - dt.timedelta(hours=2), now=ISSUED_AT, valid_for=spec.valid_for, grade=grade,
        credential_id=f"urn:credential:6f1c3a52-0000-4000-8000-{n:012d}",
    )
    return model.Credential(spec, learner, issuance)
