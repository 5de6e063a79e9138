"""The staff pages, on SQLite and PostgreSQL: upload, the preview of every bad cell, issuing (all, or
the valid rows only), the refused rows to fix, a second upload that issues nothing new, progress."""
from __future__ import annotations

import csv
import io
import json

from openpyxl import load_workbook
from sqlalchemy import func, select

from bridge import worker
from bridge.registry.models import AuditEntry, BulkBatch, BulkRow, Issuance
from tests.bulk.conftest import (COURSE_KEY, HEADER, LAST_MONTH, batch_id_of, csv_bytes, issue, learners,
                                 upload, xlsx)


def _count(ctx, *where) -> int:
    with ctx.registry.reading() as db:
        return db.execute(select(func.count()).select_from(Issuance).where(*where)).scalar_one()


def test_pages_need_a_staff_login(client, course):
    response = client.get("/staff/bulk")
    assert response.status_code == 303 and "/staff/login" in response.headers["Location"]
    assert client.get(f"/staff/bulk/template?course={COURSE_KEY}").status_code == 303


def test_a_clean_file_is_previewed_then_issued_and_followed_to_the_end(staff, ctx):
    batch = batch_id_of(upload(staff, xlsx(learners(5))))
    page = staff.get(f"/staff/bulk/{batch}")
    text = page.get_data(as_text=True)
    assert "5 rows: 5 can be issued, 0 have problems." in text
    assert "Issue 5 credentials" in text and "http-equiv=\"refresh\"" not in text
    assert "script" not in page.headers["Content-Security-Policy"] and "<script" not in text
    assert _count(ctx) == 0  # the preview issued nothing

    response = issue(staff, batch)
    assert response.status_code == 303
    assert "5 new issuances queued" in staff.get(f"/staff/bulk/{batch}").get_data(as_text=True)
    assert _count(ctx) == 5
    progress = staff.get(f"/staff/bulk/{batch}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="3">' in progress and "<progress" in progress

    assert worker.drain(ctx) == 5
    report = staff.get(f"/staff/bulk/{batch}").get_data(as_text=True)
    assert "Report for cohort.xlsx" in report and 'id="finished"' in report and "http-equiv" not in report
    assert 'id="state-delivered">5<' in report

    results = staff.get(f"/staff/bulk/{batch}/results.csv")
    rows = list(csv.DictReader(io.StringIO(results.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["outcome"] for r in rows] == ["new"] * 5
    assert all(r["status"] == "delivered" and r["credential_id"].startswith("urn:credential:") for r in rows)
    assert rows[0]["email"] == "learner0@example.edu"

    with ctx.registry.reading() as db:
        actions = [(e.actor, e.action) for e in db.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()]
        accepted = [json.loads(e.details) for e in db.execute(
            select(AuditEntry).where(AuditEntry.action == "event.accepted")).scalars()]
        learner_ids = {i.learner_id for i in db.execute(select(Issuance)).scalars()}
    assert ("staff", "bulk.uploaded") in actions and ("staff", "bulk.issued") in actions
    assert sum(1 for a in actions if a == ("staff", "event.accepted")) == 5
    assert all(d["source"] == "bulk" and d["batch"] == batch for d in accepted)
    assert learner_ids == {f"bulk:S{i:07d}" for i in range(5)}


def test_every_kind_of_bad_cell_is_listed_by_row_and_column(staff, ctx):
    rows = learners(9)
    rows[0][0] = ""  # row 2: missing given names
    rows[1][2] = "not-an-address"  # row 3
    rows[2][4] = "2999-01-01"  # row 4: in the future
    rows[3][3] = "xx"  # row 5: unknown language
    rows[4][2] = rows[5][2]  # row 6 and 7: the same learner's address twice -> row 7 refused
    rows[4][6] = rows[5][6]
    rows[7][1] = '=HYPERLINK("http://evil.example","x")'  # row 9: a formula
    rows[8][4] = "31.12.2025"  # row 10: not a date
    batch = batch_id_of(upload(staff, xlsx(rows)))
    text = staff.get(f"/staff/bulk/{batch}").get_data(as_text=True)
    for row, column, words in [
            (2, "Given names", "missing: this column is required"),
            (3, "E-mail", "not an e-mail address"),
            (4, "Completion date", "in the future"),
            (5, "Language", "unknown language &#39;xx&#39;: use one of en, lt"),
            (7, "Learner identifier", "the same learner as row 6"),
            (9, "Family name", "formula or macro content"),
            (10, "Completion date", "not a date: write it as YYYY-MM-DD")]:
        assert f"<tr><td>{row}</td><td>{column}</td><td>{words}" in text, (row, column)
    assert "9 rows: 2 can be issued, 7 have problems." in text
    assert "Issue the 2 valid rows only" in text and "Issue 2 credentials" not in text

    lt = staff.get(f"/staff/bulk/{batch}?lang=lt").get_data(as_text=True)
    assert "<tr><td>4</td><td>Baigimo data</td><td>ateityje" in lt


def test_a_file_with_errors_issues_nothing_unless_staff_choose_the_valid_rows(staff, ctx):
    rows = learners(4)
    rows[1][2] = "broken@"
    batch = batch_id_of(upload(staff, xlsx(rows)))
    issue(staff, batch)  # not chosen: nothing
    assert "Nothing issued: some rows have problems." in staff.get(f"/staff/bulk/{batch}").get_data(as_text=True)
    assert _count(ctx) == 0
    with ctx.registry.reading() as db:
        assert db.get(BulkBatch, batch).status == "checked"
    issue(staff, batch, valid_only=True)
    assert _count(ctx) == 3
    with ctx.registry.reading() as db:
        outcomes = dict(db.execute(select(BulkRow.row_number, BulkRow.outcome).where(BulkRow.batch_id == batch)).all())
    assert outcomes == {2: "new", 3: "refused", 4: "new", 5: "new"}
    issue(staff, batch, valid_only=True)  # a second click issues nothing more
    assert "already issued" in staff.get(f"/staff/bulk/{batch}").get_data(as_text=True)
    assert _count(ctx) == 3


def test_the_refused_rows_come_back_to_fix_and_upload_again(staff, ctx):
    rows = learners(4)
    rows[1][2] = "broken@"
    rows[3][4] = "2999-01-01"
    batch = batch_id_of(upload(staff, xlsx(rows)))
    issue(staff, batch, valid_only=True)
    assert _count(ctx) == 2

    refused = staff.get(f"/staff/bulk/{batch}/refused.xlsx")
    assert refused.status_code == 200 and refused.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(refused.data), read_only=True).worksheets[0]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][:7] == HEADER and values[0][7] == "Problems"
    assert [v[2] for v in values[1:]] == ["broken@", "learner3@example.edu"]
    assert "E-mail: not an e-mail address" in values[1][7] and "in the future" in values[2][7]

    fixed = [v[:7] for v in values[1:]]
    fixed[0][2], fixed[1][4] = "learner1@example.edu", LAST_MONTH
    again = batch_id_of(upload(staff, xlsx(fixed), "fixed.xlsx"))
    assert "2 rows: 2 can be issued, 0 have problems." in staff.get(f"/staff/bulk/{again}").get_data(as_text=True)
    issue(staff, again)
    assert _count(ctx) == 4

    csv_refused = staff.get(f"/staff/bulk/{batch_id_of(upload(staff, csv_bytes(rows), 'c.csv'))}/refused.csv")
    lines = list(csv.reader(io.StringIO(csv_refused.get_data(as_text=True).lstrip("\ufeff"))))
    assert lines[0][7] == "Problems" and len(lines) == 3


def test_the_same_file_again_issues_nothing_new_and_says_so(staff, ctx):
    data = xlsx(learners(3))
    first = batch_id_of(upload(staff, data))
    issue(staff, first)
    worker.drain(ctx)
    second = batch_id_of(upload(staff, data))
    preview = staff.get(f"/staff/bulk/{second}").get_data(as_text=True)
    assert "Every valid row was issued before: issuing this file again issues nothing new." in preview
    issue(staff, second)
    page = staff.get(f"/staff/bulk/{second}").get_data(as_text=True)
    assert "Nothing new: every row of this file was issued before." in page
    assert 'id="count-new">0<' in page and 'id="count-duplicate">3<' in page
    assert _count(ctx) == 3 and worker.drain(ctx) == 0
    with ctx.registry.reading() as db:
        batch = db.get(BulkBatch, second)
        assert (batch.created_count, batch.duplicate_count) == (0, 3)


def test_a_hostile_file_is_refused_on_the_page_with_its_reason(staff, ctx):
    response = upload(staff, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10, "photo.png")
    assert response.status_code == 303 and response.headers["Location"].endswith("/staff/bulk")
    text = staff.get("/staff/bulk").get_data(as_text=True)
    assert "The file was refused: it is neither an XLSX workbook nor a CSV text file" in text
    with ctx.registry.reading() as db:
        refused = db.execute(select(AuditEntry).where(AuditEntry.action == "bulk.refused")).scalar_one()
    assert json.loads(refused.details)["reason"] == "not_spreadsheet"


def test_templates_download_from_the_page(staff):
    page = staff.get("/staff/bulk").get_data(as_text=True)
    assert f"/staff/bulk/template?course={COURSE_KEY}&amp;format=xlsx" in page
    response = staff.get(f"/staff/bulk/template?course={COURSE_KEY}&format=xlsx")
    assert response.status_code == 200 and 'filename="template-demo-3.xlsx"' in response.headers["Content-Disposition"]
    assert staff.get(f"/staff/bulk/template?course={COURSE_KEY}&format=csv").data.startswith("\ufeff".encode())
    assert staff.get("/staff/bulk/template?course=demo/99&format=xlsx").status_code == 404


def test_the_migration_creates_the_tables_the_models_describe(ctx):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bridge.registry.models import Base

    with ctx.registry.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in differences if "bulk_" in repr(d)] == []


