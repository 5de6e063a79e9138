"""Templates and checks without a registry: what the template holds, how cells are judged, and hostile
files refused with their reason and in bounded memory."""
from __future__ import annotations

import datetime as dt
import io
import struct
import tracemalloc
import zipfile

import pytest
from openpyxl import load_workbook

from bridge.bulk import checking, columns, files, reading
from bridge.bulk.reading import FileRefused, Limits
from bridge.edc import model
from tests.bulk.conftest import HEADER, LAST_MONTH, csv_bytes, learners, rezip, xlsx
from tests.sidecar.conftest import pilot_spec

SPEC = model.load_course_spec(pilot_spec("data101"))  # en + lt
TODAY = dt.date.today()


def check(data: bytes, limits: Limits = Limits()) -> checking.Checked:
    return checking.check(reading.read(data, limits), SPEC, "demo", 3)


def refusal(data: bytes, limits: Limits = Limits()) -> str:
    with pytest.raises(FileRefused) as caught:
        reading.read(data, limits)
    return caught.value.code


# --- the template ---------------------------------------------------------------------------------


def test_the_xlsx_template_has_the_open_columns_in_the_course_languages_and_an_example_row():
    book = load_workbook(io.BytesIO(files.template_xlsx(SPEC, "demo/3 DATA101", TODAY)))
    learners_sheet, instructions = book.worksheets
    assert learners_sheet.title == "Learners" and instructions.title == "Instructions"
    rows = [list(r) for r in learners_sheet.iter_rows(values_only=True)]
    assert rows[0] == HEADER
    assert rows[1][:4] == ["Jane", "Example", "jane.example@example.invalid", "en"]
    assert rows[1][4].date() == TODAY
    notes = "\n".join(str(c) for r in instructions.iter_rows(values_only=True) for c in r if c)
    assert "one of: en, lt" in notes and "viena iš: en, lt" in notes and "demo/3 DATA101" in notes


def test_a_lithuanian_first_course_gets_lithuanian_first_headers_and_example():
    spec = model.load_course_spec(pilot_spec("data101") | {"primary_language": "lt"})
    assert spec.primary_language == "lt"
    text = files.template_csv(spec, TODAY).decode("utf-8")
    assert text.startswith("\ufeffVardai / Given names,Pavardė / Family name,")
    assert "Ona,Pavyzdytė,ona.pavyzdyte@example.invalid,lt," in text


def test_the_template_reads_back_and_its_example_row_is_refused_not_issued():
    for data in (files.template_xlsx(SPEC, "x", TODAY), files.template_csv(SPEC, TODAY)):
        result = check(data)
        assert [(p.column, p.code) for p in result.rows[0].problems] == [("email", "example")]
        assert result.valid == []


def test_headers_are_recognised_in_either_language_or_as_keys():
    assert columns.column_of("Pavardė") == "family_name"
    assert columns.column_of("  e-mail ") == "email"
    assert columns.column_of("completed_on") == "completed_on"
    assert columns.column_of("Given names / Vardai *") == "given_names"
    assert columns.column_of("Notes") is None


# --- cells ----------------------------------------------------------------------------------------


def test_a_good_row_becomes_the_event_moodle_would_send():
    result = check(xlsx(learners(1)))
    event = result.valid[0].event
    assert event["type"] == "course_completed" and event["completed_at"] == f"{LAST_MONTH}T00:00:00Z"
    assert event["learner"] == {"id": "bulk:S0000000", "email": "learner0@example.edu", "given_names": "Ona0",
                                "family_name": "Jonaitė0", "lang": "en"}
    assert event["grade"] == "9" and event["course"]["id"] == 3 and event["site"] == {"id": "demo"}


def test_without_an_identifier_the_learner_id_is_derived_from_site_and_address():
    rows = [r[:6] for r in learners(1)]
    first = check(xlsx(rows, header=HEADER[:6])).valid[0].event["learner"]["id"]
    rows[0][2] = "LEARNER0@EXAMPLE.EDU"
    again = check(xlsx(rows, header=HEADER[:6])).valid[0].event["learner"]["id"]
    assert first == again == checking.learner_id("demo", None, "learner0@example.edu")
    assert first.startswith("bulk:") and len(first) == 37 and first != checking.learner_id("other", None, "learner0@example.edu")


