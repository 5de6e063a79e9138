"""Cells for files people open in a spreadsheet (the staff CSV export; any later xlsx export too).

Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` (and, in some, a tab, a line break or the
full-width forms of those signs) as a formula: `=cmd|' /C calc'!A0` in a learner's name or a course's short
name would run on the staff member's machine. Learner names, e-mails, course names and titles all come from
outside, so every cell of every export goes through `safe_cell` — not only the columns someone thought of.
"""
from __future__ import annotations

import csv
import io
from typing import Iterable

FORMULA_SIGNS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")  # and their full-width forms (＝ ＋ － ＠)
IGNORED_LEAD = "".join(chr(c) for c in range(0x21)) + "\u3000"  # control characters, blanks, ideographic space


def safe_cell(value: object) -> str:
    """The value as text a spreadsheet shows as text: a leading `'` when it would start a formula, even
    behind blanks or control characters (some programs skip those before deciding)."""
    text = "" if value is None else str(value)
    if text[:1] in ("\t", "\r", "\n") or text.lstrip(IGNORED_LEAD)[:1] in FORMULA_SIGNS:
        return "'" + text
    return text


def csv_line(cells: Iterable[object]) -> str:
    """One CSV record (RFC 4180 quoting, CRLF) with every cell passed through `safe_cell`."""
    out = io.StringIO()
    csv.writer(out).writerow([safe_cell(cell) for cell in cells])
    return out.getvalue()
