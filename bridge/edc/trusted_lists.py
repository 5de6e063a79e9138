"""EU trusted lists (ETSI TS 119 612): the List of Trusted Lists (LOTL) and the national lists, from bytes.

A verifier that says "qualified" must get that from the lists the EU publishes, not from its own
configuration: the Commission's LOTL names, for each Member State, where its national list is and
which certificates may sign it; each national list names the qualified trust service providers, their
services (type, status, status history) and the certificates that identify them.

This module is pure: it is given the bytes (the service's loader fetches and caches them), the
certificates that may sign the LOTL (published in the Official Journal; configured, never taken from
the LOTL itself) and the moment to judge at. Each list's XAdES signature is checked with signxml
(the real lists use enveloped signatures, RSA-SHA256, exclusive c14n) and only what the signature
covers is parsed, so unsigned content can never reach a decision. A list that does not verify is
refused with a reason; nothing here raises on hostile input.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from lxml import etree
from signxml.exceptions import InvalidCertificate, InvalidDigest, SignXMLException
from signxml.xades import XAdESSignatureConfiguration, XAdESVerifier

from bridge.edc.schema_check import UnsafeXmlError, safe_parse

TSL_NS = "http://uri.etsi.org/02231/v2#"
ADDITIONAL_NS = "http://uri.etsi.org/02231/v2/additionaltypes#"
SIE_NS = "http://uri.etsi.org/TrstSvc/SvcInfoExt/eSigDir-1999-93-EC-TrustedList/#"
NS = {"t": TSL_NS, "a": ADDITIONAL_NS, "q": SIE_NS}

LOTL_TYPE = "http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUlistofthelists"
NATIONAL_TYPE = "http://uri.etsi.org/TrstSvc/TrustedList/TSLType/EUgeneric"
TSL_MIME = "application/vnd.etsi.tsl+xml"
LOTL_TERRITORY = "EU"
MAX_LIST_BYTES = 32 * 1024 * 1024  # the largest national lists are a few MB
# Country codes in certificates (ISO 3166) that the lists spell differently (EU practice).
TERRITORY_BY_COUNTRY = {"GR": "EL", "GB": "UK"}


class TrustedListError(ValueError):
    """A list that cannot be used; the message says why, in words a person can act on."""


# --- what a list says ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ListPointer:
    """One OtherTSLPointer of the LOTL: where a territory's list is and who may sign it."""

    territory: str
    location: str
    mime_type: str | None
    certificates: tuple[x509.Certificate, ...]

    @property
    def is_xml(self) -> bool:
        return self.mime_type in (None, TSL_MIME)


@dataclass(frozen=True)
class Criteria:
    """A CriteriaList of a Qualifications extension: which certificates a qualifier applies to.

    `assertion` is all | atLeastOne | none; `key_usages` holds one {bit name: value} per KeyUsage,
    `policy_sets` one set of policy OIDs per PolicySet, `nested` the inner CriteriaLists. A criterion
    this module cannot evaluate is named in `unsupported` and never matches.
    """

    assertion: str = "all"
    key_usages: tuple[Mapping[str, bool], ...] = ()
    policy_sets: tuple[frozenset[str], ...] = ()
    nested: tuple["Criteria", ...] = ()
    unsupported: tuple[str, ...] = ()


@dataclass(frozen=True)
class QualificationElement:
    qualifiers: frozenset[str]  # qualifier URIs (…/SvcInfoExt/QCForESeal, QCWithQSCD, NotQualified, …)
    criteria: Criteria


@dataclass(frozen=True)
class ServiceState:
    """A service as it was from `since` on: the current ServiceInformation or one ServiceHistoryInstance."""

    type_identifier: str
    status: str
    since: dt.datetime
    name: str | None
    additional_information: frozenset[str] = frozenset()  # AdditionalServiceInformation URIs (ForeSeals, …)
    qualifications: tuple[QualificationElement, ...] = ()