@pytest.mark.parametrize("column, value, code", [
    (0, "", "missing"), (1, "  ", "missing"), (2, "", "missing"), (2, "ona@", "email"), (2, "ona@localhost", "email"),
    (2, "onė@example.lt", "email"), (3, "de", "language"), (4, "", "missing"), (4, "2026-02-30", "date"),
    (4, "yesterday", "date"), (4, "2999-12-31", "future"), (4, "1969-12-31", "too_old"), (6, "has space", "identifier"),
    (0, "=1+1", "formula"), (1, "+cmd|' /C calc'!A0", "formula"), (2, "@SUM(A1)", "formula"), (5, "-2+3", "formula"),
    (0, "\t=1", "formula"), (0, "Ona\nJonaitė", "control"), (0, "x" * 201, "too_long"), (5, "9" * 65, "too_long"),
])
def test_each_bad_cell_is_named_by_column_and_problem(column, value, code):
    rows = learners(2)
    rows[1][column] = value
    for data in (xlsx(rows), csv_bytes(rows)):
        result = check(data)
        assert result.rows[0].problems == []
        assert [(p.column, p.code) for p in result.rows[1].problems] == [(columns.KEYS[column], code)]
        assert result.rows[1].number == 3 and result.rows[1].event is None


def test_a_formula_cell_of_a_workbook_is_refused_as_formula():
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["Ona", "=CONCAT(\"J\",\"onaitė\")", "ona@example.edu", "lt", LAST_MONTH, "9", "S1"])
    out = io.BytesIO()
    book.save(out)
    assert [(p.column, p.code) for p in check(out.getvalue()).rows[0].problems] == [("family_name", "formula")]


def test_duplicates_in_the_file_are_refused_naming_the_first_row():
    rows = learners(3)
    rows[2][2] = rows[0][2].upper()  # same address, other identifier
    rows.append(list(learners(1)[0]))  # row 5: the very same learner as row 2
    result = check(xlsx(rows))
    assert [(r.number, [(p.column, p.code, p.values) for p in r.problems]) for r in result.refused] == [
        (4, [("email", "duplicate", {"first": 2})]), (5, [("learner_id", "duplicate", {"first": 2})])]


def test_a_missing_required_column_refuses_every_row_and_says_which():
    result = check(xlsx([r[:2] + r[3:] for r in learners(2)], header=HEADER[:2] + HEADER[3:]))
    assert result.missing_columns == ("email",) and result.valid == []
    assert all(("email", "missing_column") in [(p.column, p.code) for p in r.problems] for r in result.rows)


def test_csv_as_excel_writes_it_in_lithuania_semicolons_and_windows_1257():
    rows = learners(2)
    result = check(csv_bytes(rows, header=["Vardai", "Pavardė", "El. paštas", "Kalba", "Baigimo data"],
                             delimiter=";", encoding="cp1257"))
    assert len(result.valid) == 2 and result.valid[1].event["learner"]["family_name"] == "Jonaitė1"


def test_unknown_columns_are_ignored_and_named():
    rows = [r + ["a note"] for r in learners(1)]
    result = check(xlsx(rows, header=HEADER + ["Notes"]))
    assert result.ignored_headers == ("Notes",) and len(result.valid) == 1


# --- hostile files --------------------------------------------------------------------------------


def _zip(parts: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, body in parts.items():
            archive.writestr(name, body)
    return out.getvalue()


def _workbook_parts() -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(xlsx(learners(1)))) as archive:
        return {info.filename: archive.read(info.filename) for info in archive.infolist()}


def test_a_zip_bomb_is_refused_by_its_declared_size_before_anything_unpacks():
    parts = _workbook_parts()
    parts["xl/worksheets/sheet2.xml"] = b"\0" * (80 * 1024 * 1024)
    tracemalloc.start()
    data = _zip(parts)
    tracemalloc.stop()
    assert len(data) < 200_000
    tracemalloc.start()
    assert refusal(data) == "unpacked_too_big"
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 10 * 1024 * 1024


def test_a_zip_bomb_under_the_size_limit_is_refused_by_its_ratio():
    parts = _workbook_parts()
    parts["xl/worksheets/sheet2.xml"] = b"<a>" + b" " * (20 * 1024 * 1024) + b"</a>"
    assert refusal(_zip(parts)) == "ratio"


def test_a_zip_whose_declared_sizes_lie_is_refused_without_unpacking_more():
    parts = _workbook_parts()
    parts["xl/worksheets/sheet2.xml"] = b"<x>" + b"y" * 5000 + b"</x>"
    data = bytearray(_zip(parts))
    name = b"xl/worksheets/sheet2.xml"
    # patch the declared uncompressed size (local header offset 22, central directory offset 24) to 100 bytes
    at = 0
    while (at := data.find(name, at + 1)) != -1:
        header = data.rfind(b"PK", 0, at)
        if data[header:header + 4] == b"PK\x03\x04":
            struct.pack_into("<I", data, header + 22, 100)
        elif data[header:header + 4] == b"PK\x01\x02":
            struct.pack_into("<I", data, header + 24, 100)
    assert refusal(bytes(data)) == "sizes_lie"