def test_a_batch_that_stopped_part_way_is_continued_without_storing_a_row_twice(staff, ctx):
    import datetime as dt

    from sqlalchemy import update

    from bridge.bulk import batches

    batch = batch_id_of(upload(staff, xlsx(learners(6))))
    with ctx.registry.reading() as db:  # the process died after storing its first chunk (here: two rows)
        first = db.execute(select(BulkRow.row_number, BulkRow.event).where(BulkRow.batch_id == batch)
                           .order_by(BulkRow.row_number).limit(2)).all()
    batches._store_chunk(ctx.registry, batch, first, "staff")
    with ctx.registry.transaction() as db:
        db.execute(update(BulkBatch).where(BulkBatch.id == batch).values(
            status="issuing", valid_only=False, issued_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)))
    page = staff.get(f"/staff/bulk/{batch}").get_data(as_text=True)
    assert 'id="resume"' in page and "Continue issuing" in page
    assert _count(ctx) == 2
    issue(staff, batch)
    assert _count(ctx) == 6
    with ctx.registry.reading() as db:
        row = db.get(BulkBatch, batch)
        assert (row.status, row.created_count, row.duplicate_count) == ("issued", 6, 0)
    issue(staff, batch)  # issued now: never again
    assert _count(ctx) == 6


def test_an_upload_over_the_size_limit_is_refused_with_the_limit(settings, channels, ec_token):
    import dataclasses

    from bridge.app import create_app, stop_app
    from tests.bulk.conftest import COURSE, SITE, pilot_spec, put_spec, staff_login

    app = create_app(dataclasses.replace(settings, bulk_max_upload_bytes=4096), channels=channels)
    try:
        client = app.test_client()
        put_spec(client, COURSE, pilot_spec("data101"), site=SITE)
        staff_login(client)
        response = upload(client, csv_bytes(learners(200)), "big.csv")
        assert response.status_code == 303
        assert "The file was refused: it is larger than 4 KB (EDC_BULK_MAX_UPLOAD_BYTES)" in client.get("/staff/bulk").get_data(as_text=True)
        huge = upload(client, b"x" * (2 * 1024 * 1024), "huge.csv")  # past the form's own limit: refused unread
        assert huge.status_code == 413
    finally:
        stop_app(app)
        app.extensions["edc"].registry.dispose()


def test_a_large_batch_is_handed_over_off_the_request_and_followed(staff, ctx, monkeypatch):
    import time

    from bridge.web import staff_bulk

    monkeypatch.setattr(staff_bulk, "INLINE_ROWS", 2)
    batch = batch_id_of(upload(staff, xlsx(learners(6))))
    issue(staff, batch)
    page = staff.get(f"/staff/bulk/{batch}").get_data(as_text=True)
    assert "Issuing 6 rows: they are being handed to the intake" in page
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with ctx.registry.reading() as db:
            if db.get(BulkBatch, batch).status == "issued":
                break
        time.sleep(0.1)
    assert _count(ctx) == 6
    assert 'id="handed"' not in staff.get(f"/staff/bulk/{batch}").get_data(as_text=True)
    issue(staff, batch)
    assert "already issued" in staff.get(f"/staff/bulk/{batch}").get_data(as_text=True)
    assert worker.drain(ctx) == 6
