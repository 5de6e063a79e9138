"""The seeds the verifier fuzzers mutate: long-term sealed credentials of both formats, and the trust
they are verified with.

Made fresh each run (nothing fetched, nothing stored in the repository): a TEST CA, a loopback
OpenSSL TSA it certifies (tests/ltv/ltv_pki.py), an ECDSA software seal, and the pilot credential
sealed as EDC XML (XAdES) and ELM v3 (JAdES) at B-T, B-LT and B-LTA, and a renewed B-LTA.
The EU's own signed samples are read from ../shared/reference as further seeds when present.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "ltv"))

from ltv_pki import LoopbackTSA, TestCA  # noqa: E402

from bridge.edc import formats, ltv, model  # noqa: E402

SHARED = REPO.parent / "shared" / "reference" / "edc"
EU_SAMPLES = (SHARED / "v1_signed_samples" / "credential-generic-profile-xsd-signed.xml",
              SHARED / "v3_jsonld" / "Sample-MC-Annex1-signed.jsonld")
PILOT = REPO / "examples" / "pilot"


class Corpus:
    """Seed documents by name ("xades-B-LT", ...), the CA they chain to, and the moment to verify at.

    A plain class, not a dataclass: hypothesis prints the fixtures of a failing example, and should
    print names, not megabytes.
    """

    def __init__(self, anchors: list) -> None:
        self.seeds: dict[str, bytes] = {}
        self.anchors = anchors  # cryptography certificates
        self.now = dt.datetime.now(dt.timezone.utc)

    def __repr__(self) -> str:
        return f"Corpus({', '.join(sorted(self.seeds))})"

    def anchors_pem(self) -> bytes:
        from cryptography.hazmat.primitives.serialization import Encoding

        return b"".join(c.public_bytes(Encoding.PEM) for c in self.anchors)


def _credential() -> model.Credential:
    spec = model.load_course_spec(json.loads((PILOT / "courses" / "data101.json").read_text(encoding="utf-8")))
    learner = model.load_learner(json.loads((PILOT / "learners" / "maria-garcia.json").read_text(encoding="utf-8")))
    return model.Credential(spec, learner, model.Issuance.new(valid_for=spec.valid_for))


def levels() -> tuple[str, ...]:
    """The long-term levels this code can seal at (B-LTA once it exists)."""
    return tuple(level for level in ltv.LEVELS if level != "B-B")


def build(with_eu_samples: bool = True) -> Corpus:
    """Seal the seeds against a loopback TSA (closed again before returning)."""
    from bridge.edc.elm3_builder import build_elm3, serialize_elm3
    from bridge.edc.issuer import issue_edc_xml
    from bridge.edc.jades import seal_jades

    ca = TestCA.create("TEST CA for fuzzing")
    tsa = LoopbackTSA(ca)
    corpus = Corpus(anchors=[ca.cert])
    try:
        seal = ca.issue_seal(days=365)
        client = ltv.TsaClient(tsa.url, timeout=10)
        source = ltv.StaticRevocationSource(crls=[ca.crl(days=30)])
        credential = _credential()
        payload = serialize_elm3(build_elm3(credential))
        for level in levels():
            options = dict(tsa=client, level=level, revocation_source=source)
            corpus.seeds[f"xades-{level}"] = issue_edc_xml(credential, seal, **options)
            corpus.seeds[f"jades-{level}"] = seal_jades(payload, seal, **options)
        for name in ("xades", "jades"):  # a renewed B-LTA: two archive time-stamps, the first one's validation data
            if f"{name}-B-LTA" in corpus.seeds:
                renewed = ltv.renew(formats.long_term(corpus.seeds[f"{name}-B-LTA"]), client, source)
                corpus.seeds[f"{name}-B-LTA-renewed"] = renewed
    finally:
        tsa.close()
    if with_eu_samples:
        for path in EU_SAMPLES:
            if path.exists():
                corpus.seeds[f"eu-{path.suffix[1:]}"] = path.read_bytes()
    return corpus
