"""Paths and builders shared by the ELM v3 tests; the EU reference files are read from ../shared, never copied."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bridge.edc import model

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO.parent / "shared" / "reference"
SHACL_DIR = REFERENCE / "edc" / "v3_shacl"
JSONLD_DIR = REFERENCE / "edc" / "v3_jsonld"
EU_SIGNED = JSONLD_DIR / "Sample-MC-Annex1-signed.jsonld"
EU_UNSIGNED = JSONLD_DIR / "Sample-MC-Annex1-unsigned.jsonld"
COURSES = sorted((REPO / "examples" / "pilot" / "courses").glob("*.json"))
LEARNERS = sorted((REPO / "examples" / "pilot" / "learners").glob("*.json"))
ISSUED_AT = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.timezone.utc)


def pilot_credential(course: Path, n: int = 0, *, grade: str | None = None) -> model.Credential:
    """The pilot course with the n-th pilot learner, issued at a fixed moment (so outputs are comparable)."""
    spec = model.load_course_spec(json.loads(course.read_text(encoding="utf-8")))
    learner = model.load_learner(json.loads(LEARNERS[n % len(LEARNERS)].read_text(encoding="utf-8")))
    issuance = model.Issuance.new(
        ISSUED_AT - dt.timedelta(hours=2), now=ISSUED_AT, valid_for=spec.valid_for, grade=grade,
        credential_id=f"urn:credential:6f1c3a52-0000-4000-8000-{n:012d}",
    )
    return model.Credential(spec, learner, issuance)


class SoftSeal:
    """A software key with a self-signed certificate, shaped like hsm.signer.SealKey, for odd headers."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "soft test seal")])
        now = dt.datetime.now(dt.timezone.utc)
        self.certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                            .public_key(self.key.public_key()).serial_number(7)
                            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
                            .sign(self.key, hashes.SHA256()))
        self.chain = ()
        self.algorithm = "ecp256"
        self.signed = 0  # how often sign() ran: lets a test prove nothing reached the key

    def sign(self, data: bytes) -> bytes:
        self.signed += 1
        return self.key.sign(data, ec.ECDSA(hashes.SHA256()))
