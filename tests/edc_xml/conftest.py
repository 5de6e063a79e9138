"""The EU schema, compiled once for the whole EDC XML test session (from ../shared, never vendored)."""
from __future__ import annotations

import pytest

from bridge.edc.schema_check import EdcSchema

from .helpers import XSD_DIR


@pytest.fixture(scope="session")
def schema() -> EdcSchema:
    if not (XSD_DIR / "genericschema_1.2.xsd").is_file():
        pytest.fail(f"the EU reference schema is missing: {XSD_DIR}")
    return EdcSchema(XSD_DIR)
