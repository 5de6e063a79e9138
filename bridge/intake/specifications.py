"""Course credential descriptions from the plugin's form: stored as sent, validated, and — once
complete — the course's parked issuances go back to the queue."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

from sqlalchemy import update

from bridge.edc import formats, model
from bridge.intake.auth import Authenticated, claim_nonce
from bridge.registry import Registry, audit
from bridge.registry.models import CourseSpecification, Issuance, utcnow


@dataclass(frozen=True)
class SpecResult:
    valid: bool
    problems: list[dict[str, str]]
    resumed: int


def problems_of(document: Any, site_formats: Sequence[str] | None = None) -> list[dict[str, str]]:
    """What keeps the description from making credentials: the schema's and model's problems, and a
    format the site does not issue (`site_formats`, EDC_FORMATS) — never replaced by another one."""
    try:
        model.load_course_spec(document)
    except model.ModelError as exc:
        return exc.as_json()
    if site_formats is not None:
        try:
            formats.for_course(document, site_formats)
        except formats.UnknownFormat as exc:
            return [{"pointer": "/format", "message": f"{exc}; choose one of {', '.join(site_formats)}, or none "
                                                      f"for the site's default ({site_formats[0]})"}]
    return []


def store_specification(registry: Registry, site_id: str, course_id: int, document: Any,
                        auth: Authenticated | None, *, window: int = 300, actor: str = "moodle",
                        site_formats: Sequence[str] | None = None) -> SpecResult:
    problems = problems_of(document, site_formats)
    valid = not problems
    with registry.transaction() as session:
        if auth is not None:
            claim_nonce(session, auth, window)
            actor = f"moodle:{auth.key_id}"
        row = session.get(CourseSpecification, (site_id, course_id))
        if row is None:
            row = CourseSpecification(site_id=site_id, course_id=course_id)
            session.add(row)
        row.document = json.dumps(document, ensure_ascii=False, sort_keys=True)
        row.valid = valid
        row.problems = json.dumps(problems, ensure_ascii=False)
        row.updated_at = utcnow()
        resumed = 0
        if valid:
            resumed = session.execute(
                update(Issuance)
                .where(Issuance.site_id == site_id, Issuance.course_id == course_id, Issuance.status == "parked")
                .values(status="queued", parked_reason=None, next_attempt_at=None, updated_at=utcnow())
            ).rowcount or 0
        audit.append(session, actor, "specification.stored", f"{site_id}/{course_id}",
                     {"valid": valid, "problems": len(problems), "resumed": resumed})
    return SpecResult(valid, problems, resumed)
