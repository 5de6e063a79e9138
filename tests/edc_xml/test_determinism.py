"""The same credential always gives the same bytes (the registry hashes them; a re-send must match)."""
from __future__ import annotations

import difflib

import pytest

from bridge.edc.xml_builder import build_edc_xml

from .helpers import COURSES, FIXED_ID, credential


@pytest.mark.parametrize("course", sorted(COURSES))
def test_same_input_same_bytes(course):
    first = build_edc_xml(credential(course, "maria-garcia"))
    again = build_edc_xml(credential(course, "maria-garcia"))  # loaded afresh from the JSON files
    assert first == again


def test_only_what_changed_changes():
    other_id = "urn:credential:00000000-0000-4000-8000-000000000000"
    a = build_edc_xml(credential("green310")).decode().splitlines()
    b = build_edc_xml(credential("green310", credential_id=other_id)).decode().splitlines()
    changed = [line for line in difflib.unified_diff(a, b, lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert len(changed) == 2 and FIXED_ID in changed[0] and other_id in changed[1]
