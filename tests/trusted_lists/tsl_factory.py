"""Trusted lists made by the tests: a LOTL and national lists (ETSI TS 119 612 shape), XAdES-signed with
signxml by TEST keys, so the verifier can be shown a granted, a withdrawn or a mis-pointed service.

Everything here is TEST material; the real 2019 lists in ../shared/reference/eu-trusted-lists are read
as they are, never rewritten.
"""
from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import SignatureMethod
from signxml.xades import XAdESSigner

from bridge.edc import trusted_lists as tl
from bridge.edc.qualified import CA_QC, SVC_INFO_EXT
from bridge.edc.trusted_lists import ADDITIONAL_NS, LOTL_TYPE, NATIONAL_TYPE, SIE_NS, TSL_MIME, TSL_NS

UTC = dt.timezone.utc
STATUS = "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass
class ListSigner:
    """A TEST key and self-signed certificate that signs lists (a scheme operator, or the Commission)."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @classmethod
    def create(cls, name: str, now: dt.datetime | None = None) -> "ListSigner":
        now = now or dt.datetime.now(UTC)
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"TEST trusted list signer – {name}"),
                             x509.NameAttribute(NameOID.COUNTRY_NAME, "LT")])
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=30)).not_valid_after(now + dt.timedelta(days=365))
                .sign(key, hashes.SHA256()))
        return cls(key, cert)

    def sign(self, root: etree._Element) -> bytes:
        signed = XAdESSigner(signature_algorithm=SignatureMethod.ECDSA_SHA256).sign(root, key=self.key,
                                                                                    cert=[self.cert])
        return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


@dataclass
class State:
    status: str  # granted | withdrawn | ...
    since: dt.datetime
    type_identifier: str = CA_QC
    usages: tuple[str, ...] = ("ForeSeals",)  # AdditionalServiceInformation
    qualifiers: tuple[tuple[str, ...], ...] = ()  # each: qualifier names, applied to every certificate


@dataclass
class Service:
    cert: x509.Certificate  # the CA certificate identifying the service
    states: list[State]  # oldest first; the last is the current status
    provider: str = "Nemunas University TEST trust service provider"
    name: str = "TEST qualified certificates for electronic seals"


@dataclass
class Pointer:
    territory: str
    certs: list[x509.Certificate]
    location: str = "https://trusted-lists.test.invalid/LT.xml"
    mime_type: str = TSL_MIME


@dataclass
class ListSpec:
    territory: str
    issued: dt.datetime
    next_update: dt.datetime | None
    sequence: int = 1
    pointers: list[Pointer] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)


def _e(parent: etree._Element, tag: str, text: str | None = None, ns: str = TSL_NS, **attrs) -> etree._Element:
    node = etree.SubElement(parent, f"{{{ns}}}{tag}", **attrs)
    if text is not None:
        node.text = text
    return node


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(Encoding.DER)).decode()


def _name(parent: etree._Element, tag: str, text: str) -> None:
    _e(_e(parent, tag), "Name", text, **{XML_LANG: "en"})


def build(spec: ListSpec) -> etree._Element:
    """The unsigned list: a LOTL when it has pointers, else a national list with services."""
    root = etree.Element(f"{{{TSL_NS}}}TrustServiceStatusList", nsmap={None: TSL_NS, "a": ADDITIONAL_NS,
                                                                     "q": SIE_NS}, Id="tsl",
                         TSLTag="http://uri.etsi.org/19612/TSLTag")
    info = _e(root, "SchemeInformation")
    _e(info, "TSLVersionIdentifier", "5")
    _e(info, "TSLSequenceNumber", str(spec.sequence))
    _e(info, "TSLType", LOTL_TYPE if spec.territory == "EU" else NATIONAL_TYPE)
    _name(info, "SchemeOperatorName", f"TEST scheme operator of {spec.territory}")
    _e(info, "SchemeTerritory", spec.territory)
    if spec.pointers:
        pointers = _e(info, "PointersToOtherTSL")
        for p in spec.pointers:
            node = _e(pointers, "OtherTSLPointer")
            ids = _e(node, "ServiceDigitalIdentities")
            for cert in p.certs:
                _e(_e(_e(ids, "ServiceDigitalIdentity"), "DigitalId"), "X509Certificate", _b64(cert))
            _e(node, "TSLLocation", p.location)
            extra = _e(node, "AdditionalInformation")
            _e(_e(extra, "OtherInformation"), "SchemeTerritory", p.territory)
            _e(_e(extra, "OtherInformation"), "MimeType", p.mime_type, ns=ADDITIONAL_NS)
    _e(info, "ListIssueDateTime", _when(spec.issued))
    next_update = _e(info, "NextUpdate")
    if spec.next_update is not None:
        _e(next_update, "dateTime", _when(spec.next_update))
    if spec.services:
        providers = _e(root, "TrustServiceProviderList")
        for service in spec.services:
            provider = _e(providers, "TrustServiceProvider")
            _name(_e(provider, "TSPInformation"), "TSPName", service.provider)
            node = _e(_e(provider, "TSPServices"), "TSPService")
            _state(_e(node, "ServiceInformation"), service, service.states[-1])
            if len(service.states) > 1:
                history = _e(node, "ServiceHistory")
                for state in reversed(service.states[:-1]):  # newest first, as the real lists have it
                    _state(_e(history, "ServiceHistoryInstance"), service, state)
    return root


def _state(node: etree._Element, service: Service, state: State) -> None:
    _e(node, "ServiceTypeIdentifier", state.type_identifier)
    _name(node, "ServiceName", service.name)
    _e(_e(_e(node, "ServiceDigitalIdentity"), "DigitalId"), "X509Certificate", _b64(service.cert))
    _e(node, "ServiceStatus", STATUS + state.status)
    _e(node, "StatusStartingTime", _when(state.since))
    if not (state.usages or state.qualifiers):
        return
    extensions = _e(node, "ServiceInformationExtensions")
    for usage in state.usages:
        extension = _e(extensions, "Extension", Critical="true")
        _e(_e(extension, "AdditionalServiceInformation"), "URI", SVC_INFO_EXT + usage, **{XML_LANG: "en"})
    for names in state.qualifiers:
        element = _e(_e(_e(extensions, "Extension", Critical="true"), "Qualifications", ns=SIE_NS),
                     "QualificationElement", ns=SIE_NS)
        qualifiers = _e(element, "Qualifiers", ns=SIE_NS)
        for name in names:
            _e(qualifiers, "Qualifier", ns=SIE_NS, uri=SVC_INFO_EXT + name)
        criteria = _e(element, "CriteriaList", ns=SIE_NS)
        criteria.set("assert", "atLeastOne")
        _e(_e(criteria, "KeyUsage", ns=SIE_NS), "KeyUsageBit", "true", ns=SIE_NS, name="nonRepudiation")


def signed(spec: ListSpec, signer: ListSigner) -> bytes:
    return signer.sign(build(spec))


def lists_bytes(commission: ListSigner, lt_operator: ListSigner, services: list[Service], *, now: dt.datetime,
                lt_signer: ListSigner | None = None, pointer_certs: list[x509.Certificate] | None = None,
                lt_next_update: dt.datetime | None = None, lotl_next_update: dt.datetime | None = None,
                location: str = "https://trusted-lists.test.invalid/LT.xml") -> tuple[bytes, bytes]:
    """A LOTL signed by `commission` pointing LT at `lt_operator` (or `pointer_certs`), and an LT list
    naming `services`, signed by `lt_signer` (default: the operator the LOTL names)."""
    later = now + dt.timedelta(days=180)
    lotl = signed(ListSpec("EU", now - dt.timedelta(days=3), lotl_next_update or later,
                           pointers=[Pointer("LT", pointer_certs or [lt_operator.cert], location=location)]), commission)
    lt = signed(ListSpec("LT", now - dt.timedelta(days=3), lt_next_update or later, services=services),
                lt_signer or lt_operator)
    return lotl, lt


def make_lists(commission: ListSigner, lt_operator: ListSigner, services: list[Service], *, now: dt.datetime,
               lotl_signers: list[x509.Certificate] | None = None, national: bool = True,
               **kwargs) -> tl.TrustedLists:
    """The verified set a verifier gets, built from `lists_bytes` with `commission` as the configured LOTL signer."""
    lotl, lt = lists_bytes(commission, lt_operator, services, now=now, **kwargs)
    return tl.load_trusted_lists(lotl, {"LT": lt} if national else {}, lotl_signers or [commission.cert], at=now)
