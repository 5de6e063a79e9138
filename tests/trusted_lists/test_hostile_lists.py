"""Whatever bytes arrive as a trusted list, and whatever a correctly signed list says, reading them gives a
verified list or a refusal with a reason, never an exception: lists come from the network.
"""
from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings, strategies as st
from lxml import etree

from bridge.edc import qualified, trusted_lists as tl
from hsm.demo_token import QUALIFIED_SEAL_STATEMENTS, SEAL_NAME, make_test_ca, seal_certificate

from .tsl_factory import ListSigner, ListSpec, Pointer, Service, State, build

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC)
SIGNER = ListSigner.create("hostile-test LT")
CA = make_test_ca(NOW)


def _national() -> etree._Element:
    return build(ListSpec("LT", NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=30),
                          services=[Service(CA[1], [State("granted", NOW - dt.timedelta(days=9)),
                                                    State("withdrawn", NOW - dt.timedelta(days=1))])]))


SIGNED = SIGNER.sign(_national())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(SIGNED) - 1), st.integers(0, 64), st.binary(max_size=16))
def test_mangled_bytes_are_refused_with_a_reason(at, cut, junk):
    data = SIGNED[:at] + junk + SIGNED[at + cut:]
    try:
        parsed = tl.read_list(data, [SIGNER.cert], at=NOW, territory="LT")
    except tl.TrustedListError as exc:
        assert str(exc)
        return
    assert parsed.territory == "LT"  # only a change the signature does not cover can pass (white space, …)


LOCAL = {"StatusStartingTime", "ListIssueDateTime", "TSLSequenceNumber", "SchemeTerritory", "ServiceStatus",
         "ServiceTypeIdentifier", "X509Certificate", "dateTime", "Name"}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(LOCAL)), st.text(max_size=40), st.booleans())
def test_a_correctly_signed_list_with_odd_content_is_read_or_refused(local, text, drop):
    """The operator's key signed it, but a field is empty, garbage or missing: a reason, never a crash."""
    root = _national()
    for node in [n for n in root.iter() if isinstance(n.tag, str) and etree.QName(n).localname == local][:1]:
        if drop:
            node.getparent().remove(node)
        else:
            node.text = "".join(c for c in text if c.isprintable())
    data = SIGNER.sign(root)
    try:
        parsed = tl.read_list(data, [SIGNER.cert], at=NOW, territory="LT")
    except tl.TrustedListError as exc:
        assert str(exc)
        return
    lists = tl.TrustedLists(NOW, lotl=_lotl(), national={"LT": parsed})
    cert = seal_certificate(ec.generate_private_key(ec.SECP256R1()).public_key(), SEAL_NAME, CA[0], CA[1],
                            NOW - dt.timedelta(days=5), NOW + dt.timedelta(days=5),
                            qc_statements=QUALIFIED_SEAL_STATEMENTS)
    answer = qualified.assess(cert, lists, sealed_at=NOW - dt.timedelta(days=3), now=NOW, seal_confirmed=True)
    assert answer.qualified in (True, False, None) and answer.why


def _lotl() -> tl.TrustedList:
    commission = ListSigner.create("hostile-test EU")
    data = commission.sign(build(ListSpec("EU", NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=30),
                                          pointers=[Pointer("LT", [SIGNER.cert])])))
    return tl.read_list(data, [commission.cert], at=NOW, lotl=True)


@pytest.mark.parametrize("data", [
    b"<?xml version='1.0'?>" + b"<a>" * 100_000,  # deep nesting
    b"\xff\xfe<\x00x\x00/\x00>\x00",  # UTF-16
    b"<TrustServiceStatusList xmlns='http://uri.etsi.org/02231/v2#'><ds:Signature "
    b"xmlns:ds='http://www.w3.org/2000/09/xmldsig#'/></TrustServiceStatusList>",
    SIGNED.replace(b"SignatureValue>", b"SignatureValu>"),
    SIGNED.replace(b"<ds:SignedInfo>", b"<ds:SignedInfo><ds:SignedInfo>", 1),
])
def test_odd_documents_are_refused(data):
    with pytest.raises(tl.TrustedListError):
        tl.read_list(data, [SIGNER.cert], at=NOW, territory="LT")