@dataclass(frozen=True)
class TrustService:
    provider: str
    territory: str
    certificates: tuple[x509.Certificate, ...]  # the current ServiceDigitalIdentity
    states: tuple[ServiceState, ...]  # oldest first; the last one is the current ServiceInformation

    @property
    def current(self) -> ServiceState:
        return self.states[-1]

    @property
    def name(self) -> str | None:
        return self.current.name

    def state_at(self, moment: dt.datetime) -> ServiceState | None:
        """The state in force at `moment` (the latest one that had started by then), None before the first."""
        started = [s for s in self.states if s.since <= moment]
        return started[-1] if started else None

    def issued(self, cert: x509.Certificate) -> bool:
        """Did one of this service's certificates sign `cert`? (checked cryptographically, not by name)"""
        for service_cert in self.certificates:
            if service_cert.subject != cert.issuer:
                continue
            try:
                cert.verify_directly_issued_by(service_cert)
                return True
            except Exception:  # noqa: BLE001 - wrong key, unsupported algorithm: not this one
                continue
        return False


@dataclass(frozen=True)
class TrustedList:
    territory: str
    tsl_type: str
    sequence: int | None
    issued: dt.datetime
    next_update: dt.datetime | None
    operator: str | None
    signer: x509.Certificate
    pointers: tuple[ListPointer, ...] = ()
    services: tuple[TrustService, ...] = ()

    @property
    def is_lotl(self) -> bool:
        return self.tsl_type == LOTL_TYPE

    def freshness_problem(self, now: dt.datetime) -> str | None:
        """Why this list cannot be relied on at `now` (not issued yet, past its next update), else None."""
        if now < self.issued:
            return f"{self.describe()} is dated {_day(self.issued)}, after the moment of verification ({_day(now)})"
        if self.next_update is None:
            return f"{self.describe()} is closed (it has no next update): the scheme was discontinued"
        if now > self.next_update:
            return f"{self.describe()} is out of date: its next update was due on {_day(self.next_update)}"
        return None

    def describe(self) -> str:
        what = "the List of Trusted Lists" if self.is_lotl else f"the trusted list of {self.territory}"
        return f"{what} (sequence {self.sequence})" if self.sequence is not None else what

    def pointers_for(self, territory: str) -> list[ListPointer]:
        return [p for p in self.pointers if p.territory == territory and p.is_xml]


# --- verifying one list --------------------------------------------------------------------------


def read_list(data: bytes, signers: Sequence[x509.Certificate], *, at: dt.datetime,
              territory: str | None = None, lotl: bool = False) -> TrustedList:
    """Check `data`'s XML signature against `signers` as of `at`, then parse what the signature covers.

    `lotl` asks for the List of Trusted Lists; otherwise `territory` is the country whose list the
    LOTL pointed at (a list of another country signed by a good key is still refused).
    Raises TrustedListError with the reason a list is refused.
    """
    what = "the List of Trusted Lists" if lotl else f"the trusted list of {territory or 'a territory'}"
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise TrustedListError(f"{what} is empty")
    if len(data) > MAX_LIST_BYTES:
        raise TrustedListError(f"{what} is larger than {MAX_LIST_BYTES // (1024 * 1024)} MB")
    try:
        safe_parse(bytes(data))
    except (UnsafeXmlError, etree.XMLSyntaxError, ValueError) as exc:
        raise TrustedListError(f"{what} is not a well-formed, safe XML document: {exc}") from None
    if not signers:
        raise TrustedListError(f"{what} cannot be checked: no certificates are named that may sign it")
    signed, signer = _verified_content(bytes(data), signers, at, what)
    try:
        parsed = _parse_list(signed, signer)
    except (ValueError, TypeError, AttributeError) as exc:
        raise TrustedListError(f"{what} does not follow ETSI TS 119 612: {exc}") from None
    _expect(parsed, territory=territory, lotl=lotl, what=what)
    return parsed


