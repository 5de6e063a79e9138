"""A short fuzzing run in the suite: long-term seals of both formats, their unsigned properties mutated
(tests/fuzz/mutate.py), verified with trust anchors and EU trusted lists configured (TEST lists naming the
TEST CA as a granted CA/QC service, as EDC_TRUSTED_LISTS gives a deployment). The long run is `python -m tests.fuzz.run`.

Every input must get a report in the verifier's own words: no exception, no answer through the
last-resort guard of bridge/edc/report.py ("... could not be checked"), and within a time bound.
"""
from __future__ import annotations

import base64
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.edc.report import UNCHECKED
from tests.fuzz import corpus as corpus_module
from tests.fuzz.mutate import mutate

SECONDS_PER_INPUT = 10.0  # generous: the machine is shared; the long run reports the real figures


@pytest.fixture(scope="module")
def corpus():
    return corpus_module.build()


def test_the_seeds_themselves_verify(corpus):
    """The mutations start from good seals (else the fuzzing would only ever see broken ones), judged
    qualified by the lists: the fuzzing runs through the qualified-seal decision, not around it."""
    for name, data in corpus.seeds.items():
        if name.startswith("eu-"):
            continue
        report = corpus.verify(data)
        assert report.valid, (name, report.problems)
        assert report.level == name.split("-", 1)[1].removesuffix("-renewed"), (name, report.level)
        assert report.qualified is True, (name, report.qualified_why)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_mutated_unsigned_properties_get_a_verdict_in_plain_words(corpus, data):
    name = data.draw(st.sampled_from(sorted(corpus.seeds)), label="seed")
    rng = data.draw(st.randoms(use_true_random=False), label="mutations")
    document = mutate(corpus.seeds[name], rng)
    started = time.perf_counter()
    report = corpus.verify(document)
    elapsed = time.perf_counter() - started
    assert not [p for p in report.problems if UNCHECKED in p], report.problems
    assert elapsed < SECONDS_PER_INPUT, (name, elapsed)
    assert report.plain_words()
    if not report.valid:
        assert report.problems or not report.trusted


# --- what the long run found (python -m tests.fuzz.run, 100,000 inputs) -----------------------------


def _with_version(der: bytes, version_byte: int, value: int) -> bytes:
    """`der` with the byte of its version INTEGER at `version_byte` set to `value` (an unknown version)."""
    return der[:version_byte] + bytes([value]) + der[version_byte + 1:]


def test_a_certificate_of_an_unknown_version_is_named_not_raised(corpus):
    """cryptography raises InvalidVersion, which is no ValueError, for a version field outside v1-v3."""
    seed = corpus.seeds["xades-B-LT"]
    first = seed.split(b"<xades:EncapsulatedX509Certificate>", 1)[1].split(b"<", 1)[0]
    der = base64.b64decode(first)
    assert der[8:13] == b"\xa0\x03\x02\x01\x02"  # [0] EXPLICIT INTEGER 2 (v3) after two long-form headers
    document = seed.replace(first, base64.b64encode(_with_version(der, 12, 10)), 1)
    report = corpus.verify(document)
    assert not report.valid and not [p for p in report.problems if UNCHECKED in p], report.problems
    assert any(p.startswith("certificate value 1 (CertificateValues) cannot be read") for p in report.problems)


def test_a_crl_of_an_unknown_version_is_named_not_raised(corpus):
    from bridge.edc import jades_ltv
    from bridge.edc.jades import JadesDocument
    from tests.fuzz.mutate import replace_value_everywhere

    seed = corpus.seeds["jades-B-LT"]
    [crl] = jades_ltv.carried(JadesDocument.parse(seed))[1].crls[:1]
    assert crl[crl.index(b"\x02\x01\x01"):][:3] == b"\x02\x01\x01"  # version INTEGER 1 (v2)
    document = replace_value_everywhere(seed, crl, _with_version(crl, crl.index(b"\x02\x01\x01") + 2, 17))
    report = corpus.verify(document)
    assert not report.valid and not [p for p in report.problems if UNCHECKED in p], report.problems
    assert any(p.startswith("revocation value 1 of the CRLs in rVals cannot be read") for p in report.problems)
