"""The export for Europass through the service: the API Moodle's link calls (signed) and staff use, the staff
pages (one course or all as one file), and `edc-bridge export-courses`; on SQLite and PostgreSQL."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest
from lxml import etree

from bridge.app import create_app, stop_app
from bridge.edc.qdr_schema import QdrSchema
from bridge.edc.qdr_xml import read_qdr
from tests.sidecar.conftest import STAFF_HEADERS, put_spec, signed
from tests.sidecar.conftest import channels, database_url, settings  # noqa: F401 - the sidecar's fixtures

from .conftest import QDR_DIR, REPO, SHACL_DIR, pilot_doc, staff_login

# Moodle's course ids of the pilot's five courses on site "demo", as `make run` loads them.
PILOT = {1: "aieth800", 2: "cyber201", 3: "data101", 4: "green310", 5: "ltlang01"}


@pytest.fixture
def app(settings, channels):
    """The sidecar with the official checks configured (loq.xsd and the EDC shapes)."""
    configured = dataclasses.replace(settings, qdr_schema_dir=str(QDR_DIR), shacl_dir=str(SHACL_DIR))
    application = create_app(configured, channels=channels)
    yield application
    stop_app(application)
    application.extensions["edc"].registry.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def _load_pilot(client) -> None:
    for course, name in PILOT.items():
        assert put_spec(client, course, pilot_doc(name)).json["valid"] is True


def _signed_get(client, path: str, query: str):
    return client.get(f"{path}?{query}", headers=signed("GET", path, b"", query=query))


def test_moodle_gets_one_course_as_qdr_xml_valid_against_loq_xsd(client):
    _load_pilot(client)
    path = "/api/v1/courses/demo/3/europass"
    headers = signed("GET", path, b"", query="format=qdr-xml")
    answer = client.get(f"{path}?format=qdr-xml", headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.mimetype == "application/xml" and "X-EDC-Unchecked" not in answer.headers
    assert 'filename="europass-demo-3.xml"' in answer.headers["Content-Disposition"]
    assert QdrSchema(QDR_DIR).problems(answer.data) == []
    assert read_qdr(answer.data) == [("demo/3", pilot_doc("data101"))]
    again = client.get(f"{path}?format=qdr-xml", headers=headers)  # the same signed request again
    assert again.status_code == 401  # its nonce is spent


def test_the_signature_covers_the_format_and_the_course(client):
    _load_pilot(client)
    path = "/api/v1/courses/demo/3/europass"
    headers = signed("GET", path, b"", query="format=qdr-xml")
    assert client.get(f"{path}?format=elm3-jsonld", headers=headers).status_code == 401
    other = "/api/v1/courses/demo/4/europass"
    assert client.get(f"{other}?format=qdr-xml", headers=headers).status_code == 401
    assert client.get(f"{path}?format=qdr-xml").status_code == 401  # unsigned, no staff token


def test_staff_get_every_course_as_one_file_in_either_export(client):
    _load_pilot(client)
    xml = client.get("/api/v1/courses/europass?format=qdr-xml", headers=STAFF_HEADERS)
    assert xml.status_code == 200 and len(read_qdr(xml.data)) == 5
    jsonld = client.get("/api/v1/courses/europass?format=elm3-jsonld", headers=STAFF_HEADERS)
    assert jsonld.status_code == 200 and jsonld.mimetype == "application/ld+json"
    assert len(json.loads(jsonld.data)["@graph"]) == 5
    assert client.get("/api/v1/courses/europass?format=qdr-xml").status_code == 401


def test_an_export_europass_would_refuse_is_refused_naming_the_elements(client):
    incomplete = pilot_doc("ltlang01")
    del incomplete["homepage"], incomplete["isced_f"]
    assert put_spec(client, 5, incomplete).json["valid"] is True  # a credential needs neither
    path = "/api/v1/courses/demo/5/europass"
    answer = _signed_get(client, path, "format=qdr-xml")
    assert answer.status_code == 422
    assert [p["pointer"] for p in answer.json["problems"]] == ["/homepage", "/isced_f"]
    missing = client.get("/api/v1/courses/demo/9/europass", headers=STAFF_HEADERS)
    assert missing.status_code == 422 and "no credential description" in missing.json["problems"][0]["message"]
    unknown = client.get(f"{path}?format=pdf", headers=STAFF_HEADERS)
    assert unknown.status_code == 400 and unknown.json["problems"][0]["pointer"] == "?format"
    every = client.get("/api/v1/courses/europass", headers=STAFF_HEADERS)
    assert every.status_code == 422 and every.json["problems"][0]["message"].startswith("demo/5: ")


def test_staff_pages_list_the_courses_and_download_one_or_all(client):
    _load_pilot(client)
    incomplete = pilot_doc("ltlang01")
    del incomplete["homepage"]
    put_spec(client, 5, incomplete)
    assert client.get("/staff/courses").status_code == 303  # login first
    staff_login(client)
    page = client.get("/staff/courses?lang=lt").get_data(as_text=True)
    assert "Kursų aprašai Europass registrui" in page and "Europass trūksta duomenų" in page
    assert "/homepage: missing element Europass requires" in page
    english = client.get("/staff/courses?lang=en").get_data(as_text=True)
    assert english.count('class="badge issued">ready') == 4
    one = client.get("/staff/courses/europass?format=qdr-xml&course=demo/2")
    assert one.status_code == 200 and [key for key, _ in read_qdr(one.data)] == ["demo/2"]
    refused = client.get("/staff/courses/europass?format=elm3-jsonld")  # all: demo/5 is incomplete
    assert refused.status_code == 303
    listed = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "Not exported: Europass would refuse it" in listed and "demo/5: /homepage" in listed
    assert client.get("/staff/courses/europass?format=qdr-xml&course=demo/x").status_code == 404


def test_the_cli_exports_description_files_without_a_sidecar(tmp_path):
    out = tmp_path / "courses.xml"
    files = [str(REPO / "examples" / "pilot" / "courses" / f"{name}.json") for name in PILOT.values()]
    env = {"PATH": "/usr/bin:/bin", "EDC_QDR_SCHEMA_DIR": str(QDR_DIR), "HOME": str(tmp_path)}
    args = [sys.executable, "-m", "bridge.cli", "export-courses"] + [a for f in files for a in ("--spec", f)]
    done = subprocess.run(args + ["--out", str(out)], env=env, capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert QdrSchema(QDR_DIR).problems(out.read_bytes()) == []
    assert [key for key, _ in read_qdr(out.read_bytes())] == sorted(PILOT.values())
    bad = tmp_path / "bad.json"
    doc = pilot_doc("data101")
    del doc["isced_f"]
    bad.write_text(json.dumps(doc), encoding="utf-8")
    refused = subprocess.run(args[:4] + ["--spec", str(bad), "--format", "elm3-jsonld"], env=env, capture_output=True,
                             text=True, cwd=REPO)
    assert refused.returncode == 1 and "bad: /isced_f: missing element Europass requires" in refused.stderr
    assert refused.stdout == ""


def test_the_cli_exports_courses_of_the_registry(client, settings, tmp_path):
    _load_pilot(client)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "EDC_SHACL_DIR": str(SHACL_DIR)}
    args = [sys.executable, "-m", "bridge.cli", "export-courses", "--database-url", settings.database_url]
    one = subprocess.run(args + ["--course", "demo/4", "--format", "elm3-jsonld"], env=env, capture_output=True, cwd=REPO)
    assert one.returncode == 0, one.stderr
    assert json.loads(one.stdout)["title"]["en"] == pilot_doc("green310")["title"]["en"]
    every = subprocess.run(args, env=env, capture_output=True, cwd=REPO)
    assert every.returncode == 0 and b"not checked against loq.xsd" in every.stderr
    assert len(etree.fromstring(every.stdout).findall(".//{*}learningOpportunity")) == 5
    absent = subprocess.run(args + ["--course", "demo/77"], env=env, capture_output=True, text=True, cwd=REPO)
    assert absent.returncode == 1 and "demo/77: /: no credential description is stored" in absent.stderr


def test_answers_match_the_openapi_document(client):
    from tests.sidecar.test_openapi import Checked

    check = Checked()
    one, every = "/api/v1/courses/{site}/{course}/europass", "/api/v1/courses/europass"
    check(one, "get", client.get("/api/v1/courses/demo/3/europass", headers=STAFF_HEADERS), 422)  # nothing stored yet
    _load_pilot(client)
    check(one, "get", client.get("/api/v1/courses/demo/3/europass", headers=STAFF_HEADERS), 200)
    check(one, "get", client.get("/api/v1/courses/demo/3/europass?format=elm3-jsonld", headers=STAFF_HEADERS), 200)
    check(one, "get", client.get("/api/v1/courses/demo/3/europass?format=x", headers=STAFF_HEADERS), 400)
    check(one, "get", client.get("/api/v1/courses/demo/3/europass?format=qdr-xml&format=elm3-jsonld",
                                 headers=STAFF_HEADERS), 400)
    check(one, "get", client.get("/api/v1/courses/demo/3/europass"), 401)
    check(every, "get", client.get(every, headers=STAFF_HEADERS), 200)
    check(every, "get", client.get(every + "?format=elm3-jsonld", headers=STAFF_HEADERS), 200)
    check(every, "get", client.get(every), 401)
    assert check.operations == {(one, "get"), (every, "get")}
