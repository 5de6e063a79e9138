"""One rule in one place (issue 13): the long-term code has one home shared by both formats, each
format keeps its own parts behind public helpers, and "trusted at the time of sealing" is decided
by one function (trust.judge_seal) for every format.
"""
from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest

from bridge.edc import trust
from bridge.edc.verifier import verify_credential
from ltv_pki import TestCA

REPO = Path(__file__).resolve().parents[2]
EDC = REPO / "bridge" / "edc"
SHARED = REPO.parent / "shared" / "reference" / "edc"
LONG_TERM = ("ltv", "xades", "xades_ltv", "jades", "jades_ltv", "trust", "timestamps", "verifier", "issuer")


def _runtime_imports(module: str) -> set[str]:
    """The bridge.edc modules `module` imports when it runs (TYPE_CHECKING imports excluded)."""
    tree = ast.parse((EDC / f"{module}.py").read_text(encoding="utf-8"))
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
               for n in ast.walk(node)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module == "bridge.edc":
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bridge.edc."):
            found.add(node.module.split(".")[2])
    return found


def test_the_shared_home_imports_no_format_and_nothing_imports_in_a_circle():
    assert not _runtime_imports("ltv") & {"xades", "jades", "xades_ltv", "jades_ltv", "verifier"}
    graph = {m: _runtime_imports(m) & set(LONG_TERM) for m in LONG_TERM}

    def reaches(start: str, goal: str, seen: set) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph.get(start, ()))

    circles = sorted(m for m in LONG_TERM if reaches(m, m, {m}))
    assert circles == []


def test_no_long_term_module_reads_the_environment_or_anothers_private_names():
    for module in LONG_TERM:
        source = (EDC / f"{module}.py").read_text(encoding="utf-8")
        assert "os.environ" not in source, module
        for other in LONG_TERM:
            assert f"{other}._" not in source.replace(f"{module}._", ""), (module, other)


@pytest.mark.parametrize("sample", ["v1_signed_samples/credential-generic-profile-xsd-signed.xml",
                                    "v3_jsonld/Sample-MC-Annex1-signed.jsonld"])
def test_both_formats_judge_an_expired_unstamped_seal_by_the_same_rule(sample):
    """Both EU samples: an untrusted TSA, so no verified time-stamp; the seal certificate has expired.
    The XAdES path used to say so only in a note; one rule now says it as a problem for both."""
    report = verify_credential((SHARED / sample).read_bytes(), trust_anchors=[TestCA.create().cert])
    assert not report.valid and report.level in ("B-LT", "B-LTA")  # the JAdES sample carries an arcTst
    expired = [p for p in report.problems if "and no verified time-stamp proves the seal was made before then" in p]
    assert len(expired) == 1, report.problems
    assert any("judged as of now" in n for n in report.notes)


def test_judge_seal_is_the_one_decision_both_verifiers_call():
    for module in ("verifier", "jades"):
        source = (EDC / f"{module}.py").read_text(encoding="utf-8")
        assert "trust.judge_seal(" in source and "assess_certificate(" not in source, module
    assert callable(trust.judge_seal)


def test_a_b_t_seal_is_judged_at_its_time_stamp_in_both_formats(credential, ca, tsa):
    """The same facts give the same verdict: after expiry, valid at the time of sealing, either format."""
    from bridge.edc import ltv
    from bridge.edc.elm3_builder import build_elm3, serialize_elm3
    from bridge.edc.issuer import issue_edc_xml
    from bridge.edc.jades import seal_jades

    seal = ca.issue_seal(days=30)
    client = ltv.TsaClient(tsa.url, timeout=5)
    xml = issue_edc_xml(credential, seal, tsa=client, level="B-T")
    jws = seal_jades(serialize_elm3(build_elm3(credential)), seal, tsa=client, level="B-T")
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=200)  # seal expired, TSA (365 days) not
    reports = [verify_credential(d, trust_anchors=[ca.cert], now=later) for d in (xml, jws)]
    assert [r.valid for r in reports] == [True, True], [r.problems for r in reports]
    assert all("valid at the time of sealing (as proven by the time-stamp)" in r.notes for r in reports)
