"""`edc-bridge bulk template | check | issue`: cohort spreadsheets from the command line.

The same checks and the same registry as the staff pages (bridge/bulk/): `check` stores nothing;
`issue` keeps the batch (audited as the operating-system user, `cli:<user>`) and hands its rows to the
intake, and a running sidecar's worker seals and mails them. Exit status: 0 done, 1 rows with problems
(nothing issued without --valid-rows), 2 the file or the course refused.
"""
from __future__ import annotations

import argparse
import json
import os
import pwd
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bridge.bulk.wording import language


def register(sub: argparse._SubParsersAction) -> None:
    bulk = sub.add_parser("bulk", help="cohort spreadsheets: template, check, issue",
                          description="Issue a course's credential to a cohort listed in a spreadsheet.")
    verbs = bulk.add_subparsers(dest="bulk_command", required=True, metavar="ACTION")

    template = verbs.add_parser("template", help="write the course's template (XLSX or CSV)")
    _common(template)
    template.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    template.add_argument("--out", type=Path, help="file to write (default: template-SITE-COURSE.FORMAT)")
    template.set_defaults(func=template_command)

    check = verbs.add_parser("check", help="check a filled-in file; issues nothing")
    check.add_argument("file", type=Path)
    _common(check)
    check.add_argument("--json", action="store_true", help="the problems as JSON")
    check.add_argument("--refused-out", type=Path, help="write the refused rows here (to fix and check again)")
    check.set_defaults(func=check_command)

    issue = verbs.add_parser("issue", help="check a file and issue its rows (exactly once per learner and completion)")
    issue.add_argument("file", type=Path)
    _common(issue)
    issue.add_argument("--valid-rows", action="store_true",
                       help="when some rows have problems, issue the valid ones (else nothing is issued)")
    issue.add_argument("--refused-out", type=Path, help="write the refused rows here")
    issue.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                       help="follow the progress until every credential is out, at most this long")
    issue.add_argument("--results-out", type=Path, help="write the results per row (CSV) here, after --wait")
    issue.set_defaults(func=issue_command)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--course", required=True, metavar="SITE/COURSE", help="the Moodle site id and course id")
    parser.add_argument("--lang", default="en", help="language of the messages and files written (en, lt)")
    parser.add_argument("--database-url", help="the registry (default: EDC_DATABASE_URL)")


def _course(text: str) -> tuple[str, int] | None:
    from bridge.edc import inputs

    site, _, course = text.rpartition("/")
    course_id = inputs.learner_moodle_id(course)
    return (site, course_id) if site and course_id is not None else None


def _setup(args):
    from bridge.registry import Registry
    from bridge.settings import Settings

    settings = Settings.from_env()
    course = _course(args.course)
    if course is None:
        print(f"edc-bridge: --course must be SITE/COURSE (e.g. moodle/12), not {args.course!r}", file=sys.stderr)
        return None
    return settings, Registry(args.database_url or settings.database_url), course


def _actor() -> str:
    """Who the audit trail names for a command-line batch: the operating-system account that ran it."""
    try:
        return f"cli:{pwd.getpwuid(os.getuid()).pw_name}"
    except KeyError:
        return f"cli:uid-{os.getuid()}"


def template_command(args) -> int:
    import datetime as dt

    from bridge.bulk import batches, files

    setup = _setup(args)
    if setup is None:
        return 2
    _settings, registry, (site, course_id) = setup
    try:
        with registry.reading() as session:
            spec = batches.course_spec(session, site, course_id)
    except batches.BulkError as exc:
        print(f"edc-bridge: {exc}", file=sys.stderr)
        return 2
    finally:
        registry.dispose()
    today = dt.datetime.now(dt.timezone.utc).date()
    body = (files.template_xlsx(spec, f"{site}/{course_id} {spec.code or ''}".strip(), today)
            if args.format == "xlsx" else files.template_csv(spec, today))
    out = args.out or Path(f"template-{site}-{course_id}.{args.format}")
    out.write_bytes(body)
    print(f"wrote {out} ({len(body)} bytes): columns {', '.join(files.headers(spec))}")
    return 0


