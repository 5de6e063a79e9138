"""ELM v3 per-credential costs: build, EDC shapes check, JAdES seal on SoftHSM, verify; and sizes.

For each pilot course: the time to build the JSON-LD (the display images are the course's, drawn once),
to check it against the EU's SHACL shapes (the fast check that is the default, and pyld + pyshacl as
EDC_SHACL_CHECK=full runs them; the shapes parsed once per process, measured separately), to seal it
on a throw-away SoftHSM token (RSA-3072 and P-256), and to verify it (signature, trust, fast shapes
check); plus the sealed size and its zstd size. Needs ../shared/reference (the EU shapes and contexts).

    .venv/bin/python bench/elm3_issue.py [--rounds N]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import zstandard

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bridge.edc import model  # noqa: E402
from bridge.edc.elm3_builder import build_elm3, serialize_elm3  # noqa: E402
from bridge.edc.jades import seal_jades, verify_jades  # noqa: E402
from bridge.edc.shacl_check import ElmShapes  # noqa: E402

COURSES = sorted((REPO / "examples" / "pilot" / "courses").glob("*.json"))
LEARNER = REPO / "examples" / "pilot" / "learners" / "maria-garcia.json"
SHACL_DIR = REPO.parent / "shared" / "reference" / "edc" / "v3_shacl"


def _credential(course: Path) -> model.Credential:
    spec = model.load_course_spec(json.loads(course.read_text(encoding="utf-8")))
    learner = model.load_learner(json.loads(LEARNER.read_text(encoding="utf-8")))
    return model.Credential(spec, learner, model.Issuance.new(valid_for=spec.valid_for, grade="10"))


def _ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:7.1f}"


def _timed(fn, rounds: int) -> tuple[list[float], object]:
    samples, result = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - start)
    return samples, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="repetitions per measurement (median shown)")
    args = parser.parse_args()

    from hsm.demo_token import create_demo_token
    from hsm.signer import open_seal

    start = time.perf_counter()
    shapes = ElmShapes.from_env({"EDC_SHACL_DIR": str(SHACL_DIR)})
    shapes.shapes_graph()
    full = ElmShapes(shapes.shapes_files, shapes.context_files, "full")
    print(f"shapes parsed once per process: {(time.perf_counter() - start) * 1000:.0f} ms")
    start = time.perf_counter()
    shapes.fast_verdict(build_elm3(_credential(COURSES[0])))
    print(f"fast check's contexts and compiled shapes, once per process: {(time.perf_counter() - start) * 1000:.0f} ms")

    tmp = Path(tempfile.mkdtemp(prefix="edc-elm3-bench-"))
    tokens = {kind: create_demo_token(tmp / kind, key_type=kind, token_label=f"bench-{kind}")
              for kind in ("rsa3072", "ecp256")}
    seals = {kind: open_seal(token.config) for kind, token in tokens.items()}
    zstd = zstandard.ZstdCompressor(level=3)
    print("median ms per credential; sizes in bytes")
    print(f"{'course':10} {'build':>7} {'shapes':>7} {'pyshacl':>7} "
          + " ".join(f"{'seal ' + k:>13} {'verify':>7}" for k in seals)
          + f" {'unsealed':>9} {'sealed':>7} {'zstd':>6}")
    for course in COURSES:
        credential = _credential(course)
        build_t, doc = _timed(lambda: build_elm3(credential), args.rounds)
        shapes_t, problems = _timed(lambda: shapes.problems(doc), args.rounds)
        assert problems == [], problems
        full_t, problems = _timed(lambda: full.problems(doc), args.rounds)
        assert problems == [], problems
        payload = serialize_elm3(doc)
        row = f"{course.stem:10} {_ms(build_t)} {_ms(shapes_t)} {_ms(full_t)} "
        sealed = b""
        for kind, seal in seals.items():
            seal_t, sealed = _timed(lambda: seal_jades(payload, seal), args.rounds)
            anchors = [tokens[kind].ca_cert]
            verify_t, report = _timed(lambda: verify_jades(sealed, trust_anchors=anchors, shapes=shapes), args.rounds)
            assert report.valid, report.problems
            row += f"{_ms(seal_t):>13} {_ms(verify_t)} "
        row += f"{len(payload):9d} {len(sealed):7d} {len(zstd.compress(sealed)):6d}"
        print(row)


if __name__ == "__main__":
    main()