def _verified_content(data: bytes, signers: Sequence[x509.Certificate], at: dt.datetime,
                      what: str) -> tuple[etree._Element, x509.Certificate]:
    """The element the enveloped signature covers, and which of `signers` made it.

    The most telling failure is reported: content changed (digest) before an expired signer before
    "signed by someone else".
    """
    config = XAdESSignatureConfiguration(verification_time=at, expect_references=True, location="./")
    failures: list[tuple[int, str]] = []
    for cert in signers:
        try:
            results = XAdESVerifier().verify(data, x509_cert=cert, expect_config=config)
        except InvalidDigest:
            failures.append((0, f"{what} was changed after it was signed (a digest does not match)"))
            continue
        except InvalidCertificate:
            failures.append((1, f"{what} is signed with a certificate that was not valid on {_day(at)}"))
            continue
        except (SignXMLException, ValueError, TypeError, KeyError, etree.LxmlError):
            failures.append((2, f"{what} is not signed by any of the {len(signers)} certificate(s) allowed to sign it"))
            continue
        roots = [r.signed_xml for r in results if r.signed_xml is not None
                 and r.signed_xml.tag == f"{{{TSL_NS}}}TrustServiceStatusList"]
        if len(roots) != 1:
            failures.append((0, f"{what}'s signature does not cover the whole list"))
            continue
        return roots[0], cert
    failures.sort(key=lambda f: f[0])
    raise TrustedListError(failures[0][1])


def _expect(parsed: TrustedList, *, territory: str | None, lotl: bool, what: str) -> None:
    if lotl:
        if parsed.tsl_type != LOTL_TYPE or parsed.territory != LOTL_TERRITORY:
            raise TrustedListError(f"{what} is not the EU List of Trusted Lists (its type is {parsed.tsl_type}, "
                                   f"its territory {parsed.territory})")
        return
    if parsed.is_lotl:
        raise TrustedListError(f"{what} is a List of Trusted Lists, not a national list")
    if territory and parsed.territory != territory:
        raise TrustedListError(f"{what} is the list of {parsed.territory}, not of {territory}")


# --- parsing what was signed ---------------------------------------------------------------------


def _q(tag: str) -> str:
    return f"{{{TSL_NS}}}{tag}"


def _text(node: etree._Element | None, path: str) -> str | None:
    found = node.find(path, NS) if node is not None else None
    text = (found.text or "").strip() if found is not None else ""
    return text or None


