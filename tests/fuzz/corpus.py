"""The seeds the verifier fuzzers mutate: long-term sealed credentials of both formats, and the trust
they are verified with.

Made fresh each run (nothing fetched, nothing stored in the repository): a TEST CA, a loopback
OpenSSL TSA it certifies (tests/ltv/ltv_pki.py), an ECDSA software seal whose certificate claims a
qualified seal's QC statements, and the pilot credential sealed as EDC XML (XAdES) and ELM v3 (JAdES)
at B-T, B-LT and B-LTA, and a renewed B-LTA. EU trusted lists made and signed by TEST keys
(tests/trusted_lists/tsl_factory.py) name the TEST CA as a granted CA/QC service, so every input also
goes through the qualified-seal decision, as in a deployment with EDC_TRUSTED_LISTS.
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
from hsm.demo_token import QUALIFIED_SEAL_STATEMENTS  # noqa: E402
from tests.trusted_lists.tsl_factory import ListSigner, Service, State, make_lists  # noqa: E402

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
        self.trusted_lists = None  # bridge.edc.trusted_lists.TrustedLists naming the TEST CA

    def verify(self, data: bytes):
        """`data` verified the way a deployment does: trust anchors and trusted lists configured."""
        from bridge.edc.verifier import verify_credential

        return verify_credential(data, trust_anchors=self.anchors, trusted_lists=self.trusted_lists, now=self.now)

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


def _trusted_lists(ca: TestCA, now: dt.datetime):
    """A TEST LOTL and LT list, verified as EDC_TRUSTED_LISTS would be, granting `ca` as a CA/QC service."""
    service = Service(ca.cert, [State("granted", now - dt.timedelta(days=400))])
    return make_lists(ListSigner.create("EU", now), ListSigner.create("LT", now), [service], now=now)


def build(with_eu_samples: bool = True) -> Corpus:
    """Seal the seeds against a loopback TSA (closed again before returning)."""
    from bridge.edc.elm3_builder import build_elm3, serialize_elm3
    from bridge.edc.issuer import issue_edc_xml
    from bridge.edc.jades import seal_jades

    ca = TestCA.create("TEST CA for fuzzing")
    tsa = LoopbackTSA(ca)
    corpus = Corpus(anchors=[ca.cert])
    corpus.trusted_lists = _trusted_lists(ca, corpus.now)
    try:
        seal = ca.issue_seal(days=365, qc_statements=QUALIFIED_SEAL_STATEMENTS)
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
