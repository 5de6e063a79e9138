"""One entry point that answers "is this credential file genuine?" for any format we issue.

The order of checks matters: parse safely first (a hostile file must not reach anything else),
then schema, then the seal's integrity, then trust in the sealer as of the time of sealing. Every
check adds plain-language problems to one report instead of stopping at the first, so a person
reading the verdict learns everything that is wrong at once.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Sequence

from cryptography import x509
from lxml import etree

from bridge.edc import formats, trust, xades, xades_ltv, xml_reader
from bridge.edc.report import VerificationReport
from bridge.edc.schema_check import EdcSchema, UnsafeXmlError, safe_parse

EDC_XML = "edc-xml"  # = bridge.edc.format_edc_xml.FORMAT.name
ROOT_TAG = f"{{{xades.SNB_NS}}}europassCredential"


def detect_format(data: bytes) -> str | None:
    """The name of the format a file is in (bridge/edc/formats.py tells them apart), or None."""
    fmt = formats.detect(data)
    return fmt.name if fmt is not None else None


def verify_credential(
    data: bytes,
    *,
    trust_anchors: Sequence[x509.Certificate],
    schema: EdcSchema | None = None,
    shapes: Any = None,
    now: dt.datetime | None = None,
    trusted_lists: Any = None,
    tsa_anchors: Sequence[x509.Certificate] | None = None,
    status: Any = None,
    ob3_schema: Any = None,
) -> VerificationReport:
    """Verify a credential file of any supported format; `now` lets a test move the clock.

    `trusted_lists` (bridge.edc.trusted_lists.TrustedLists) lets the report say whether the seal is
    a qualified electronic seal; without them that stays "unknown". `tsa_anchors`: the CAs whose
    time-stamping authorities are believed (EDC_TSA_TRUST_ANCHORS); None: `trust_anchors`. `status`
    (bridge.edc.status.Lookup): look up the status resource a credential names; None: do not.
    `ob3_schema` (bridge.edc.ob3_schema.Ob3Schema): 1EdTech's schema an Open Badge is checked against."""
    checks = formats.Checks(schema=schema, shapes=shapes, trusted_lists=trusted_lists, tsa_anchors=tsa_anchors,
                            status=status, ob3_schema=ob3_schema)
    return formats.verify(data, trust_anchors=trust_anchors, checks=checks, now=now)


def _schema(report: VerificationReport, schema: EdcSchema | None, tree: etree._ElementTree) -> None:
    report.schema_outcome(
        schema.problems(tree) if schema is not None else None, against="the official EDC schema",
        skipped="the EDC schema check was skipped: no schema folder is configured (EDC_SCHEMA_DIR)",
    )


def _summary(report: VerificationReport, tree: etree._ElementTree) -> None:
    summary = xml_reader.summarize(tree)
    for name in ("learner", "title", "issuer", "credential_id", "ects", "eqf_level", "issued"):
        if summary.get(name) is not None:
            setattr(report, name, summary[name])


def verify_edc_xml(
    data: bytes,
    *,
    trust_anchors: Sequence[x509.Certificate],
    schema: EdcSchema | None = None,
    now: dt.datetime | None = None,
    tsa_anchors: Sequence[x509.Certificate] | None = None,
) -> VerificationReport:
    """Is this sealed EDC XML credential intact, sealed by someone we trust, and schema-valid?

    `tsa_anchors`: the CAs whose time-stamping authorities are believed (None: the seal's anchors).
    """
    now = now or dt.datetime.now(dt.timezone.utc)
    report = VerificationReport(format=EDC_XML)
    try:
        tree = safe_parse(data)
    except (UnsafeXmlError, etree.XMLSyntaxError) as exc:
        report.problem(f"the file is not a well-formed, safe XML document: {exc}")
        return report
    root = tree.getroot()
    if root.tag != ROOT_TAG:
        report.problem(f"the XML document is not a europassCredential (its root is {etree.QName(root).localname})")
        return report
    with report.checking("schema"):
        _schema(report, schema, tree)
    with report.checking("credential's content"):
        _summary(report, tree)
    check = xades.XadesCheck()
    with report.checking("seal"):
        check = xades.check_seal(root)
    if check.certificate is not None:  # B-T and above: the time-stamps (bridge/edc/xades_ltv.py)
        with report.checking("time-stamp"):
            xades_ltv.check_long_term(check, trust_anchors if tsa_anchors is None else tsa_anchors, now)
    report.seal_outcome(check)
    if check.certificate is not None:
        with report.checking("certificate chain"):
            trust.judge_seal(report, check, trust_anchors, now)
    return report
