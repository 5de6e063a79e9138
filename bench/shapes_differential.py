"""The long run of the differential test: the fast shapes check against pyshacl on 1,200 generated variants.

Every pilot course, the EU's own Annex I sample and generated variants of them (tests/elm3/variants.py:
missing, extra, repeated, misspelt, wrongly typed and wrongly nested properties) get a verdict from
bridge/edc/shacl_fast.py and from pyld + pyshacl on the EU's EDC-generic-no-cv.ttl (and, with --full-shapes,
EDC-generic-full.ttl too); every disagreement is printed and makes the exit status 1. Needs ../shared/reference.

    .venv/bin/python bench/shapes_differential.py [--variants 1200] [--seed 12] [--full-shapes]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bridge.edc.shacl_check import ElmShapes  # noqa: E402
from tests.elm3.helpers import SHACL_DIR  # noqa: E402
from tests.elm3.variants import variants  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--full-shapes", action="store_true", help="EDC-generic-full.ttl as well as no-cv")
    args = parser.parse_args()
    shapes = ElmShapes.from_dir(SHACL_DIR)
    if not args.full_shapes:
        shapes = ElmShapes(shapes.shapes_files[:1], shapes.context_files)
    print("shapes:", ", ".join(p.name for p in shapes.shapes_files))
    fast_ms, full_ms, disagree = [], [], []
    decided = conforming = total = 0
    for name, doc in variants(args.variants, args.seed):
        total += 1
        start = time.perf_counter()
        fast = shapes.fast_verdict(doc)
        fast_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        full = not shapes._full_problems(doc)
        full_ms.append((time.perf_counter() - start) * 1000)
        conforming += full
        if fast is not None:
            decided += 1
            if fast != full:
                disagree.append(f"{name}: fast {fast}, pyshacl {full}")
    print(f"{total} credentials ({total - args.variants} unchanged, {args.variants} variants): "
          f"{conforming} conform, {total - conforming} do not")
    print(f"decided by the fast check: {decided} ({decided / total:.0%}); the rest went to pyshacl")
    print(f"disagreements: {len(disagree)}")
    for line in disagree:
        print("  " + line)
    print(f"median ms per credential: fast {statistics.median(fast_ms):.1f}, pyld + pyshacl {statistics.median(full_ms):.1f}")
    return 1 if disagree else 0


if __name__ == "__main__":
    sys.exit(main())
