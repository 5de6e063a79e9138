"""Size in bytes of each pilot course's EDC v1 XML credential: the registry's storage per credential.

Unsealed is what the builder makes; sealed adds the XAdES <proof> (certificate chain included), so it
needs a seal key: `--sealed` makes a throw-away SoftHSM demo token for that. Also shown: the zstd
size, since the registry may compress what it stores.

    .venv/bin/python bench/edc_xml_sizes.py [--sealed]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import zstandard

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bridge.edc import model  # noqa: E402
from bridge.edc.xml_builder import build_edc_xml  # noqa: E402

COURSES = sorted((REPO / "examples" / "pilot" / "courses").glob("*.json"))
LEARNER = REPO / "examples" / "pilot" / "learners" / "maria-garcia.json"  # the longest pilot name


def _credential(course: Path) -> model.Credential:
    spec = model.load_course_spec(json.loads(course.read_text(encoding="utf-8")))
    learner = model.load_learner(json.loads(LEARNER.read_text(encoding="utf-8")))
    return model.Credential(spec, learner, model.Issuance.new(valid_for=spec.valid_for, grade="10"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sealed", action="store_true", help="also seal with a throw-away SoftHSM token")
    args = parser.parse_args()
    seals = {}
    if args.sealed:
        from bridge.edc.issuer import issue_edc_xml
        from hsm.demo_token import create_demo_token
        from hsm.signer import open_seal

        tmp = Path(tempfile.mkdtemp(prefix="edc-size-"))
        for kind in ("rsa3072", "ecp256"):
            seals[kind] = open_seal(create_demo_token(tmp / kind, key_type=kind, token_label=f"size-{kind}").config)
    cctx = zstandard.ZstdCompressor(level=3)
    header = f"{'course':10} {'unsealed':>9} {'zstd':>6}"
    header += "".join(f" {'sealed ' + k:>15} {'zstd':>6}" for k in seals)
    print(header)
    for course in COURSES:
        cred = _credential(course)
        xml = build_edc_xml(cred)
        row = f"{course.stem:10} {len(xml):9d} {len(cctx.compress(xml)):6d}"
        for seal in seals.values():
            sealed = issue_edc_xml(cred, seal)
            row += f" {len(sealed):15d} {len(cctx.compress(sealed)):6d}"
        print(row)


if __name__ == "__main__":
    main()
