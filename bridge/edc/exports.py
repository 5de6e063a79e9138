"""The exports of course descriptions for Europass: one list, one place to ask.

A course description leaves the sidecar as a QDR learning-opportunity document (qdr_xml.py, what
Europass's course register imports) or as ELM v3 `LearningOpportunity` JSON-LD (elm3_opportunity.py).
These are descriptions of courses, not credentials, so they are not entries of formats.py (nothing
is sealed, issued or verified); the pattern is the same: a new export is one module implementing
`CourseExport` and one line in `IMPLEMENTATIONS`. The pages, the CLI and the API ask this module.

Every export refuses first what Europass would refuse (naming, per course, the description's
elements it lacks), then checks what it built against the official schema or shapes when they are
configured, and refuses that too, rather than hand over a file the register would reject.
"""
from __future__ import annotations

import abc
import importlib
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from bridge.edc.model import Problem

if TYPE_CHECKING:
    from bridge.edc.qdr_schema import QdrSchema
    from bridge.edc.qdr_xml import CourseEntry
    from bridge.edc.shacl_check import ElmShapes

IMPLEMENTATIONS = (
    ("bridge.edc.qdr_xml", "EXPORT"),
    ("bridge.edc.elm3_opportunity", "EXPORT"),
)


class UnknownExport(ValueError):
    """An export name that is none of ours; the message lists the known ones."""


class ExportRefused(ValueError):
    """Descriptions Europass would refuse; `problems` maps a course's key to what it lacks."""

    def __init__(self, problems: Mapping[str, list[Problem]]):
        self.problems = dict(problems)
        words = "; ".join((f"{key}: " if key else "") + ", ".join(str(p) for p in found)
                          for key, found in self.problems.items())
        super().__init__(f"not exported, Europass would refuse it: {words}")

    def as_json(self) -> list[dict[str, str]]:
        return [{"course": key, "pointer": p.pointer, "message": p.message}
                for key, found in self.problems.items() for p in found]


def refuse_on(problems: Sequence[str], check: str) -> None:
    """Refuse a document the official check rejects (a mapping bug: never handed to Europass)."""
    if problems:
        raise ExportRefused({"": [Problem("", f"{check}: {line}") for line in problems]})


@dataclass(frozen=True)
class ExportChecks:
    """The official checks, loaded once by the caller; None: not configured (the export says so)."""

    qdr_schema: "QdrSchema | None" = None
    shapes: "ElmShapes | None" = None


class CourseExport(abc.ABC):
    name: str = ""
    label: str = ""
    media_type: str = "application/octet-stream"
    extension: str = "bin"

    def filename(self, keys: Sequence[str]) -> str:
        """europass-courses.<ext> for several courses, europass-<key>.<ext> for one."""
        stem = "courses" if len(keys) != 1 else "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in keys[0])
        return f"europass-{stem}.{self.extension}"

    @abc.abstractmethod
    def build(self, entries: Sequence["CourseEntry"], checks: ExportChecks) -> bytes:
        """The document of the entries; ExportRefused naming what is missing or wrong."""

    @abc.abstractmethod
    def skipped_check(self, checks: ExportChecks) -> str | None:
        """Why the official check would not run with `checks` (None: it runs)."""


@lru_cache(maxsize=1)
def all_exports() -> tuple[CourseExport, ...]:
    return tuple(getattr(importlib.import_module(module), attribute) for module, attribute in IMPLEMENTATIONS)


def names() -> tuple[str, ...]:
    return tuple(export.name for export in all_exports())


def get(name: Any) -> CourseExport:
    for export in all_exports():
        if isinstance(name, str) and export.name == name.strip().lower():
            return export
    raise UnknownExport(f"{name!r} is not an export of course descriptions; known: {', '.join(names())}")
