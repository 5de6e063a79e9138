"""Is this seal a *qualified* electronic seal? Decided as the EU's verifiers decide it.

eIDAS (Art. 3(27)) makes a seal qualified when it is made on a qualified seal creation device (QSCD)
with a qualified certificate for electronic seals. Whether a certificate is one is read from two
places (ETSI TS 119 615, EN 319 412-5): the certificate's own QC statements (QcCompliance, QcType
eseal, QcSSCD) and the national trusted list of its provider, which must show the issuing service as
a qualified CA (`CA/QC`) *granted* both when the certificate was issued and when the seal was made
(the service history says which status held when), and may correct the certificate's statements
with Qualifications (QCForESeal, QCWithQSCD, NotQualified, …).

The answer is three-valued: True and False are conclusions from verified lists; None ("unknown")
means the lists could not say (none configured, not downloaded, out of date). Every answer carries
the reason in one sentence.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from asn1crypto import core
from cryptography import x509

from bridge.edc.trusted_lists import TrustedList, TrustedLists, TrustService, territory_of

CA_QC = "http://uri.etsi.org/TrstSvc/Svctype/CA/QC"
GRANTED = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted"
SVC_INFO_EXT = "http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/"
FOR_ESEALS = SVC_INFO_EXT + "ForeSeals"
SERVICE_USAGES = {SVC_INFO_EXT + u for u in ("ForeSignatures", "ForeSeals", "ForWebSiteAuthentication")}

QC_STATEMENTS = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.3")  # RFC 3739 qcStatements extension
QC_COMPLIANCE = "0.4.0.1862.1.1"
QC_SSCD = "0.4.0.1862.1.4"
QC_TYPE = "0.4.0.1862.1.6"
QC_TYPES = {"0.4.0.1862.1.6.1": "esign", "0.4.0.1862.1.6.2": "eseal", "0.4.0.1862.1.6.3": "web"}
# Trusted-list qualifiers (TS 119 612 §5.5.9.2) grouped by what they decide.
QUALIFIED_YES, QUALIFIED_NO = {SVC_INFO_EXT + "QCStatement"}, {SVC_INFO_EXT + "NotQualified"}
TYPE_BY_QUALIFIER = {SVC_INFO_EXT + "QCForESig": "esign", SVC_INFO_EXT + "QCForESeal": "eseal",
                     SVC_INFO_EXT + "QCForWSA": "web"}
QSCD_YES = {SVC_INFO_EXT + q for q in ("QCWithSSCD", "QCWithQSCD", "QCQSCDManagedOnBehalf")}
QSCD_NO = {SVC_INFO_EXT + q for q in ("QCNoSSCD", "QCNoQSCD")}


class _QcStatement(core.Sequence):
    _fields = [("statement_id", core.ObjectIdentifier), ("statement_info", core.Any, {"optional": True})]


class _QcStatements(core.SequenceOf):
    _child_spec = _QcStatement


class _QcTypes(core.SequenceOf):
    _child_spec = core.ObjectIdentifier


@dataclass(frozen=True)
class Qualification:
    """The answer: `qualified` True / False / None (unknown), with the provider, its country and why."""

    qualified: bool | None
    why: str
    provider: str | None = None
    country: str | None = None
    service: str | None = None

    @property
    def word(self) -> str:
        return {True: "true", False: "false", None: "unknown"}[self.qualified]


@dataclass(frozen=True)
class QcProfile:
    """What a certificate says of itself, and what the trusted list adds (after qualifiers)."""

    compliance: bool = False
    types: frozenset[str] = frozenset()
    qscd: bool = False
    unreadable: str | None = None  # why the QC statements could not be read


def certificate_qc(cert: x509.Certificate) -> QcProfile:
    """The QC statements of `cert` (EN 319 412-5); an unreadable extension is reported, never raised."""
    try:
        ext = cert.extensions.get_extension_for_oid(QC_STATEMENTS).value
    except x509.ExtensionNotFound:
        return QcProfile()
    except ValueError as exc:  # a malformed extension list
        return QcProfile(unreadable=f"the certificate's extensions cannot be read: {exc}")
    try:
        statements = _QcStatements.load(ext.value)
        compliance = qscd = False
        types: set[str] = set()
        for statement in statements:
            oid = statement["statement_id"].dotted
            if oid == QC_COMPLIANCE:
                compliance = True
            elif oid == QC_SSCD:
                qscd = True
            elif oid == QC_TYPE and not isinstance(statement["statement_info"], core.Void):
                info = _QcTypes.load(statement["statement_info"].dump())
                types |= {QC_TYPES.get(t.dotted, t.dotted) for t in info}
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return QcProfile(unreadable=f"the certificate's QC statements are not valid DER ({type(exc).__name__})")
    return QcProfile(compliance, frozenset(types), qscd)


def assess(cert: x509.Certificate | None, lists: TrustedLists | None, *, sealed_at: dt.datetime,
           now: dt.datetime, seal_confirmed: bool) -> Qualification:
    """Decide whether the seal made with `cert` at `sealed_at` is a qualified electronic seal.

    `sealed_at` is the moment the trust decision used (a verified time-stamp's time, else now);
    `seal_confirmed` says the seal is intact and its certificate trusted: a seal that is not valid is
    not a qualified seal, whatever the lists say.
    """
    if lists is None:
        return Qualification(None, "no EU trusted lists are configured (EDC_TRUSTED_LISTS), so whether the seal is "
                                   "qualified was not checked")
    if cert is None:
        return Qualification(None, "the seal carries no certificate to look up on the trusted lists")
    country = territory_of(cert)
    found = _national_list(lists, country, now)
    if isinstance(found, Qualification):
        return found
    services = [s for s in found.services if s.issued(cert)]
    if not services:
        return Qualification(False, f"no trust service on {found.describe()} issued the seal certificate "
                                    f"(its issuer is {cert.issuer.rfc4514_string()})", country=country)
    decision = _best(services, cert, sealed_at, found)
    if decision.qualified and not seal_confirmed:
        return Qualification(False, "the seal itself is not valid (see the problems), so it is not a qualified seal",
                             decision.provider, decision.country, decision.service)
    return decision


def judge_report(report: Any, lists: TrustedLists | None, *, now: dt.datetime) -> None:
    """The hook after the trust decision, one for every format: fill the report's qualified status.

    Reads what the trust decision recorded (`seal_certificate`, `judged_at`); a seal that is not
    intact or not trusted is never a qualified seal.
    """
    try:
        answer = assess(report.seal_certificate, lists, sealed_at=report.judged_at or now, now=now,
                        seal_confirmed=bool(report.signature_intact and report.trusted))
    except Exception as exc:  # noqa: BLE001 - a certificate from the file may hold anything: a verdict, never a traceback
        answer = Qualification(None, f"the qualified status could not be decided ({type(exc).__name__})")
    report.qualification_outcome(answer)


def _national_list(lists: TrustedLists, country: str | None, now: dt.datetime) -> TrustedList | Qualification:
    """The verified, current national list for `country`, or the answer explaining why there is none."""
    if lists.lotl is None:
        return Qualification(False if lists.lotl_refused else None, lists.lotl_problem or "no List of Trusted Lists")
    stale = lists.lotl.freshness_problem(now)
    if stale:
        return Qualification(None, stale)
    if not country:
        return Qualification(False, "the seal certificate names no country, so no national trusted list applies")
    if not lists.lotl.pointers_for(country):
        return Qualification(False, f"the List of Trusted Lists points to no trusted list for {country}",
                             country=country)
    if country in lists.refused:
        return Qualification(False, lists.refused[country], country=country)
    national = lists.national.get(country)
    if national is None:
        return Qualification(None, f"the trusted list of {country} is not available (not downloaded)",
                             country=country)
    stale = national.freshness_problem(now)
    return Qualification(None, stale, country=country) if stale else national


def _best(services: list[TrustService], cert: x509.Certificate, sealed_at: dt.datetime,
          national: TrustedList) -> Qualification:
    """Several services may name the same CA certificate (one per usage): any that qualifies wins."""
    answers = [_service_decision(s, cert, sealed_at, national) for s in services]
    return next((a for a in answers if a.qualified), answers[0])


def _service_decision(service: TrustService, cert: x509.Certificate, sealed_at: dt.datetime,
                      national: TrustedList) -> Qualification:
    def answer(qualified: bool, why: str) -> Qualification:
        return Qualification(qualified, why, service.provider, national.territory, service.name)

    where = f"{service.provider}'s service “{service.name}” on {national.describe()}"
    issued_at = cert.not_valid_before_utc
    at_sealing, at_issue = service.state_at(sealed_at), service.state_at(issued_at)
    for state, moment, event in ((at_issue, issued_at, "the seal certificate was issued"),
                                 (at_sealing, sealed_at, "the seal was made")):
        problem = _state_problem(state, moment, event, service)
        if problem:
            return answer(False, f"{where}: {problem}")
    usages = at_sealing.additional_information & SERVICE_USAGES
    if usages and FOR_ESEALS not in usages:
        return answer(False, f"{where} issues qualified certificates for other uses than electronic seals")
    profile = _with_qualifiers(certificate_qc(cert), at_sealing, cert)
    problem = _profile_problem(profile)
    if problem:
        return answer(False, f"{where} issued the seal certificate, but {problem}")
    return answer(True, f"a qualified electronic seal: the certificate is a qualified certificate for electronic "
                        f"seals on a QSCD (QcCompliance, QcType eseal, QcSSCD), issued by {where}, granted when "
                        f"the certificate was issued and when the seal was made")


def _state_problem(state, moment: dt.datetime, event: str, service: TrustService) -> str | None:
    day = moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    if state is None:
        return f"the service was not yet on the list when {event} ({day})"
    if state.type_identifier != CA_QC:
        return f"it is not a qualified certificate service (its type is {state.type_identifier})"
    if state.status != GRANTED:
        status = state.status.rsplit("/", 1)[-1]
        since = state.since.strftime("%Y-%m-%d")
        return f"its status was “{status}” (since {since}), not “granted”, when {event} ({day})"
    return None


def _with_qualifiers(profile: QcProfile, state, cert: x509.Certificate) -> QcProfile:
    """Apply the list's Qualifications that match `cert`: the list overrides what the certificate says."""
    compliance, types, qscd = profile.compliance, set(profile.types), profile.qscd
    for element in state.qualifications:
        if not _matches(element.criteria, cert):
            continue
        q = element.qualifiers
        compliance = (compliance or bool(q & QUALIFIED_YES)) and not (q & QUALIFIED_NO)
        listed = {TYPE_BY_QUALIFIER[u] for u in q if u in TYPE_BY_QUALIFIER}
        types = listed or types
        qscd = (qscd or bool(q & QSCD_YES)) and not (q & QSCD_NO)
    return QcProfile(compliance, frozenset(types), qscd, profile.unreadable)


def _profile_problem(profile: QcProfile) -> str | None:
    if profile.unreadable:
        return profile.unreadable
    if not profile.compliance:
        return "the certificate does not state that it is a qualified certificate (no QcCompliance statement)"
    if "eseal" not in profile.types:
        kinds = ", ".join(sorted(profile.types)) or "none"
        return f"it is not a certificate for electronic seals (it lacks the QcType eseal statement; its QcType: {kinds})"
    if not profile.qscd:
        return ("its key is not on a qualified seal creation device (no QcSSCD statement): an advanced seal "
                "with a qualified certificate, not a qualified seal")
    return None


def _matches(criteria, cert: x509.Certificate) -> bool:
    """ETSI TS 119 612 §5.5.9.2.2: every / at least one / none of the criteria hold for `cert`."""
    results = [_key_usage_holds(ku, cert) for ku in criteria.key_usages]
    results += [_policies_hold(ps, cert) for ps in criteria.policy_sets]
    results += [_matches(n, cert) for n in criteria.nested]
    results += [False for _ in criteria.unsupported]
    if criteria.assertion == "atLeastOne":
        return any(results)
    if criteria.assertion == "none":
        return not any(results)
    return bool(results) and all(results)


def _key_usage_holds(bits, cert: x509.Certificate) -> bool:
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except (x509.ExtensionNotFound, ValueError):
        return False
    values = {"digitalSignature": ku.digital_signature, "nonRepudiation": ku.content_commitment,
              "keyEncipherment": ku.key_encipherment, "dataEncipherment": ku.data_encipherment,
              "keyAgreement": ku.key_agreement, "keyCertSign": ku.key_cert_sign, "crlSign": ku.crl_sign}
    return all(values.get(name) == wanted for name, wanted in bits.items())  # an unknown bit name never holds


def _policies_hold(policy_set, cert: x509.Certificate) -> bool:
    try:
        policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    except (x509.ExtensionNotFound, ValueError):
        return False
    present = {p.policy_identifier.dotted_string for p in policies}
    return bool(policy_set) and policy_set <= present
