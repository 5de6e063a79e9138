"""Course descriptions of the registry exported for Europass (QDR XML or ELM v3 JSON-LD).

The service's side of bridge/edc/exports.py: which stored descriptions (one course, or every course
of the registry), with which official checks (EDC_QDR_SCHEMA_DIR, EDC_SHACL_DIR), and the refusal
when a description is missing or was never accepted. The staff pages, the API Moodle's "Export for
Europass" link calls, and `edc-bridge export-courses --course` all come through here, so the three
export the same bytes.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.edc import exports, model
from bridge.edc.model import Problem
from bridge.edc.qdr_xml import CourseEntry
from bridge.registry.models import CourseSpecification
from bridge.settings import Settings

_checks: dict[tuple[str | None, int], exports.ExportChecks] = {}
_lock = threading.Lock()


def export_checks(settings: Settings, shapes: Any = None) -> exports.ExportChecks:
    """The checks of this configuration, the QDR schema compiled once per process (about 0.1 s)."""
    key = (settings.qdr_schema_dir, id(shapes))
    with _lock:
        if key not in _checks:
            schema = None
            if settings.qdr_schema_dir:
                from bridge.edc.qdr_schema import QdrSchema

                schema = QdrSchema(settings.qdr_schema_dir)
            _checks[key] = exports.ExportChecks(qdr_schema=schema, shapes=shapes)
        return _checks[key]


def course_key(site_id: str, course_id: int) -> str:
    return f"{site_id}/{course_id}"


def stored_entries(session: Session, courses: Sequence[tuple[str, int]] | None = None) -> list[CourseEntry]:
    """The stored descriptions of `courses` (None: every course), ready to export.

    A course with no description, or one the sidecar refused, is refused here with its problems: an
    export never silently leaves a course out."""
    query = select(CourseSpecification).order_by(CourseSpecification.site_id, CourseSpecification.course_id)
    rows = {(row.site_id, row.course_id): row for row in session.execute(query).scalars()}
    wanted = list(courses) if courses is not None else list(rows)
    problems: dict[str, list[Problem]] = {}
    entries = []
    for site_id, course_id in wanted:
        key = course_key(site_id, course_id)
        row = rows.get((site_id, course_id))
        if row is None:
            problems[key] = [Problem("", "no credential description is stored for this course")]
            continue
        if not row.valid:
            problems[key] = [Problem(p.get("pointer", ""), p.get("message", "")) for p in json.loads(row.problems)]
            continue
        entries.append(CourseEntry(key, model.load_course_spec(json.loads(row.document)), row.updated_at))
    if problems:
        raise exports.ExportRefused(problems)
    if not entries:
        raise exports.ExportRefused({"": [Problem("", "no course description is stored yet")]})
    return entries


@dataclass(frozen=True)
class Exported:
    data: bytes
    media_type: str
    filename: str
    unchecked: str | None  # why the official check did not run, when it did not


def export(entries: Iterable[CourseEntry], name: str, checks: exports.ExportChecks) -> Exported:
    """The export `name` of the entries; UnknownExport or ExportRefused (naming what is missing)."""
    chosen = exports.get(name)
    entries = list(entries)
    data = chosen.build(entries, checks)
    return Exported(data, chosen.media_type, chosen.filename([e.key for e in entries]), chosen.skipped_check(checks))
