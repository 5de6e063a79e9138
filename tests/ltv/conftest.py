"""Fixtures for long-term seal tests: a TEST CA with a loopback CRL server, an OpenSSL TSA, the schema."""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pytest

from bridge.edc import model
from bridge.edc.schema_check import EdcSchema

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ltv_pki import LoopbackCRLServer, LoopbackTSA, TestCA  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "reference" / "edc"
PILOT = REPO / "examples" / "pilot"
UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def crl_server():
    """A TEST CA (`crl_server.ca`) whose certificates name this loopback CRL distribution point."""
    server = LoopbackCRLServer(TestCA.create())
    yield server
    server.close()


@pytest.fixture(scope="module")
def ca(crl_server):
    return crl_server.ca


@pytest.fixture(scope="module")
def tsa(ca):
    server = LoopbackTSA(ca)
    yield server
    server.close()


@pytest.fixture(scope="session")
def schema() -> EdcSchema:
    return EdcSchema(SHARED / "v1_xsd")


@pytest.fixture
def credential() -> model.Credential:
    spec = model.load_course_spec(json.loads((PILOT / "courses" / "data101.json").read_text()))
    learner = model.load_learner(json.loads((PILOT / "learners" / "maria-garcia.json").read_text()))
    return model.Credential(spec, learner, model.Issuance.new(valid_for=spec.valid_for))
