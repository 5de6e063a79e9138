"""The EU's real, signed 2019 trusted lists: the LOTL and Lithuania's and Latvia's lists verify (signxml,
XAdES enveloped, RSA-SHA256, exclusive c14n) against the certificates that may sign them and parse as of a
2019 moment; the two with broken signatures, and lists offered under the wrong signer or territory, are
refused with a reason.
"""
from __future__ import annotations

import datetime as dt

import pytest

from bridge.edc import trusted_lists as tl

from .conftest import MOMENT_2019, UTC, reference

LT_LOCATION = "https://elektroninisparasas.lt/LT-TSL.xml"
RCSC_SEALS = "RCSC qualified seals and signatures certificates issuing authority"


@pytest.fixture(scope="module")
def lists(commission_signers) -> tl.TrustedLists:
    national = {"LT": reference("LT.xml"), "LV": reference("LV.xml"), "CZ": reference("CZ_broken-sig.xml")}
    return tl.load_trusted_lists(reference("EU.xml"), national, commission_signers, at=MOMENT_2019)


def test_the_real_lotl_verifies_and_points_to_each_member_states_list(lists):
    lotl = lists.lotl
    assert lotl is not None, lists.lotl_problem
    assert (lotl.sequence, lotl.territory, lotl.is_lotl) == (248, "EU", True)
    assert lotl.issued == dt.datetime(2019, 9, 4, 8, 0, tzinfo=UTC)
    assert lotl.next_update == dt.datetime(2020, 3, 4, tzinfo=UTC)
    assert "Kremer" in lotl.signer.subject.rfc4514_string()  # the Commission signer the file's KeyInfo names
    [lt_pointer] = lotl.pointers_for("LT")
    assert lt_pointer.location == LT_LOCATION and len(lt_pointer.certificates) == 2
    assert len({p.territory for p in lotl.pointers if p.is_xml}) == 32  # EU itself and 31 states
    assert lotl.freshness_problem(MOMENT_2019) is None


def test_the_real_lt_and_lv_lists_verify_against_the_certificates_the_lotl_names(lists):
    lt, lv = lists.national["LT"], lists.national["LV"]
    assert (lt.sequence, lt.territory, lt.issued) == (50, "LT", dt.datetime(2019, 7, 18, 1, 0, tzinfo=UTC))
    assert lt.next_update == dt.datetime(2020, 1, 18, tzinfo=UTC)
    assert lt.signer in lists.lotl.pointers_for("LT")[0].certificates
    assert "Communications Regulatory Authority" in lt.signer.subject.rfc4514_string()
    assert lv.territory == "LV" and lv.signer in lists.lotl.pointers_for("LV")[0].certificates
    assert lt.freshness_problem(MOMENT_2019) is None and lv.freshness_problem(MOMENT_2019) is None


def test_the_lt_list_names_its_qualified_seal_service_with_its_history(lists):
    lt = lists.national["LT"]
    [rcsc] = [s for s in lt.services if s.name == RCSC_SEALS]
    assert rcsc.provider == "State Enterprise Centre of Registers"
    assert rcsc.current.type_identifier == "http://uri.etsi.org/TrstSvc/Svctype/CA/QC"
    assert rcsc.current.status.endswith("/granted")
    assert rcsc.current.since == dt.datetime(2017, 12, 29, 13, 0, tzinfo=UTC)
    assert "http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/ForeSeals" in rcsc.current.additional_information
    assert rcsc.certificates and "RCSC IssuingCA" in rcsc.certificates[0].subject.rfc4514_string()
    # Before 2017-12-29 the history instance (seals only, granted since 2017-12-01) was in force.
    earlier = rcsc.state_at(dt.datetime(2017, 12, 15, tzinfo=UTC))
    assert earlier.name == "RCSC qualified seals certificate issuing authority" and earlier.status.endswith("/granted")
    assert rcsc.state_at(dt.datetime(2017, 11, 1, tzinfo=UTC)) is None


def test_a_withdrawn_service_was_granted_before_its_withdrawal(lists):
    [old] = [s for s in lists.national["LT"].services
             if s.name == "RC_Qualified certificates for electronic signature-4"]
    assert old.current.status.endswith("/withdrawn")
    assert old.state_at(dt.datetime(2018, 5, 2, 5, 59, 30, tzinfo=UTC)).status.endswith("/granted")
    assert old.state_at(dt.datetime(2015, 1, 1, tzinfo=UTC)).status.endswith("/undersupervision")
    assert old.state_at(MOMENT_2019).status.endswith("/withdrawn")


def test_the_lv_lists_qualifications_are_read(lists):
    qualifiers = {q for s in lists.national["LV"].services for state in s.states for e in state.qualifications
                  for q in e.qualifiers}
    assert "http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/QCWithQSCD" in qualifiers
    criteria = next(e.criteria for s in lists.national["LV"].services for state in s.states
                    for e in state.qualifications)
    assert criteria.assertion == "atLeastOne" and criteria.key_usages == ({"nonRepudiation": True},)


