"""The real 2019 EU trusted lists (read from ../shared/reference, never copied) and TEST list signers."""
from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from lxml import etree

from bridge.edc.trusted_lists import NS

from .tsl_factory import ListSigner

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO.parent / "shared" / "reference" / "eu-trusted-lists"
UTC = dt.timezone.utc
# Inside every real list's validity: LOTL 2019-09-04..2020-03-04, LT 2019-07-18..2020-01-18, LV 2019-09-02..2020-03-02.
MOMENT_2019 = dt.datetime(2019, 9, 10, 12, 0, tzinfo=UTC)


def reference(name: str) -> bytes:
    return (REFERENCE / name).read_bytes()


@pytest.fixture(scope="session")
def commission_signers() -> list[x509.Certificate]:
    """The certificates allowed to sign the 2019 LOTL.

    A deployment configures them from the Official Journal's announcement (EDC_TRUSTED_LIST_SIGNERS);
    the test takes the same certificates from the LOTL's own pointer to itself, read here with plain
    lxml so the code under test never trusts the LOTL's word about its own signers.
    """
    root = etree.fromstring(reference("EU.xml"))
    for pointer in root.iterfind("t:SchemeInformation/t:PointersToOtherTSL/t:OtherTSLPointer", NS):
        if pointer.findtext(".//t:SchemeTerritory", namespaces=NS) == "EU":
            return [x509.load_der_x509_certificate(base64.b64decode(e.text))
                    for e in pointer.iterfind(".//t:X509Certificate", NS)]
    raise AssertionError("the reference LOTL has no pointer to itself")


@pytest.fixture(scope="session")
def commission() -> ListSigner:
    """A TEST key standing in for the Commission: configured as the LOTL signer of the test-made lists."""
    return ListSigner.create("EU")


@pytest.fixture(scope="session")
def lt_operator() -> ListSigner:
    return ListSigner.create("LT")
