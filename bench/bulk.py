"""Bulk cohort benchmark (issue 15): a 10,000-row spreadsheet through the staff pages of a real sidecar.

Usage: .venv/bin/python bench/bulk.py [-n 10000] [--key ecp256|rsa3072] [--format xlsx|csv]
                                      [--workers 2] [--timeout 3600] [--database-url postgresql+psycopg://...]

One run on a fresh SoftHSM token and a fresh registry (a SQLite file, or a new schema on the PostgreSQL of
--database-url): `edc-bridge serve` on loopback with an SMTP server (aiosmtpd) as the only channel. A staff
session (the staff token's login page) uploads the file and opens its preview, then issues it, and the
clock runs until the SMTP server has accepted every learner's mail. It prints
  - the preview time: upload (read, every cell checked, completions issued before looked up, the batch
    stored) and the preview page rendered — the goal is <= 10 s for 10,000 rows;
  - the issue time: the request, and until every row is handed to the intake (validated, stored in the
    inbox, audited; a large batch off the request, in chunks, the worker sealing from the first);
  - the time until every credential is sealed and mailed, and credentials/s;
  - a second upload of the same file: its preview time, and that issuing it adds nothing.
With --timeout reached first it says how far it got.
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import requests  # noqa: E402

from delivery.sinks import MailSink, free_port  # noqa: E402
from hsm.demo_token import create_demo_token  # noqa: E402
from reliability.harness import SITE, STAFF_TOKEN, Sidecar, pilot_course, sidecar_env  # noqa: E402

COURSE_ID = 12
HEADER = ["Given names / Vardai", "Family name / Pavardė", "E-mail / El. paštas", "Language / Kalba",
          "Completion date / Baigimo data", "Grade / Įvertinimas", "Learner identifier / Besimokančiojo identifikatorius"]


def cohort(n: int, kind: str) -> bytes:
    completed = dt.date.today() - dt.timedelta(days=7)
    rows = ([f"Ona{i}", f"Jonaitė{i}", f"learner{i}@example.edu", "lt" if i % 2 else "en", completed, str(5 + i % 6),
             f"S{i:07d}"] for i in range(n))
    if kind == "csv":
        import csv

        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows([*r[:4], r[4].isoformat(), *r[5:]] for r in rows)
        return ("\ufeff" + out.getvalue()).encode("utf-8")
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Learners")
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csrf(session: requests.Session, url: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', session.get(url, timeout=60).text).group(1)


def login(base: str) -> requests.Session:
    session = requests.Session()
    token = _csrf(session, f"{base}/staff/login")
    response = session.post(f"{base}/staff/login", data={"token": STAFF_TOKEN, "csrf_token": token},
                            allow_redirects=False, timeout=60)
    assert response.status_code == 303, response.text
    return session


def preview(session: requests.Session, base: str, data: bytes, kind: str) -> tuple[str, float, float, str]:
    """(batch id, seconds for the upload and check, seconds for the preview page, the page's summary)."""
    token = _csrf(session, f"{base}/staff/bulk")
    started = time.perf_counter()
    response = session.post(f"{base}/staff/bulk/upload", data={"csrf_token": token, "course": f"{SITE}/{COURSE_ID}"},
                            files={"file": (f"cohort.{kind}", data)}, allow_redirects=False, timeout=600)
    uploaded = time.perf_counter()
    assert response.status_code == 303 and "/staff/bulk/" in response.headers["Location"], response.text[:500]
    batch = response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    page = session.get(f"{base}/staff/bulk/{batch}", timeout=600)
    shown = time.perf_counter()
    summary = re.search(r'<p id="summary">([^<]+)</p>', page.text).group(1)
    return batch, uploaded - started, shown - uploaded, summary


def issue(session: requests.Session, base: str, batch: str) -> tuple[float, float, str]:
    """(seconds the Issue request took, seconds until every row was handed to the intake, the flash)."""
    token = _csrf(session, f"{base}/staff/bulk/{batch}")
    started = time.perf_counter()
    response = session.post(f"{base}/staff/bulk/{batch}/issue", data={"csrf_token": token}, allow_redirects=False,
                            timeout=1800)
    took = time.perf_counter() - started
    assert response.status_code == 303, response.text[:500]
    page = session.get(f"{base}/staff/bulk/{batch}", timeout=600).text
    flash = re.search(r'<p class="flash ok" role="status">([^<]+)</p>', page)
    while 'id="handed"' in page:  # a large batch is handed over off the request: its page says how far
        time.sleep(0.25)
        page = session.get(f"{base}/staff/bulk/{batch}", timeout=600).text
    return took, time.perf_counter() - started, flash.group(1) if flash else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000, help="learner rows (default 10,000)")
    parser.add_argument("--key", default="ecp256", choices=("ecp256", "rsa3072"), help="the seal key type")
    parser.add_argument("--format", default="xlsx", choices=("xlsx", "csv"), help="the file uploaded")
    parser.add_argument("--workers", type=int, default=2, help="EDC_WORKERS (default 2)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for every mail")
    parser.add_argument("--database-url", help="a PostgreSQL URL (default: a fresh SQLite file)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="edc-bench-bulk-") as tmp_name:
        tmp = Path(tmp_name)
        token = create_demo_token(tmp / "token", key_type=args.key, token_label=f"bench-{args.key}")
        mail = MailSink(keep_messages=False).start()
        port = free_port()
        extra = {"EDC_WORKERS": str(args.workers), "EDC_PUBLIC_URL": f"http://127.0.0.1:{port}"}
        schema = None
        if args.database_url:
            import uuid

            from sqlalchemy import create_engine, text

            schema = f"bench_bulk_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            sep = "&" if "?" in args.database_url else "?"
            extra["EDC_DATABASE_URL"] = f"{args.database_url}{sep}options=-csearch_path%3D{schema}"
        env = sidecar_env(tmp, token.directory, mail.url, "", "", **extra)
        env.pop("EDC_MOODLE_URL")
        env.pop("EDC_MOODLE_TOKEN")
        sidecar = Sidecar(tmp, port, env)
        try:
            sidecar.start()
            sidecar.put_specification(COURSE_ID, pilot_course("data101")).raise_for_status()
            made = time.perf_counter()
            data = cohort(args.n, args.format)
            print(f"{args.n} rows, {args.format}, {len(data) / 1024:.0f} KB (written in {time.perf_counter() - made:.1f} s); "
                  f"seal key {args.key}, {args.workers} workers, registry {'postgresql' if schema else 'sqlite'}")
            session = login(sidecar.url)
            batch, upload_s, page_s, summary = preview(session, sidecar.url, data, args.format)
            print(f"preview: {upload_s + page_s:.2f} s (upload and check {upload_s:.2f} s, page {page_s:.2f} s) "
                  f"— goal <= 10 s; {summary}")
            started = time.time()
            request_s, issue_s, flash = issue(session, sidecar.url, batch)
            print(f"issue: the request {request_s:.2f} s; {issue_s:.2f} s until all {args.n} rows were handed to "
                  f"the intake; {flash}")
            deadline = time.monotonic() + args.timeout
            reported = time.monotonic()
            while len(mail.records) < args.n and time.monotonic() < deadline:
                time.sleep(0.5)
                if time.monotonic() - reported > 60:
                    reported = time.monotonic()
                    print(f"  ... {len(mail.records)} mailed after {time.time() - started:.0f} s", flush=True)
            mailed = len(mail.records)
            if mailed >= args.n:
                last = max(r.received_at for r in mail.records)
                print(f"every credential issued and mailed: {last - started:.1f} s after 'Issue' "
                      f"({args.n / (last - started):.1f} credentials/s)")
            else:
                print(f"TIMEOUT: {mailed} of {args.n} mailed after {time.time() - started:.0f} s")
            page = session.get(f"{sidecar.url}/staff/bulk/{batch}", timeout=600).text
            print("report page:", "finished" if 'id="finished"' in page else "not finished")
            again, upload2_s, page2_s, _summary = preview(session, sidecar.url, data, args.format)
            _request2_s, issue2_s, _flash = issue(session, sidecar.url, again)
            page = session.get(f"{sidecar.url}/staff/bulk/{again}", timeout=600).text
            counts = re.search(r'id="count-new">(\d+)<.*?id="count-duplicate">(\d+)<', page, re.S)
            print(f"same file again: preview {upload2_s + page2_s:.2f} s, issue {issue2_s:.2f} s: "
                  f"{counts.group(1)} new, {counts.group(2)} issued before; {len(mail.records) - args.n} more mails")
        finally:
            sidecar.stop()
            mail.stop()
            if schema:
                with admin.connect() as conn:
                    conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                admin.dispose()


if __name__ == "__main__":
    main()
