"""A cohort file's bytes to rows of cells — after refusing what no spreadsheet a person filled in is.

Read with openpyxl (read-only, streaming: memory stays flat in the number of rows) for XLSX, and the
standard csv module for CSV. Before openpyxl sees an XLSX, the zip itself is judged: its parts' declared
sizes and compression ratios, then what they really unpack to (streamed, with a cap, and each part's
CRC checked by zipfile), macros (vbaProject.bin, ActiveX, a macro-enabled content type), external
links and XML document type declarations (entity expansion). Everything refused is a `FileRefused`
with a code the pages and the CLI put in words (bridge/bulk/wording.py); never a traceback.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any, Iterator

from bridge.bulk import wording

MAX_COLUMNS = 64  # a template has 7; whatever is further right is not read
MAX_CELL_CHARS = 32_767  # Excel's own limit per cell; a longer one refuses the file (CSV)
MAX_PARTS = 2_000  # an XLSX of one sheet has about a dozen
MAX_RATIO = 100  # sheet XML of real data compresses 5-20:1; a zip bomb 1000:1 and more
RATIO_FLOOR = 1024 * 1024  # parts smaller than this unpacked are not judged by ratio
HEADER_SEARCH_ROWS = 10  # the header is the first non-empty row among these
CHUNK = 1024 * 1024
LEARNER_SHEETS = frozenset(wording.file_text("sheet_learners", lang).casefold() for lang in wording.LANGUAGES)


class FileRefused(ValueError):
    """The whole file is refused; `code` and `values` say why in words (wording.refusal_text)."""

    def __init__(self, code: str, **values: Any) -> None:
        self.code = code
        self.values = values
        super().__init__(wording.refusal_text(code, "en", **values))

    def text(self, lang: str) -> str:
        return wording.refusal_text(self.code, lang, **self.values)


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 16 * 1024 * 1024
    max_unpacked: int = 64 * 1024 * 1024
    max_rows: int = 20_000

    @classmethod
    def of(cls, settings: Any) -> "Limits":
        return cls(settings.bulk_max_upload_bytes, settings.bulk_max_unpacked_bytes, settings.bulk_max_rows)


@dataclass
class Sheet:
    """What the file holds: its kind, the header's cells and each non-empty row with its number."""

    kind: str  # xlsx | csv
    header: list[Any]
    rows: list[tuple[int, tuple[Any, ...]]] = field(default_factory=list)


def read(data: bytes, limits: Limits) -> Sheet:
    """The file's header and rows, or FileRefused."""
    if not data:
        raise FileRefused("empty")
    if len(data) > limits.max_bytes:
        raise FileRefused("too_big", limit=_mb(limits.max_bytes))
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # OLE2: .xls, or an encrypted .xlsx
        raise FileRefused("old_excel")
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _read_xlsx(data, limits)
    return _read_csv(data, limits)