def test_the_czech_list_with_a_broken_signature_is_refused(lists):
    assert "CZ" not in lists.national
    assert lists.refused["CZ"] == "the trusted list of CZ was changed after it was signed (a digest does not match)"
    statuses = {s.territory: s for s in lists.statuses(MOMENT_2019)}
    assert statuses["CZ"].problem == lists.refused["CZ"] and statuses["LT"].problem is None
    assert statuses["AT"].problem == "the trusted list of AT has not been downloaded"


def test_the_lotl_with_a_broken_signature_is_refused(commission_signers):
    broken = tl.load_trusted_lists(reference("eu-lotl-broken-sig.xml"), {"LT": reference("LT.xml")},
                                   commission_signers, at=MOMENT_2019)
    assert broken.lotl is None and broken.lotl_refused and not broken.national
    assert broken.lotl_problem == "the List of Trusted Lists was changed after it was signed (a digest does not match)"
    assert [s.problem for s in broken.statuses(MOMENT_2019)] == [broken.lotl_problem]


def test_a_list_is_refused_when_not_signed_by_the_certificates_named_for_it(commission_signers, lists):
    lt_signers = lists.lotl.pointers_for("LT")[0].certificates
    with pytest.raises(tl.TrustedListError, match="not signed by any of the 2 certificate"):
        tl.read_list(reference("LT.xml"), lists.lotl.pointers_for("LV")[0].certificates, at=MOMENT_2019,
                     territory="LT")
    # Lithuania's list offered as the LOTL: the LT operator is no LOTL signer.
    with pytest.raises(tl.TrustedListError, match="List of Trusted Lists is not signed by any"):
        tl.read_list(reference("LT.xml"), commission_signers, at=MOMENT_2019, lotl=True)
    # ... and signed by the right key, it is still Lithuania's list, not Latvia's nor the LOTL.
    with pytest.raises(tl.TrustedListError, match="is the list of LT, not of LV"):
        tl.read_list(reference("LT.xml"), lt_signers, at=MOMENT_2019, territory="LV")
    with pytest.raises(tl.TrustedListError, match="is not the EU List of Trusted Lists"):
        tl.read_list(reference("LT.xml"), lt_signers, at=MOMENT_2019, lotl=True)


def test_a_list_filed_under_another_territory_is_refused(commission_signers):
    swapped = tl.load_trusted_lists(reference("EU.xml"), {"LV": reference("LT.xml"), "XX": reference("LV.xml")},
                                    commission_signers, at=MOMENT_2019)
    assert "not signed by any of the 2 certificate(s)" in swapped.refused["LV"]
    assert swapped.refused["XX"] == "the List of Trusted Lists points to no trusted list for XX"


def test_issue_and_next_update_dates_are_respected(lists, commission_signers):
    after = dt.datetime(2020, 2, 1, tzinfo=UTC)  # the LOTL still current, Lithuania's list overdue
    statuses = {s.territory: s.problem for s in lists.statuses(after)}
    assert statuses["EU"] is None
    assert statuses["LT"] == "the trusted list of LT (sequence 50) is out of date: its next update was due on " \
                             "2020-01-18 00:00 UTC"
    before = dt.datetime(2019, 8, 1, tzinfo=UTC)
    assert "is dated 2019-09-04 08:00 UTC, after the moment of verification" in lists.lotl.freshness_problem(before)


def test_a_signer_certificate_out_of_its_validity_is_refused(commission_signers):
    late = dt.datetime(2030, 1, 1, tzinfo=UTC)  # the Commission's 2018 signing certificate ran until 2028
    refused = tl.load_trusted_lists(reference("EU.xml"), {}, commission_signers, at=late)
    assert refused.lotl_problem == "the List of Trusted Lists is signed with a certificate that was not valid on " \
                                   "2030-01-01 00:00 UTC"


@pytest.mark.parametrize("data, reason", [
    (b"", "is empty"),
    (b"<not-xml", "not a well-formed, safe XML document"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
     "DOCTYPE declaration"),
    (b"<TrustServiceStatusList xmlns='http://uri.etsi.org/02231/v2#'/>", "not signed by any"),
])
def test_hostile_or_unsigned_input_is_refused_with_a_reason(commission_signers, data, reason):
    with pytest.raises(tl.TrustedListError, match=reason):
        tl.read_list(data, commission_signers, at=MOMENT_2019, lotl=True)


def test_an_unsigned_copy_of_the_lotl_is_refused(commission_signers):
    unsigned = reference("EU.xml").split(b"<ds:Signature")[0] + b"</TrustServiceStatusList>"
    with pytest.raises(tl.TrustedListError, match="not signed by any of the 8"):
        tl.read_list(unsigned, commission_signers, at=MOMENT_2019, lotl=True)
