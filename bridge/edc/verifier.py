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

from bridge.edc import formats, ltv, trust, xades, xml_reader
from bridge.edc.report import VerificationReport, iso
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
) -> VerificationReport:
    """Verify a credential file of any supported format; `now` lets a test move the clock.

    `trusted_lists` (bridge.edc.trusted_lists.TrustedLists) lets the report say whether the seal is
    a qualified electronic seal; without them that stays "unknown"."""
    checks = formats.Checks(schema=schema, shapes=shapes, trusted_lists=trusted_lists)
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


def _trust(report: VerificationReport, check: xades.XadesCheck, anchors: Sequence[x509.Certificate],
           now: dt.datetime) -> None:
    """Trust is judged at the time of sealing only when a verified time-stamp proves that time.

    A claimed signing time (B-B) is the signer's word: if the certificate has expired or been
    revoked since, nothing proves the seal was made before that, so the certificate is judged now.
    """
    report.sealed_at = iso(check.timestamp_time or check.signing_time)
    report.signer = trust.describe(check.certificate)
    judged_at = check.timestamp_time or now
    cert = check.certificate
    report.seal_certificate, report.judged_at = cert, judged_at  # for the qualified-status decision
    if check.timestamp_time is None:
        report.notes.append("the seal has no time-stamp, so its certificate is judged as of now")
        claimed = check.signing_time
        if claimed and not (cert.not_valid_before_utc <= claimed <= cert.not_valid_after_utc):
            report.problem("the seal's claimed signing time lies outside its certificate's validity period")
    verdict = trust.assess_certificate(
        cert, check.chain, anchors, judged_at, crls=check.crls, ocsps=check.ocsps, now=now
    )
    report.trusted = verdict.trusted
    if verdict.trusted and check.timestamp_time is not None:
        report.notes.append("valid at the time of sealing (as proven by the time-stamp)")
    report.problems.extend(verdict.problems)
    report.notes.extend(verdict.notes)


def verify_edc_xml(
    data: bytes,
    *,
    trust_anchors: Sequence[x509.Certificate],
    schema: EdcSchema | None = None,
    now: dt.datetime | None = None,
) -> VerificationReport:
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
    check = None
    with report.checking("seal"):
        check = xades.check_seal(root, tsa_anchors=ltv.tsa_trust_anchors(trust_anchors))
        report.seal_outcome(check)
    if check is not None and check.certificate is not None:
        with report.checking("certificate chain"):
            _trust(report, check, trust_anchors, now)
    return report