def _mb(size: int) -> str:
    """16777216 -> "16 MB", 4096 -> "4 KB": a limit as people read it."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB"
    return f"{size / 1024:.3g} KB"


# --- XLSX ----------------------------------------------------------------------------------------


def _read_xlsx(data: bytes, limits: Limits) -> Sheet:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise FileRefused("damaged") from None
    with archive:
        judge_zip(archive, limits)
    return _openpyxl_rows(data, limits)


def judge_zip(archive: zipfile.ZipFile, limits: Limits) -> None:
    """Refuse the archive on what it declares, then on what it really unpacks to (see the module doc)."""
    members = archive.infolist()
    if len(members) > MAX_PARTS:
        raise FileRefused("too_many_parts", limit=MAX_PARTS)
    names = {m.filename for m in members}
    if "mimetype" in names and "content.xml" in names:
        raise FileRefused("ods")
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise FileRefused("not_workbook")
    for member in members:
        lower = member.filename.lower()
        if "vbaproject" in lower or lower.startswith(("xl/activex/", "xl/embeddings/", "xl/macrosheets/")):
            raise FileRefused("macros")
        if lower.startswith("xl/externallinks/"):
            raise FileRefused("external_links")
    declared = sum(m.file_size for m in members)
    if declared > limits.max_unpacked:
        raise FileRefused("unpacked_too_big", limit=_mb(limits.max_unpacked))
    for member in members:
        if member.file_size > RATIO_FLOOR and member.file_size > MAX_RATIO * max(member.compress_size, 1):
            raise FileRefused("ratio", ratio=member.file_size // max(member.compress_size, 1))
    budget = limits.max_unpacked
    for member in members:
        budget -= _unpack_checked(archive, member, budget)
    types = archive.read("[Content_Types].xml")
    if b"macroEnabled" in types or b"vbaProject" in types:
        raise FileRefused("macros")


def _unpack_checked(archive: zipfile.ZipFile, member: zipfile.ZipInfo, budget: int) -> int:
    """Stream one part, counting what it really unpacks to and looking for a DTD; its size."""
    total, tail = 0, b""
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(CHUNK):
                total += len(chunk)
                if total > budget:
                    raise FileRefused("unpacked_too_big", limit=_mb(budget))
                window = tail + chunk
                if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                    raise FileRefused("dtd")
                tail = chunk[-16:]
    except FileRefused:
        raise
    except (zipfile.BadZipFile, EOFError, zlib.error):
        raise FileRefused("sizes_lie") from None
    except (NotImplementedError, RuntimeError):  # an unknown compression method, an encrypted part
        raise FileRefused("damaged") from None
    if total != member.file_size:
        raise FileRefused("sizes_lie")
    return total


def _openpyxl_rows(data: bytes, limits: Limits) -> Sheet:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False,
                                      keep_vba=False)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on a broken workbook; all mean "unreadable"
        raise FileRefused("unreadable", detail=type(exc).__name__) from None
    try:
        sheets = book.worksheets
        if not sheets:
            raise FileRefused("no_header")
        sheet = next((s for s in sheets if s.title.casefold() in LEARNER_SHEETS), sheets[0])
        return _collect("xlsx", _xlsx_rows(sheet), limits)
    except FileRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - a malformed cell deep in the sheet XML
        raise FileRefused("unreadable", detail=type(exc).__name__) from None
    finally:
        book.close()


def _xlsx_rows(sheet) -> Iterator[tuple[int, tuple[Any, ...]]]:
    for number, values in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
        values = list(values)
        while values and values[-1] is None:  # read-only mode pads every row to the sheet's declared width
            values.pop()
        yield number, tuple(_plain(v) for v in values)


def _plain(value: Any) -> Any:
    """openpyxl's values as the checker reads them: dates as dates, whole floats as ints."""
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time() else value
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


# --- CSV -----------------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1257 (what Excel on a Lithuanian Windows writes);
    bytes with NULs or other control characters are no CSV at all."""
    if b"\x00" in data:
        raise FileRefused("not_spreadsheet")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1257")
        except UnicodeDecodeError:
            raise FileRefused("not_spreadsheet") from None
    if any(ord(ch) < 32 and ch not in "\t\r\n" for ch in text[:65536]) or "\x7f" in text[:65536]:
        raise FileRefused("not_spreadsheet")
    return text


def _delimiter(text: str) -> str:
    """`,` as the template writes; `;` or a tab when the header line has more of those (Excel in a
    locale whose decimal mark is a comma saves with `;`)."""
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(data: bytes, limits: Limits) -> Sheet:
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=False)
    old = csv.field_size_limit()
    csv.field_size_limit(MAX_CELL_CHARS)
    try:
        return _collect("csv", _csv_rows(reader), limits)
    finally:
        csv.field_size_limit(old)


def _csv_rows(reader) -> Iterator[tuple[int, tuple[Any, ...]]]:
    number = 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise FileRefused("huge_cell", limit=MAX_CELL_CHARS, row=number + 1) from None
        number += 1
        yield number, tuple(values[:MAX_COLUMNS])


# --- both ----------------------------------------------------------------------------------------


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _collect(kind: str, rows: Iterator[tuple[int, tuple[Any, ...]]], limits: Limits) -> Sheet:
    """The first non-empty row is the header; then every non-empty row, up to the row limit. Empty
    rows count towards a looser limit too, so a sheet of a million formatted empty rows ends early."""
    header: list[Any] | None = None
    sheet = Sheet(kind, [])
    scanned = 0
    for number, values in rows:
        scanned += 1
        if scanned > limits.max_rows * 5 + 1000:
            raise FileRefused("too_many_rows", limit=limits.max_rows)
        if all(_empty(v) for v in values):
            continue
        if header is None:
            if number > HEADER_SEARCH_ROWS:
                raise FileRefused("no_header")
            header = list(values)
            continue
        if len(sheet.rows) >= limits.max_rows:
            raise FileRefused("too_many_rows", limit=limits.max_rows)
        sheet.rows.append((number, values))
    if header is None:
        raise FileRefused("no_header")
    sheet.header = header
    return sheet
