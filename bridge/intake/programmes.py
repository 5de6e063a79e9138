"""Programme descriptions (schemas/programme-credential.schema.json), stored as sent and validated.

A valid programme's parts are indexed (`programme_parts`, which the worker asks when it stores a
credential), and every learner already holding a credential of one of its courses is queued for a
check, so a programme defined after its parts were earned is still awarded.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from bridge.edc import programmes
from bridge.edc.model import ModelError, Problem
from bridge.registry import Registry, audit
from bridge.registry.models import (CourseSpecification, Credential, Programme, ProgrammeCheck, ProgrammePart,
                                    utcnow)

PROGRAMME_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}\Z")


@dataclass(frozen=True)
class ProgrammeResult:
    valid: bool
    problems: list[dict[str, str]]
    learners_checked: int


def programme_id_problem(programme_id: str) -> str | None:
    if not PROGRAMME_ID.match(programme_id or ""):
        return "a programme id is 1 to 64 lower-case letters, digits and dashes, starting with a letter or digit"
    return None


def _stored_codes(session, site_id: str, courses: tuple[int, ...]) -> dict[int, str | None]:
    rows = session.execute(select(CourseSpecification).where(
        CourseSpecification.site_id == site_id, CourseSpecification.course_id.in_(courses))).scalars()
    codes: dict[int, str | None] = {}
    for row in rows:
        try:
            document = json.loads(row.document)
        except ValueError:
            continue
        codes[row.course_id] = document.get("code") if isinstance(document, dict) else None
    return codes


def _problems(session, site_id: str, document: Any) -> tuple[programmes.Programme | None, list[Problem]]:
    try:
        programme = programmes.load_programme(document)
    except ModelError as exc:
        return None, exc.problems
    return programme, programmes.code_problems(programme, _stored_codes(session, site_id, programme.parts))


def store_programme(registry: Registry, site_id: str, programme_id: str, document: Any, actor: str) -> ProgrammeResult:
    """Store (create or replace) a programme; when valid, index its parts and queue its learners."""
    with registry.transaction() as session:
        programme, problems = _problems(session, site_id, document)
        valid = not problems
        row = session.get(Programme, (site_id, programme_id))
        if row is None:
            row = Programme(site_id=site_id, programme_id=programme_id)
            session.add(row)
        row.document = json.dumps(document, ensure_ascii=False, sort_keys=True)
        row.valid = valid
        row.problems = json.dumps([{"pointer": p.pointer, "message": p.message} for p in problems], ensure_ascii=False)
        row.updated_at = utcnow()
        session.execute(delete(ProgrammePart).where(ProgrammePart.site_id == site_id,
                                                    ProgrammePart.programme_id == programme_id))
        learners: list[str] = []
        if valid:
            session.add_all(ProgrammePart(site_id=site_id, programme_id=programme_id, course_id=course)
                            for course in programme.parts)
            learners = list(session.execute(select(Credential.learner_id).distinct().where(
                Credential.site_id == site_id, Credential.course_id.in_(programme.parts),
                Credential.status == "issued")).scalars())
            session.add_all(ProgrammeCheck(site_id=site_id, learner_id=learner) for learner in sorted(learners))
        audit.append(session, actor, "programme.stored", f"{site_id}/{programme_id}",
                     {"valid": valid, "problems": len(problems), "learners_checked": len(learners)})
    return ProgrammeResult(valid, [{"pointer": p.pointer, "message": p.message} for p in problems], len(learners))