def _read_file(path: Path, limit: int) -> bytes | None:
    try:
        if path.stat().st_size > limit:
            print(f"edc-bridge: {path}: refused: larger than {limit} bytes (EDC_BULK_MAX_UPLOAD_BYTES)", file=sys.stderr)
            return None
        return path.read_bytes()
    except OSError as exc:
        print(f"edc-bridge: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return None


def _report(checked, known: int, lang: str, as_json: bool) -> None:
    from bridge.bulk import columns

    problems = [(row.number, p) for row in checked.rows for p in row.problems]
    if as_json:
        print(json.dumps({"rows": len(checked.rows), "valid": len(checked.valid), "refused": len(checked.refused),
                          "issued_before": known,
                          "problems": [{"row": n, "column": p.column, "letter": checked.letters.get(p.column),
                                        "code": p.code, "message": p.text(lang)} for n, p in problems]},
                         ensure_ascii=False, indent=2))
        return
    for number, p in problems:
        letter = checked.letters.get(p.column)
        where = f"{columns.header(p.column, (lang,))}" + (f" ({letter})" if letter else "")
        print(f"row {number}, {where}: {p.text(lang)}")
    print(f"{len(checked.rows)} rows: {len(checked.valid)} can be issued, {len(checked.refused)} have problems"
          + (f"; {known} of the valid rows were issued before and will not be issued again" if known else ""))


def _write_refused(path: Path | None, checked, spec, lang: str) -> None:
    from bridge.bulk import files

    if path is None or not checked.refused:
        return
    kind = "csv" if path.suffix.lower() == ".csv" else "xlsx"
    path.write_bytes(files.refused_rows(kind, spec.languages_primary_first, [(r.number, r.cells, r.problems) for r in checked.refused], lang))
    print(f"wrote the {len(checked.refused)} refused rows to {path}")


@dataclass
class _Previewed:
    """A file read and checked against its course, the preview printed (shared by check and issue)."""
    settings: object
    registry: object
    site: str
    course_id: int
    lang: str
    data: bytes
    result: object


def _previewed(args, as_json: bool) -> _Previewed | int:
    """The file checked and the preview printed (and the refused rows written), or the exit code when the
    course, the file or the check fails; on failure the registry is closed here."""
    from bridge.bulk import batches, reading

    setup = _setup(args)
    if setup is None:
        return 2
    settings, registry, (site, course_id) = setup
    lang = language(args.lang)
    data = _read_file(args.file, settings.bulk_max_upload_bytes)
    if data is None:
        return 2
    try:
        result = batches.preview(registry, site, course_id, data, reading.Limits.of(settings))
        with registry.reading() as session:
            spec = batches.course_spec(session, site, course_id)
    except reading.FileRefused as exc:
        print(f"edc-bridge: {args.file}: refused: {exc.text(lang)}", file=sys.stderr)
        registry.dispose()
        return 2
    except batches.BulkError as exc:
        print(f"edc-bridge: {exc}", file=sys.stderr)
        registry.dispose()
        return 2
    _report(result.checked, result.known, lang, as_json)
    _write_refused(args.refused_out, result.checked, spec, lang)
    return _Previewed(settings, registry, site, course_id, lang, data, result)


def check_command(args) -> int:
    checked = _previewed(args, args.json)
    if isinstance(checked, int):
        return checked
    checked.registry.dispose()
    return 1 if checked.result.checked.refused else 0


def issue_command(args) -> int:
    from bridge.bulk import batches, files, reading

    checked = _previewed(args, False)
    if isinstance(checked, int):
        return checked
    registry, lang = checked.registry, checked.lang
    if checked.result.checked.refused and not args.valid_rows:
        print("nothing issued: some rows have problems; fix them, or give --valid-rows to issue the valid ones")
        registry.dispose()
        return 1
    try:
        batch_id = batches.store_batch(registry, checked.site, checked.course_id, args.file.name, checked.data,
                                       reading.Limits.of(checked.settings), _actor())
        issued = batches.issue(registry, batch_id, _actor(), valid_only=bool(args.valid_rows))
    except reading.FileRefused as exc:
        print(f"edc-bridge: {args.file}: refused: {exc.text(lang)}", file=sys.stderr)
        registry.dispose()
        return 2
    except batches.BulkError as exc:
        print(f"edc-bridge: {exc}", file=sys.stderr)
        registry.dispose()
        return 1 if exc.code == "bulk_issue_nothing" else 2
    print(f"batch {batch_id}: {issued.created} new issuances queued, {issued.duplicates} issued before "
          f"(not again), {issued.refused} rows refused")
    if not issued.created:
        print("nothing new: every valid row of this file was issued before")
    try:
        if args.wait > 0:
            _follow(registry, batch_id, args.wait)
        if args.results_out:
            with registry.reading() as session:
                args.results_out.write_text("".join(files.results_lines(batches.results(session, batch_id, lang))),
                                            encoding="utf-8")
            print(f"wrote the results per row to {args.results_out}")
    finally:
        registry.dispose()
    return 0


def _follow(registry, batch_id: str, seconds: float) -> None:
    from bridge.bulk import batches

    deadline = time.monotonic() + seconds
    last = None
    while True:
        with registry.reading() as session:
            state = batches.progress(session, batch_id)
        line = f"{state.done}/{state.total} done: " + ", ".join(f"{k} {v}" for k, v in sorted(state.states.items()))
        if line != last:
            print(line, flush=True)
            last = line
        if state.finished or time.monotonic() > deadline:
            print("finished" if state.finished else "still going (the sidecar's worker goes on)")
            return
        time.sleep(1.0)