def _moment(text: str | None, name: str) -> dt.datetime:
    if not text:
        raise ValueError(f"{name} is missing")
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{name} is not a date-time: {text[:40]!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _name(node: etree._Element | None) -> str | None:
    """The English one of a list of multilingual Name elements, else the first."""
    if node is None:
        return None
    names = node.findall("t:Name", NS)
    english = [n for n in names if n.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"]
    chosen = (english or names or [None])[0]
    return (chosen.text or "").strip() or None if chosen is not None else None


def _certificates(node: etree._Element | None) -> tuple[x509.Certificate, ...]:
    certs = []
    for element in node.iter(_q("X509Certificate")) if node is not None else ():
        try:
            certs.append(x509.load_der_x509_certificate(base64.b64decode("".join((element.text or "").split()))))
        except (ValueError, binascii.Error):
            continue  # one unreadable certificate does not make the others unusable
    return tuple(certs)


def _parse_list(root: etree._Element, signer: x509.Certificate) -> TrustedList:
    info = root.find("t:SchemeInformation", NS)
    if info is None:
        raise ValueError("SchemeInformation is missing")
    sequence = _text(info, "t:TSLSequenceNumber")
    territory = _text(info, "t:SchemeTerritory")
    if not territory:
        raise ValueError("SchemeTerritory is missing")
    next_update = _text(info, "t:NextUpdate/t:dateTime")
    return TrustedList(
        territory=territory, tsl_type=_text(info, "t:TSLType") or "", signer=signer,
        sequence=int(sequence) if sequence and sequence.isdigit() else None,
        issued=_moment(_text(info, "t:ListIssueDateTime"), "ListIssueDateTime"),
        next_update=_moment(next_update, "NextUpdate") if next_update else None,
        operator=_name(info.find("t:SchemeOperatorName", NS)),
        pointers=tuple(_pointer(p) for p in info.findall("t:PointersToOtherTSL/t:OtherTSLPointer", NS)),
        services=tuple(_services(root, territory)),
    )


def _pointer(node: etree._Element) -> ListPointer:
    territory = mime = None
    for other in node.findall("t:AdditionalInformation/t:OtherInformation", NS):
        territory = territory or _text(other, "t:SchemeTerritory")
        mime = mime or _text(other, "a:MimeType")
    return ListPointer(territory=territory or "", location=_text(node, "t:TSLLocation") or "", mime_type=mime,
                       certificates=_certificates(node.find("t:ServiceDigitalIdentities", NS)))


def _services(root: etree._Element, territory: str) -> Iterable[TrustService]:
    for provider in root.findall("t:TrustServiceProviderList/t:TrustServiceProvider", NS):
        provider_name = _name(provider.find("t:TSPInformation/t:TSPName", NS)) or "(unnamed provider)"
        for service in provider.findall("t:TSPServices/t:TSPService", NS):
            information = service.find("t:ServiceInformation", NS)
            if information is None:
                continue
            history = [_state(h) for h in service.findall("t:ServiceHistory/t:ServiceHistoryInstance", NS)]
            states = sorted([s for s in history if s is not None], key=lambda s: s.since)
            current = _state(information)
            if current is None:
                continue
            yield TrustService(provider=provider_name, territory=territory, states=(*states, current),
                               certificates=_certificates(information.find("t:ServiceDigitalIdentity", NS)))


def _state(node: etree._Element) -> ServiceState | None:
    status, since = _text(node, "t:ServiceStatus"), _text(node, "t:StatusStartingTime")
    if not status or not since:
        return None
    extensions = node.findall("t:ServiceInformationExtensions/t:Extension", NS)
    additional = {(_text(e, "t:AdditionalServiceInformation/t:URI") or "") for e in extensions} - {""}
    qualifications = tuple(_qualification(q) for e in extensions
                           for q in e.findall("q:Qualifications/q:QualificationElement", NS))
    return ServiceState(type_identifier=_text(node, "t:ServiceTypeIdentifier") or "", status=status,
                        since=_moment(since, "StatusStartingTime"), name=_name(node.find("t:ServiceName", NS)),
                        additional_information=frozenset(additional), qualifications=qualifications)


def _qualification(node: etree._Element) -> QualificationElement:
    qualifiers = frozenset(q.get("uri", "") for q in node.findall("q:Qualifiers/q:Qualifier", NS)) - {""}
    criteria = node.find("q:CriteriaList", NS)
    return QualificationElement(qualifiers, _criteria(criteria) if criteria is not None else Criteria("none"))


def _criteria(node: etree._Element) -> Criteria:
    key_usages, policy_sets, nested, unsupported = [], [], [], []
    for child in node:
        if not isinstance(child.tag, str):
            continue
        local = etree.QName(child).localname
        if local == "KeyUsage":
            key_usages.append({b.get("name", ""): (b.text or "").strip().lower() == "true"
                               for b in child.findall("q:KeyUsageBit", NS)})
        elif local == "PolicySet":
            policy_sets.append(frozenset(_text(p, "a:Identifier") or _text(p, "t:Identifier") or ""
                                         for p in child.findall("q:PolicyIdentifier", NS)) - {""})
        elif local == "CriteriaList":
            nested.append(_criteria(child))
        elif local != "Description":
            unsupported.append(local)
    return Criteria(node.get("assert", "all"), tuple(key_usages), tuple(policy_sets), tuple(nested),
                    tuple(unsupported))


# --- the LOTL and the national lists together ----------------------------------------------------


@dataclass(frozen=True)
class ListStatus:
    """One list as the staff pages show it: which, how fresh, and what is wrong with it (None: nothing)."""

    territory: str
    sequence: int | None = None
    issued: dt.datetime | None = None
    next_update: dt.datetime | None = None
    problem: str | None = None


@dataclass(frozen=True)
class TrustedLists:
    """The verified LOTL and the national lists it points at, as verified at `checked_at`.

    `refused` holds, per territory, why a list that was supplied was not accepted (signature,
    pointer, territory); a territory absent from both `national` and `refused` was not supplied.
    """

    checked_at: dt.datetime
    lotl: TrustedList | None = None
    lotl_problem: str | None = None  # why there is no LOTL (refused, or not available)
    lotl_refused: bool = False  # the LOTL was there but did not verify (as opposed to: not available)
    national: Mapping[str, TrustedList] = field(default_factory=dict)
    refused: Mapping[str, str] = field(default_factory=dict)

    def statuses(self, now: dt.datetime) -> list[ListStatus]:
        """The LOTL first, then every territory it points at, with what is wrong with each at `now`."""
        if self.lotl is None:
            return [ListStatus(LOTL_TERRITORY, problem=self.lotl_problem)]
        rows = [_status(self.lotl, now)]
        territories = sorted({p.territory for p in self.lotl.pointers if p.is_xml} - {LOTL_TERRITORY}
                             | set(self.refused))
        for territory in territories:
            if territory in self.national:
                rows.append(_status(self.national[territory], now))
            else:
                rows.append(ListStatus(territory, problem=self.refused.get(territory)
                                       or f"the trusted list of {territory} has not been downloaded"))
        return rows


def _status(tl: TrustedList, now: dt.datetime) -> ListStatus:
    return ListStatus(tl.territory, tl.sequence, tl.issued, tl.next_update, tl.freshness_problem(now))


def load_trusted_lists(lotl: bytes | None, national: Mapping[str, bytes], lotl_signers: Sequence[x509.Certificate],
                       *, at: dt.datetime) -> TrustedLists:
    """Verify the LOTL against `lotl_signers`, then each national list (keyed by territory) against the
    certificates the LOTL names for that territory, all as of `at`."""
    if lotl is None:
        return TrustedLists(at, lotl_problem="the List of Trusted Lists has not been downloaded yet")
    try:
        verified = read_list(lotl, lotl_signers, at=at, lotl=True)
    except TrustedListError as exc:
        return TrustedLists(at, lotl_problem=str(exc), lotl_refused=True)
    accepted: dict[str, TrustedList] = {}
    refused: dict[str, str] = {}
    for territory, data in national.items():
        pointers = verified.pointers_for(territory)
        if territory == LOTL_TERRITORY:
            continue
        if not pointers:
            refused[territory] = f"the List of Trusted Lists points to no trusted list for {territory}"
            continue
        certs = tuple({c.fingerprint(hashes.SHA256()): c for p in pointers for c in p.certificates}.values())
        try:
            accepted[territory] = read_list(data, certs, at=at, territory=territory)
        except TrustedListError as exc:
            refused[territory] = str(exc)
    return TrustedLists(at, lotl=verified, national=accepted, refused=refused)


def territory_of(cert: x509.Certificate) -> str | None:
    """The territory whose list should name the provider that issued `cert`: its issuer's country."""
    for name in (cert.issuer, cert.subject):
        countries = name.get_attributes_for_oid(x509.NameOID.COUNTRY_NAME)
        if countries:
            code = str(countries[0].value).strip().upper()
            return TERRITORY_BY_COUNTRY.get(code, code)
    return None


def _day(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
