"""Time per credential at each seal level (B-B, B-T, B-LT, B-LTA), issuing and verifying, in one run,
and what one archive renewal (bridge/worker/upkeep.py) costs a B-LTA credential.

The seal key is on a throw-away SoftHSM demo token (ECDSA P-256 and RSA-3072); the TSA is OpenSSL's
`ts -reply` behind HTTP on loopback (one process per request, as tests/ltv run it), certified by the
token's TEST CA, which also signs the CRL embedded at B-LT (fetched once and reused, as the
CrlDistributionPointSource cache does in production). A real TSA adds its network round trip.

    .venv/bin/python bench/seal_levels.py [-n 40] [--formats xades,jades]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "ltv"))

from bridge.edc import formats, ltv, model  # noqa: E402
from ltv_pki import LoopbackTSA, TestCA  # noqa: E402

COURSE = REPO / "examples" / "pilot" / "courses" / "data101.json"
LEARNER = REPO / "examples" / "pilot" / "learners" / "maria-garcia.json"
LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")


def _credential() -> model.Credential:
    spec = model.load_course_spec(json.loads(COURSE.read_text(encoding="utf-8")))
    learner = model.load_learner(json.loads(LEARNER.read_text(encoding="utf-8")))
    return model.Credential(spec, learner, model.Issuance.new(valid_for=spec.valid_for))


def _xades(seal, tsa_client, revocation):
    from bridge.edc.issuer import issue_edc_xml

    def issue(level: str) -> bytes:
        return issue_edc_xml(_credential(), seal, tsa=tsa_client, level=level, revocation_source=revocation)

    return issue


def _jades(seal, tsa_client, revocation):
    from bridge.edc.elm3_builder import build_elm3, serialize_elm3
    from bridge.edc.jades import seal_jades

    def issue(level: str) -> bytes:
        payload = serialize_elm3(build_elm3(_credential()))
        return seal_jades(payload, seal, tsa=tsa_client, level=level, revocation_source=revocation)

    return issue


ISSUERS = {"xades": _xades, "jades": _jades}


def _interleaved(funcs: dict[str, object], n: int) -> dict[str, list[float]]:
    """Run each function once per round, n rounds: machine noise hits every level alike."""
    samples: dict[str, list[float]] = {name: [] for name in funcs}
    for _ in range(n):
        for name, func in funcs.items():
            start = time.perf_counter()
            func()
            samples[name].append((time.perf_counter() - start) * 1000)
    return samples


def _ms(samples: list[float]) -> str:
    """Median, and the 10th percentile (what an unloaded machine does)."""
    ordered = sorted(samples)
    return f"{statistics.median(ordered):6.1f} ({ordered[len(ordered) // 10]:5.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=40, help="credentials per level and key (default 40)")
    parser.add_argument("--formats", default="xades,jades", help="comma-separated: xades, jades")
    parser.add_argument("--keys", default="ecp256,rsa3072", help="comma-separated: ecp256, rsa3072")
    args = parser.parse_args()

    from bridge.edc.verifier import verify_credential
    from hsm.demo_token import create_demo_token
    from hsm.signer import open_seal

    tmp = Path(tempfile.mkdtemp(prefix="edc-bench-levels-"))
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=800)  # after the demo seals expire
    print(f"ms per credential, median (10th percentile), n={args.n}, levels interleaved; "
          f"late = verified {later:%Y-%m-%d}, after the seal certificate expired")
    print(f"{'format':6} {'key':8} {'level':5} {'issue':>14} {'added':>7} {'verify':>14} {'late':>9} {'bytes':>7}")
    for kind in args.keys.split(","):
        token = create_demo_token(tmp / kind, key_type=kind, token_label=f"bench-{kind}")
        seal = open_seal(token.config)
        ca = TestCA(key=token.ca_key, cert=token.ca_cert)
        # the TSA's certificate outlives the "late" moment: a time-stamp counts only while it is valid
        tsa = LoopbackTSA(ca, tmp / f"tsa-{kind}", days=3000)
        client = ltv.TsaClient(tsa.url)
        revocation = ltv.StaticRevocationSource(crls=[ca.crl(days=30)])
        round_trip = _interleaved({"tsa": lambda: client.stamp(b"x" * 64)}, args.n)["tsa"]
        print(f"{'':6} {kind:8} TSA round trip alone (HTTP + one `openssl ts -reply` process): {_ms(round_trip)}")
        try:
            for fmt in args.formats.split(","):
                issue = ISSUERS[fmt](seal, client, revocation)
                issue("B-B")  # warm-up: imports, the token session
                issued = _interleaved({level: (lambda lv=level: issue(lv)) for level in LEVELS}, args.n)
                documents = {level: issue(level) for level in LEVELS}
                verified = _interleaved({level: (lambda d=documents[level]: verify_credential(d, trust_anchors=[ca.cert]))
                                         for level in LEVELS}, args.n)
                base = statistics.median(issued["B-B"])
                for level in LEVELS:
                    report = verify_credential(documents[level], trust_anchors=[ca.cert], now=later)
                    added = statistics.median(issued[level]) - base
                    print(f"{fmt:6} {kind:8} {level:5} {_ms(issued[level]):>14} {added:+7.1f} {_ms(verified[level]):>14} "
                          f"{'valid' if report.valid else 'NOT valid':>9} {len(documents[level]):7d}")
                renewals = _interleaved({"renew": lambda d=documents["B-LTA"]: ltv.renew(
                    formats.long_term(d), client, revocation, [ca.cert])}, args.n)["renew"]
                renewed = ltv.renew(formats.long_term(documents["B-LTA"]), client, revocation, [ca.cert])
                print(f"{fmt:6} {kind:8} renew {_ms(renewals):>14} (one more archive time-stamp; "
                      f"{len(renewed) - len(documents['B-LTA']):+d} bytes)")
        finally:
            tsa.close()

if __name__ == "__main__":
    main()
