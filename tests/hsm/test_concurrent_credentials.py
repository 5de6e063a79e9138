"""Issue 3 acceptance with whole credentials: 2,000 EDC credentials sealed from 4 concurrent workers.

tests/hsm/test_concurrency.py proves the signer under raw load; this one runs the real issuing path
(build → XAdES seal through signxml → token) from 4 threads sharing one SealKey, and checks every
credential's seal and that each learner's document carries that learner.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path

from lxml import etree

from bridge.edc import model, xades
from bridge.edc.issuer import issue_edc_xml
from hsm.signer import open_seal

REPO = Path(__file__).resolve().parents[2]
WORKERS, EACH = 4, 500


def test_2000_credentials_from_4_workers_are_all_intact(ec_token):
    seal = open_seal(ec_token.config)
    spec = model.load_course_spec(json.loads((REPO / "examples/pilot/courses/ltlang01.json").read_text()))
    results: dict[str, bytes] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        try:
            for n in range(EACH):
                learner = model.Learner(id=f"{worker}-{n}", email=f"l{worker}x{n}@example.edu",
                                        given_names=f"Worker{worker}", family_name=f"Learner{n}", lang="en")
                data = issue_edc_xml(model.Credential(spec, learner, model.Issuance.new()), seal)
                with lock:
                    results[learner.id] = data
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert len(results) == WORKERS * EACH
    for learner_id, data in results.items():
        root = etree.fromstring(data)
        check = xades.check_seal(root)
        assert check.intact, (learner_id, check.problems)
        assert check.certificate == ec_token.seal_certificate
        worker, n = learner_id.split("-")
        assert f">Worker{worker} Learner{n}<".encode() in data
