"""Rows of a cohort file to intake events, and every bad cell named by row, column and problem.

Pure: no database, no Flask. The events it builds are the ones Moodle would send for a completion
(schemas/event.schema.json, type course_completed), so the same intake stores them exactly once per
learner and completion (bridge/intake/events.idempotency_key).

Learners from outside Moodle get a stable learner id of their own, never a Moodle user id (those are
whole numbers): `bulk:<identifier>` when the row gives the university's identifier of the learner, else
`bulk:<32 hex>` — the first 128 bits of SHA-256 over the site and the e-mail address (case-folded). The
same person uploaded again under the same identifier (or, without one, the same address) is therefore
the same learner: the same completion is not issued twice, and programmes count their credentials.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from bridge.bulk import columns, wording
from bridge.bulk.reading import FileRefused, Sheet
from bridge.edc.model import CourseSpec
from bridge.presentation.spreadsheet import FORMULA_SIGNS, IGNORED_LEAD

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
CONTROL = re.compile("[\u0000-\u001f\u007f-\u009f\u2028\u2029]")
IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,57}\Z")  # "bulk:" + this fits the 64 of a learner id
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")
MAX_LENGTH = {"given_names": 200, "family_name": 200, "email": 254, "grade": 64, "learner_id": 58, "lang": 8,
              "completed_on": 32}
EARLIEST = dt.date(1970, 1, 1)
LEARNER_PREFIX = "bulk:"


@lru_cache(maxsize=1)
def _email_pattern() -> re.Pattern[str]:
    """The learner schema's own e-mail rule, so the file and the intake never disagree."""
    schema = json.loads((SCHEMAS / "learner.schema.json").read_text(encoding="utf-8"))
    return re.compile(schema["properties"]["email"]["pattern"])


@dataclass(frozen=True)
class Problem:
    column: str  # a column key
    code: str  # a key of wording.PROBLEMS
    values: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str) -> str:
        return wording.problem_text(self.code, lang, **self.values)

    def as_json(self) -> dict[str, Any]:
        return {"column": self.column, "code": self.code, "values": self.values}

    @staticmethod
    def from_json(data: dict[str, Any]) -> "Problem":
        return Problem(data["column"], data["code"], data.get("values") or {})


@dataclass
class CheckedRow:
    number: int
    cells: dict[str, str]  # as read, as text (for the refused-rows file)
    problems: list[Problem] = field(default_factory=list)
    event: dict[str, Any] | None = None  # the intake event, when the row has no problem


@dataclass
class Checked:
    kind: str
    rows: list[CheckedRow]
    letters: dict[str, str]  # column key -> the file's column letter
    missing_columns: tuple[str, ...]
    ignored_headers: tuple[str, ...]

    @property
    def valid(self) -> list[CheckedRow]:
        return [r for r in self.rows if r.event is not None]

    @property
    def refused(self) -> list[CheckedRow]:
        return [r for r in self.rows if r.event is None]


def learner_id(site: str, identifier: str | None, email: str) -> str:
    """The learner id of someone from outside Moodle (see the module docstring)."""
    if identifier:
        return LEARNER_PREFIX + identifier
    digest = hashlib.sha256(f"edc-bulk-v1\x1f{site}\x1f{email.casefold()}".encode("utf-8")).hexdigest()
    return LEARNER_PREFIX + digest[:32]


