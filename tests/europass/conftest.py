"""The EU's QDR schema (loq.xsd, with stand-ins for the files its folder lacks) and the EDC shapes, loaded once
for the Europass export tests; read from ../shared, never copied."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from bridge.edc import model
from bridge.edc.exports import ExportChecks
from bridge.edc.qdr_schema import QdrSchema
from bridge.edc.qdr_xml import CourseEntry
from bridge.edc.shacl_check import ElmShapes

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO.parent / "shared" / "reference" / "edc"
QDR_DIR = REFERENCE / "qdr_loq_v3"
SHACL_DIR = REFERENCE / "v3_shacl"
COURSES = sorted((REPO / "examples" / "pilot" / "courses").glob("*.json"))


def staff_login(client) -> None:
    """Log a test client in on the staff pages with the sidecar tests' staff token (the session cookie)."""
    from tests.sidecar.conftest import STAFF

    page = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/staff/login", data={"token": STAFF, "csrf_token": token}).status_code == 303


def pilot_doc(name: str) -> dict:
    return json.loads((REPO / "examples" / "pilot" / "courses" / f"{name}.json").read_text(encoding="utf-8"))


def pilot_entries() -> list[CourseEntry]:
    return [CourseEntry(f"demo/{path.stem}", model.load_course_spec(json.loads(path.read_text(encoding="utf-8"))))
            for path in COURSES]


def everything_doc() -> dict:
    """A pilot course with every optional element the description offers, Europass's included."""
    doc = pilot_doc("green310")
    doc["provider"] = copy.deepcopy(doc["issuer"])
    doc["provider"].update(name={"en": "Energy Lab (pilot)", "lt": "Energijos laboratorija (bandomoji)"},
                           legal_identifier="LT-JAR-305123456")
    del doc["provider"]["vat_identifier"]
    doc["learning_outcomes"][0]["esco_skill"] = "http://data.europa.eu/esco/skill/0a1b2c3d-4e5f"
    doc["learning_outcomes"][1]["type"] = "responsibility-autonomy"
    doc["assessment"]["grading_scheme"] = {"en": "Ten-point scale", "lt": "Dešimtbalė skalė"}
    doc["format"] = "elm3-jsonld"
    doc["learning_opportunity"] = {
        "type": "short-learning-programme", "start_date": "2026-09-01", "end_date": "2026-12-20",
        "application_deadline": "2026-08-15", "duration": "P112D", "schedule": "part-time-light", "setting": "formal",
        "price": {"amount": 450.5, "currency": "EUR", "description": {"en": "Scholarships available",
                                                                     "lt": "Galimos stipendijos"}},
        "admission_procedure": {"en": "Apply on the university's site.", "lt": "Registruokitės universiteto svetainėje."},
        "schedule_information": {"en": "Mondays at 16:00", "lt": "Pirmadieniais 16:00"},
        "location": {"country": "LTU", "region": "LT011", "address": {"en": "Campus 1, Vilnius", "lt": "Miestelis 1, Vilnius"}},
    }
    return doc


@pytest.fixture(scope="session")
def qdr_schema() -> QdrSchema:
    if not (QDR_DIR / "loq.xsd").is_file():
        pytest.fail(f"the EU reference QDR schema is missing: {QDR_DIR}")
    return QdrSchema(QDR_DIR)


@pytest.fixture(scope="session")
def shapes() -> ElmShapes:
    return ElmShapes.from_dir(SHACL_DIR)


@pytest.fixture(scope="session")
def checks(qdr_schema, shapes) -> ExportChecks:
    return ExportChecks(qdr_schema=qdr_schema, shapes=shapes)
