"""The files staff download: a course's template, the refused rows of an upload (to fix and upload
again) and the results per row. XLSX through openpyxl, CSV through the csv module (UTF-8 with a BOM,
so Excel shows Lithuanian letters); every text cell is written as text, never as a formula."""
from __future__ import annotations

import datetime as dt
import io
from typing import Any, Iterable, Sequence

from bridge.bulk import columns, wording
from bridge.bulk.checking import Problem, as_text
from bridge.edc.model import CourseSpec
from bridge.presentation.spreadsheet import csv_line

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
BOM = "\ufeff"
WIDTHS = {"given_names": 22, "family_name": 22, "email": 34, "lang": 12, "completed_on": 18, "grade": 14,
          "learner_id": 26}


def headers(spec: CourseSpec) -> list[str]:
    return header_row(spec.languages_primary_first)


def header_row(languages: Sequence[str]) -> list[str]:
    return [columns.header(key, languages) for key in columns.KEYS]


def example_row(spec: CourseSpec, today: dt.date) -> dict[str, Any]:
    """A filled-in row in the course's primary language (its own example name and a recognisable e-mail
    address, so an example left in is refused, not issued)."""
    lang = wording.language(spec.primary_language)
    values: dict[str, Any] = dict(wording.EXAMPLE[lang])
    values["lang"] = spec.primary_language
    values["completed_on"] = today
    return values


def template_xlsx(spec: CourseSpec, course_label: str, today: dt.date) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    lang = spec.primary_language
    book = Workbook()
    sheet = book.active
    sheet.title = wording.file_text("sheet_learners", lang)
    sheet.append(headers(spec))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    example = example_row(spec, today)
    sheet.append([example.get(key) for key in columns.KEYS])
    for index, key in enumerate(columns.KEYS):
        cell = sheet.cell(row=2, column=index + 1)
        cell.font = Font(italic=True, color="808080")
        if key == "completed_on":
            cell.number_format = "yyyy-mm-dd"
        else:
            cell.data_type = "s"
        sheet.column_dimensions[columns.letter(index)].width = WIDTHS[key]
    sheet.freeze_panes = "A2"
    _instructions(book.create_sheet(wording.file_text("sheet_instructions", lang)), spec, course_label)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _instructions(sheet, spec: CourseSpec, course_label: str) -> None:
    from openpyxl.styles import Font

    languages = spec.languages_primary_first
    for lang in languages:
        sheet.append([wording.file_text("intro", lang, course=course_label)])
    sheet.append([])
    sheet.append([wording.file_text("column", languages[0])] + [wording.file_text("note", lang) for lang in languages])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for key in columns.KEYS:
        notes = [wording.COLUMNS[key][wording.language(lang)][1].format(languages=", ".join(languages),
                                                                         primary=spec.primary_language)
                 for lang in languages]
        sheet.append([columns.header(key, languages)] + notes)
    sheet.column_dimensions["A"].width = 40
    for index in range(len(languages)):
        sheet.column_dimensions[columns.letter(index + 1)].width = 70


def template_csv(spec: CourseSpec, today: dt.date) -> bytes:
    example = example_row(spec, today)
    text = BOM + csv_line(headers(spec)) + csv_line(as_text(example.get(k)) for k in columns.KEYS)
    return text.encode("utf-8")


def _problems_text(problems: Sequence[Problem], lang: str) -> str:
    return "; ".join(f"{columns.header(p.column, (lang,))}: {p.text(lang)}" for p in problems)


def refused_rows(kind: str, languages: Sequence[str], rows: Iterable[tuple[int, dict[str, str], list[Problem]]],
                 lang: str) -> bytes:
    """The refused rows as they were read, with the template's header and a last column saying what is
    wrong with each; fixed, the same file can be uploaded again."""
    head = header_row(languages) + [wording.file_text("problems", lang)]
    records = ([cells.get(key, "") for key in columns.KEYS] + [_problems_text(problems, lang)]
               for _number, cells, problems in rows)
    return _xlsx([head], records) if kind == "xlsx" else _csv([head], records)


def _xlsx(heads: list[list[str]], records: Iterable[list[Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(wording.file_text("sheet_learners", "en"))

    def cells(values: list[Any]) -> list:
        out = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # stored as text: a refused "=cmd|..." comes back as text, never runs
            out.append(cell)
        return out

    for head in heads:
        sheet.append(cells(head))
    for record in records:
        sheet.append(cells(record))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv(heads: list[list[str]], records: Iterable[list[Any]]) -> bytes:
    out = io.StringIO()
    out.write(BOM)
    for head in heads:
        out.write(csv_line(head))
    for record in records:
        out.write(csv_line(record))
    return out.getvalue().encode("utf-8")


RESULT_COLUMNS = ("row", "given_names", "family_name", "email", "outcome", "problems", "issuance_id", "status",
                  "credential_id")


def results_lines(records: Iterable[Sequence[Any]]) -> Iterable[str]:
    """The results per row, as CSV lines (streamed: a 10,000-row batch is written as it is read)."""
    yield BOM + csv_line(RESULT_COLUMNS)
    for record in records:
        yield csv_line(record)

