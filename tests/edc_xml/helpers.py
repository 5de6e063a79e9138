"""Helpers for the EDC v1 XML tests: the pilot data, fixed issuance times and id, XPath with prefixes."""
from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

from lxml import etree

from bridge.edc import model

REPO = Path(__file__).resolve().parents[2]
EDC_REFERENCE = REPO.parent / "shared" / "reference" / "edc"
XSD_DIR = EDC_REFERENCE / "v1_xsd"
COURSES = {p.stem: p for p in sorted((REPO / "examples" / "pilot" / "courses").glob("*.json"))}
LEARNERS = {p.stem: p for p in sorted((REPO / "examples" / "pilot" / "learners").glob("*.json"))}
NS = {
    "s": "http://data.europa.eu/snb",
    "cred": "http://data.europa.eu/europass/model/credentials/w3c#",
}
ISSUED = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.timezone.utc)
AWARDED = dt.datetime(2026, 2, 27, 16, 0, tzinfo=dt.timezone.utc)
FIXED_ID = "urn:credential:6f1c2f52-2b0e-4d7e-9a43-0d3c8c1f7a10"


def course_doc(name: str) -> dict[str, Any]:
    return json.loads(COURSES[name].read_text(encoding="utf-8"))


def learner_doc(name: str) -> dict[str, Any]:
    return json.loads(LEARNERS[name].read_text(encoding="utf-8"))


def credential(course: str | dict, learner: str = "ona-jonaite", *, grade: str | None = None,
               credential_id: str = FIXED_ID) -> model.Credential:
    """A credential with fixed dates and id, so two builds of the same input can be compared byte for byte."""
    doc = course_doc(course) if isinstance(course, str) else copy.deepcopy(course)
    spec = model.load_course_spec(doc)
    person = model.load_learner(learner_doc(learner))
    issuance = model.Issuance.new(AWARDED, now=ISSUED, grade=grade, valid_for=spec.valid_for,
                                  credential_id=credential_id)
    return model.Credential(spec, person, issuance)


def xpath(root: etree._Element, path: str) -> list:
    return root.xpath(path, namespaces=NS)