def test_a_million_rows_are_refused_at_the_row_limit_with_bounded_memory():
    """A real million-row sheet (hand-written sheet XML, 1,000,000 rows): the rows are never all read."""
    parts = _workbook_parts()
    body = io.BytesIO()
    body.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
               b'spreadsheetml/2006/main"><sheetData>')
    body.write(b'<row r="1">' + b"".join(f'<c r="{c}1" t="inlineStr"><is><t>{h}</t></is></c>'.encode()
                                       for c, h in zip("ABCDE", ["Given names", "Family name", "E-mail", "Language",
                                                                 "Completion date"])) + b"</row>")
    for n in range(2, 1_000_002):
        body.write(f'<row r="{n}"><c><v>{n}</v></c></row>'.encode())
    body.write(b"</sheetData></worksheet>")
    parts["xl/worksheets/sheet1.xml"] = body.getvalue()
    data = _zip(parts)
    tracemalloc.start()
    assert refusal(data) == "too_many_rows"
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 150 * 1024 * 1024, peak


def test_a_smaller_row_limit_from_settings_holds_for_csv_too():
    with pytest.raises(FileRefused) as caught:
        reading.read(csv_bytes(learners(101)), Limits(max_rows=100))
    assert caught.value.code == "too_many_rows" and "more than 100 learner rows" in str(caught.value)


def test_a_huge_cell_is_refused_in_csv_and_named_too_long_in_a_workbook():
    rows = learners(1)
    rows[0][0] = "x" * 100_000
    assert refusal(csv_bytes(rows)) == "huge_cell"
    rows[0][0] = "x" * 30_000
    assert [(p.column, p.code) for p in check(xlsx(rows)).rows[0].problems] == [("given_names", "too_long")]


def test_the_upload_size_limit_holds():
    assert refusal(b"a,b\n" * 1000, Limits(max_bytes=1000)) == "too_big"


@pytest.mark.parametrize("make, code", [
    (lambda: rezip(xlsx(learners(1)), add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"}), "macros"),
    (lambda: rezip(xlsx(learners(1)), add={"xl/externalLinks/externalLink1.xml": b"<externalLink/>"}), "external_links"),
    (lambda: rezip(xlsx(learners(1)), add={"xl/activeX/activeX1.xml": b"<ax/>"}), "macros"),
    (lambda: rezip(xlsx(learners(1)), replace={"[Content_Types].xml": rezip_types()}), "macros"),
    (lambda: rezip(xlsx(learners(1)), replace={"xl/worksheets/sheet1.xml":
                   b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><worksheet/>'}), "dtd"),
    (lambda: _zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"}), "ods"),
    (lambda: _zip({"word/document.xml": b"<w/>", "[Content_Types].xml": b"<Types/>"}), "not_workbook"),
    (lambda: b"PK\x03\x04" + b"\x00" * 100, "damaged"),
    (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, "old_excel"),
    (lambda: b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "not_spreadsheet"),
    (lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\x00", "not_spreadsheet"),
    (lambda: bytes(range(256)) * 4, "not_spreadsheet"),
    (lambda: b"", "empty"),
    (lambda: b"\n\n\n", "no_header"),
])
def test_hostile_and_foreign_files_are_refused_with_their_reason(make, code):
    assert refusal(make()) == code


def rezip_types() -> bytes:
    with zipfile.ZipFile(io.BytesIO(xlsx(learners(1)))) as archive:
        types = archive.read("[Content_Types].xml")
    return types.replace(b"spreadsheetml.sheet.main+xml", b"sheet.macroEnabled.main+xml")


def test_a_header_naming_no_column_is_refused():
    with pytest.raises(FileRefused) as caught:
        check(csv_bytes([["1", "2"]], header=["foo", "bar"]))
    assert caught.value.code == "no_columns"
    assert "vardai, pavardė" in caught.value.text("lt")


def test_the_refused_rows_file_writes_formulas_back_as_text():
    rows = learners(1)
    rows[0][0] = "=cmd|' /C calc'!A0"
    result = check(xlsx(rows))
    data = files.refused_rows("xlsx", SPEC.languages_primary_first, [(r.number, r.cells, r.problems) for r in result.refused], "en")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "cmd|" in sheet
    text = files.refused_rows("csv", SPEC.languages_primary_first, [(r.number, r.cells, r.problems) for r in result.refused], "en").decode()
    assert "'=cmd|" in text


def test_every_text_of_the_feature_is_in_english_and_lithuanian():
    from bridge.bulk import wording

    for table in (wording.PROBLEMS, wording.REFUSALS, wording.FILE, wording.PAGE, wording.EXAMPLE):
        assert set(table["en"]) == set(table["lt"])
    assert all(set(labels) == {"en", "lt"} for labels in wording.COLUMNS.values())
