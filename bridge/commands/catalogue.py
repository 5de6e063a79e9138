"""`edc-bridge export-courses`: course descriptions exported for Europass's course register.

From description files (`--spec`, no sidecar or registry needed) or from the registry the sidecar
keeps (`--course SITE/COURSE`, or every course when neither is given; EDC_DATABASE_URL or
--database-url). Checked against loq.xsd (EDC_QDR_SCHEMA_DIR) or the EDC shapes (EDC_SHACL_DIR)
when they are configured; a course Europass would refuse is refused, naming what it lacks.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bridge.edc import exports, model


def register(sub: argparse._SubParsersAction) -> None:
    export = sub.add_parser(
        "export-courses", help="export course descriptions for Europass (QDR XML or ELM v3 JSON-LD)",
        description="Export course credential descriptions as a QDR learning-opportunity document (loq.xsd) or "
        "as ELM v3 LearningOpportunity JSON-LD, for registering the courses in Europass. Exit 0 when exported, "
        "1 when refused (the missing elements are named), 2 for bad arguments.")
    source = export.add_mutually_exclusive_group()
    source.add_argument("--spec", type=Path, action="append", metavar="FILE",
                        help="a course description file (JSON); repeat for several (no sidecar needed)")
    source.add_argument("--course", action="append", metavar="SITE/COURSE",
                        help="a course of the registry, e.g. demo/3; repeat for several (default: every course)")
    export.add_argument("--format", choices=exports.names(), default=exports.names()[0],
                        help=f"what to write (default {exports.names()[0]})")
    export.add_argument("--out", type=Path, help="where to write (default: standard output)")
    export.add_argument("--database-url", help="registry URL for --course (default EDC_DATABASE_URL)")
    export.set_defaults(func=cmd_export_courses)


def _course(text: str) -> tuple[str, int]:
    from bridge.edc import inputs

    site, _, course = text.rpartition("/")
    if not site:
        raise SystemExit(f"edc-bridge: --course {text!r}: give SITE/COURSE, e.g. demo/3")
    try:
        return site, inputs.moodle_id(course, "--course")
    except inputs.InputError as exc:
        raise SystemExit(f"edc-bridge: --course {text!r}: the course id {exc.message}") from None


def _file_entries(paths: list[Path]) -> list:
    from bridge.edc.qdr_xml import CourseEntry

    entries = []
    for path in paths:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SystemExit(f"edc-bridge: course description file not found: {path}") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SystemExit(f"edc-bridge: {path} is not a JSON course description: {exc}") from None
        try:
            entries.append(CourseEntry(path.stem, model.load_course_spec(document)))
        except model.ModelError as exc:
            raise exports.ExportRefused({path.stem: exc.problems}) from None
    return entries


def _registry_entries(args: argparse.Namespace) -> list:
    from bridge import europass_export
    from bridge.registry import Registry
    from bridge.settings import Settings

    courses = [_course(text) for text in args.course] if args.course else None
    registry = Registry(args.database_url or Settings.from_env().database_url, migrate=False)
    try:
        with registry.reading() as session:
            return europass_export.stored_entries(session, courses)
    finally:
        registry.dispose()


def cmd_export_courses(args: argparse.Namespace) -> int:
    from bridge import europass_export
    from bridge.edc.shacl_check import ElmShapes
    from bridge.settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise SystemExit(f"edc-bridge: {exc}") from None
    shapes = ElmShapes.from_env() if args.format == "elm3-jsonld" else None
    try:
        entries = _file_entries(args.spec) if args.spec else _registry_entries(args)
        exported = europass_export.export(entries, args.format, europass_export.export_checks(settings, shapes))
    except exports.ExportRefused as refused:
        print("edc-bridge: not exported, Europass would refuse it:", file=sys.stderr)
        for item in refused.as_json():
            where = f"{item['course']}: " if item["course"] else ""
            print(f"  {where}{item['pointer'] or '/'}: {item['message']}", file=sys.stderr)
        return 1
    if exported.unchecked:
        print(f"note: {exported.unchecked}", file=sys.stderr)
    if args.out:
        args.out.write_bytes(exported.data)
        print(f"exported {len(entries)} course(s) as {args.format} -> {args.out}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(exported.data)
    return 0
