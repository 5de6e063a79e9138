"""A short fuzzing run in the suite: long-term seals of both formats, their unsigned properties mutated
(tests/fuzz/mutate.py), verified with trust anchors configured. The long run is `python -m tests.fuzz.run`.

Every input must get a report in the verifier's own words: no exception, no answer through the
last-resort guard of bridge/edc/report.py ("... could not be checked"), and within a time bound.
"""
from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.edc.report import UNCHECKED
from bridge.edc.verifier import verify_credential
from tests.fuzz import corpus as corpus_module
from tests.fuzz.mutate import mutate

SECONDS_PER_INPUT = 10.0  # generous: the machine is shared; the long run reports the real figures


@pytest.fixture(scope="module")
def corpus():
    return corpus_module.build()


def test_the_seeds_themselves_verify(corpus):
    """The mutations start from good seals (else the fuzzing would only ever see broken ones)."""
    for name, data in corpus.seeds.items():
        if name.startswith("eu-"):
            continue
        report = verify_credential(data, trust_anchors=corpus.anchors, now=corpus.now)
        assert report.valid, (name, report.problems)
        assert report.level == name.split("-", 1)[1].removesuffix("-renewed"), (name, report.level)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_mutated_unsigned_properties_get_a_verdict_in_plain_words(corpus, data):
    name = data.draw(st.sampled_from(sorted(corpus.seeds)), label="seed")
    rng = data.draw(st.randoms(use_true_random=False), label="mutations")
    document = mutate(corpus.seeds[name], rng)
    started = time.perf_counter()
    report = verify_credential(document, trust_anchors=corpus.anchors, now=corpus.now)
    elapsed = time.perf_counter() - started
    assert not [p for p in report.problems if UNCHECKED in p], report.problems
    assert elapsed < SECONDS_PER_INPUT, (name, elapsed)
    assert report.plain_words()
    if not report.valid:
        assert report.problems or not report.trusted
