"""Fixtures for the bulk cohort tests: the sidecar's (SQLite and PostgreSQL registries, SoftHSM, an app
whose worker the test drives) and small builders of cohort files, well-formed and hostile."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path

import pytest

from tests.sidecar.conftest import (STAFF, app, channels, client, ctx, database_url, pilot_spec,  # noqa: F401
                                    put_spec, settings)

REPO = Path(__file__).resolve().parents[2]
SITE, COURSE = "demo", 3
COURSE_KEY = f"{SITE}/{COURSE}"
HEADER = ["Given names / Vardai", "Family name / Pavardė", "E-mail / El. paštas", "Language / Kalba",
          "Completion date / Baigimo data", "Grade / Įvertinimas", "Learner identifier / Besimokančiojo identifikatorius"]
LAST_MONTH = (dt.date.today() - dt.timedelta(days=30)).isoformat()


def learners(n: int, start: int = 0) -> list[list]:
    return [[f"Ona{i}", f"Jonaitė{i}", f"learner{i}@example.edu", "lt" if i % 2 else "en", LAST_MONTH, "9",
             f"S{i:07d}"] for i in range(start, start + n)]


def xlsx(rows: list[list], header: list | None = None, sheet: str = "Learners") -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet)
    ws.append(HEADER if header is None else header)
    for row in rows:
        ws.append([_as_date(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _as_date(value):
    """An ISO date string as the date cell a person's spreadsheet would hold; anything else as it is."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d", value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def csv_bytes(rows: list[list], header: list | None = None, delimiter: str = ",", encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(HEADER if header is None else header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def rezip(data: bytes, add: dict[str, bytes] | None = None, replace: dict[str, bytes] | None = None) -> bytes:
    """An XLSX with parts added or replaced (macros, external links, a DTD...)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, (replace or {}).get(info.filename, src.read(info.filename)))
        for name, body in (add or {}).items():
            dst.writestr(name, body)
    return out.getvalue()


def staff_login(client) -> None:
    page = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/staff/login", data={"token": STAFF, "csrf_token": token}).status_code == 303


def csrf(client, path: str = "/staff/bulk") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


@pytest.fixture
def course(client):
    """The pilot's DATA101 description (en + lt) stored for demo/3."""
    response = put_spec(client, COURSE, pilot_spec("data101"), site=SITE)
    assert response.status_code == 200 and response.get_json()["valid"], response.get_data(as_text=True)
    return COURSE_KEY


@pytest.fixture
def staff(client, course):
    staff_login(client)
    return client


def upload(client, data: bytes, filename: str = "cohort.xlsx", course: str = COURSE_KEY):
    return client.post("/staff/bulk/upload", data={"csrf_token": csrf(client), "course": course,
                                                   "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def batch_id_of(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]


def issue(client, batch_id: str, valid_only: bool = False):
    data = {"csrf_token": csrf(client, f"/staff/bulk/{batch_id}")}
    if valid_only:
        data["valid_only"] = "1"
    return client.post(f"/staff/bulk/{batch_id}/issue", data=data)


def json_rows(text: str) -> list[dict]:
    return json.loads(text)
