"""The EU's SHACL shapes, loaded once for the ELM v3 tests (from ../shared, never vendored)."""
from __future__ import annotations

import pytest

from bridge.edc.shacl_check import ElmShapes

from .helpers import SHACL_DIR


@pytest.fixture(scope="session")
def shapes() -> ElmShapes:
    if not (SHACL_DIR / "EDC-generic-no-cv.ttl").is_file():
        pytest.fail(f"the EU reference shapes are missing: {SHACL_DIR}")
    return ElmShapes.from_env({"EDC_SHACL_DIR": str(SHACL_DIR)})