def as_text(value: Any) -> str:
    """A cell as the person sees it: dates as YYYY-MM-DD, whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return format(value, "g")
    return str(value)


def is_formula(text: str) -> bool:
    """What a spreadsheet would run (bridge/presentation/spreadsheet.safe_cell's rule): refused as data."""
    return text[:1] in ("\t", "\r", "\n") or text.lstrip(IGNORED_LEAD)[:1] in FORMULA_SIGNS


def check(sheet: Sheet, spec: CourseSpec, site: str, course_id: int, *, today: dt.date | None = None) -> Checked:
    """Every row checked; FileRefused when the header names none of the template's columns."""
    positions: dict[str, int] = {}
    ignored = []
    for index, cell in enumerate(sheet.header):
        key = columns.column_of(cell)
        if key is None:
            if cell not in (None, ""):
                ignored.append(as_text(cell)[:80])
        elif key not in positions:
            positions[key] = index
    if not positions:
        raise FileRefused("no_columns")
    if not sheet.rows:
        raise FileRefused("no_rows")
    missing = tuple(c for c in columns.KEYS if c in columns.REQUIRED and c not in positions)
    context = _Context(spec, site, course_id, today or dt.datetime.now(dt.timezone.utc).date(), missing)
    rows = [context.row(number, {k: values[i] if i < len(values) else None for k, i in positions.items()})
            for number, values in sheet.rows]
    _mark_duplicates(rows)
    for row in rows:
        if row.problems:
            row.event = None
    return Checked(sheet.kind, rows, {k: columns.letter(i) for k, i in positions.items()}, missing, tuple(ignored))


class _Context:
    def __init__(self, spec: CourseSpec, site: str, course_id: int, today: dt.date, missing: Sequence[str]):
        self.spec, self.site, self.course_id, self.today, self.missing = spec, site, course_id, today, missing
        self.languages = spec.languages_primary_first
        self.course = {"id": course_id, "shortname": (spec.code or "")[:255],
                       "fullname": spec.title.get_in(spec.primary_language)[:1333]}

    def row(self, number: int, raw: dict[str, Any]) -> CheckedRow:
        cells = {key: as_text(value) for key, value in raw.items()}
        row = CheckedRow(number, cells)
        problems = row.problems
        problems.extend(Problem(key, "missing_column") for key in self.missing)
        for key, text in cells.items():
            if isinstance(raw[key], str) and is_formula(text):
                problems.append(Problem(key, "formula"))
            elif len(text) > MAX_LENGTH[key]:
                problems.append(Problem(key, "too_long", {"limit": MAX_LENGTH[key]}))
        bad = {p.column for p in problems}
        given = self._name(cells, "given_names", bad, problems)
        family = self._name(cells, "family_name", bad, problems)
        email = self._email(cells, bad, problems)
        lang = self._language(cells, bad, problems)
        completed = self._date(raw, cells, bad, problems)
        grade = self._grade(cells, bad, problems)
        identifier = self._identifier(cells, bad, problems)
        if not problems:
            row.event = {
                "event_id": f"bulk:{self.site}:{self.course_id}:{completed.isoformat()}:{number}"[:255],
                "type": "course_completed",
                "site": {"id": self.site},
                "course": dict(self.course),
                "learner": {"id": learner_id(self.site, identifier, email), "email": email, "given_names": given,
                            "family_name": family, "lang": lang},
                "completed_at": f"{completed.isoformat()}T00:00:00Z",
                "requested_by": None,
                "grade": grade,
            }
        return row

    @staticmethod
    def _name(cells: dict[str, str], key: str, bad: set[str], problems: list[Problem]) -> str:
        text = " ".join(cells.get(key, "").split())
        if key in bad:
            return text
        if not text:
            if key in cells:
                problems.append(Problem(key, "missing"))
        elif CONTROL.search(cells[key].strip()):
            problems.append(Problem(key, "control"))
        return text

    @staticmethod
    def _email(cells: dict[str, str], bad: set[str], problems: list[Problem]) -> str:
        text = cells.get("email", "").strip()
        if "email" in bad or "email" not in cells:
            return text
        if not text:
            problems.append(Problem("email", "missing"))
        elif not _email_pattern().match(text):
            problems.append(Problem("email", "email"))
        elif text.casefold() in wording.EXAMPLE_EMAILS:
            problems.append(Problem("email", "example"))
        return text

    def _language(self, cells: dict[str, str], bad: set[str], problems: list[Problem]) -> str:
        text = cells.get("lang", "").strip().lower()
        if not text or "lang" in bad:
            return self.spec.primary_language
        if text not in self.languages:
            problems.append(Problem("lang", "language", {"value": text, "languages": ", ".join(self.languages)}))
        return text

    def _date(self, raw: dict[str, Any], cells: dict[str, str], bad: set[str], problems: list[Problem]) -> dt.date:
        value = raw.get("completed_on")
        if "completed_on" in bad or "completed_on" not in cells:
            return self.today
        if isinstance(value, dt.datetime):
            day = value.date()
        elif isinstance(value, dt.date):
            day = value
        else:
            text = cells["completed_on"].strip()
            if not text:
                problems.append(Problem("completed_on", "missing"))
                return self.today
            try:
                if not ISO_DATE.match(text):
                    raise ValueError(text)
                day = dt.date.fromisoformat(text)
            except ValueError:
                problems.append(Problem("completed_on", "date"))
                return self.today
        if day > self.today:
            problems.append(Problem("completed_on", "future"))
        elif day < EARLIEST:
            problems.append(Problem("completed_on", "too_old"))
        return day

    @staticmethod
    def _grade(cells: dict[str, str], bad: set[str], problems: list[Problem]) -> str | None:
        text = cells.get("grade", "").strip()
        if "grade" in bad or not text:
            return None
        if CONTROL.search(text):
            problems.append(Problem("grade", "control"))
        return text

    @staticmethod
    def _identifier(cells: dict[str, str], bad: set[str], problems: list[Problem]) -> str | None:
        text = cells.get("learner_id", "").strip()
        if "learner_id" in bad or not text:
            return None
        if not IDENTIFIER.match(text):
            problems.append(Problem("learner_id", "identifier"))
        return text


def _mark_duplicates(rows: list[CheckedRow]) -> None:
    """A learner (same identity, or the same address) twice in one file: the later rows are refused,
    naming the first, whose row stands."""
    first: dict[str, int] = {}
    for row in rows:
        if row.event is None:
            continue
        learner = row.event["learner"]
        marks = (f"id:{learner['id']}", f"email:{learner['email'].casefold()}")
        earlier = next((first[m] for m in marks if m in first), None)
        if earlier is not None:
            by_id = f"id:{learner['id']}" in first and bool(row.cells.get("learner_id", "").strip())
            row.problems.append(Problem("learner_id" if by_id else "email", "duplicate", {"first": earlier}))
            continue
        for mark in marks:
            first[mark] = row.number
