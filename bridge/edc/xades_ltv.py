"""The XAdES half of long-term seals (EDC v1 XML): where B-T and B-LT values go and what they cover.

Where things go follows the EU's own B-LT sample (DSS): in xades:UnsignedSignatureProperties, a
SignatureTimeStamp (ds:CanonicalizationMethod + EncapsulatedTimeStamp) over the canonicalized
ds:SignatureValue, then CertificateValues and RevocationValues (CRLValues, OCSPValues). Unsigned
properties are outside the signed data, so adding them later does not disturb the seal; that is what
makes "seal now, time-stamp later" possible. The policy, the configuration, the revocation sources
and the time-stamp check are shared with JAdES in bridge/edc/ltv.py; this module only knows XML.
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Sequence

from cryptography import x509
from lxml import etree

from bridge.edc import ltv, timestamps, xades
from bridge.edc.xades import C14N, DS_NS, EXC_C14N, NS, XADES141_NS, XADES_NS

# XAdES: without a CanonicalizationMethod in the time-stamp, inclusive c14n is meant.
DEFAULT_TS_C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"


def _ds(tag: str) -> str:
    return f"{{{DS_NS}}}{tag}"


def _xades(tag: str) -> str:
    return f"{{{XADES_NS}}}{tag}"


def _xades141(tag: str) -> str:
    return f"{{{XADES141_NS}}}{tag}"


def signature_of(root: etree._Element) -> etree._Element:
    """The credential's one ds:Signature (a long-term seal extends exactly one)."""
    signatures = list(root.iter(_ds("Signature")))
    if len(signatures) != 1:
        raise ValueError(f"the credential has {len(signatures)} signatures; a long-term seal extends exactly one")
    return signatures[0]


def unsigned_signature_properties(signature: etree._Element) -> etree._Element:
    """xades:UnsignedSignatureProperties, made after SignedProperties when the seal has none yet."""
    qualifying = signature.find(f".//{_xades('QualifyingProperties')}")
    if qualifying is None:
        raise ValueError("the seal has no XAdES qualifying properties; it is not a XAdES seal")
    unsigned = qualifying.find(_xades("UnsignedProperties"))
    if unsigned is None:
        unsigned = etree.SubElement(qualifying, _xades("UnsignedProperties"))
    props = unsigned.find(_xades("UnsignedSignatureProperties"))
    if props is None:
        props = etree.Element(_xades("UnsignedSignatureProperties"))
        unsigned.insert(0, props)  # it precedes any UnsignedDataObjectProperties
    return props


def timestamped_octets(signature: etree._Element, c14n_alg: str = EXC_C14N) -> bytes:
    """What a XAdES signature time-stamp covers: the canonicalized ds:SignatureValue element."""
    value = signature.find(_ds("SignatureValue"))
    if value is None:
        raise ValueError("the seal has no signature value to time-stamp")
    return xades.canonical(value, c14n_alg)


def archive_octets(signature: etree._Element, stamp: etree._Element | None, c14n_alg: str = EXC_C14N) -> bytes:
    """What a xadesv141:ArchiveTimeStamp covers (ETSI EN 319 132-1 §5.5.2, not distributed case).

    In this order, canonicalized with the time-stamp's own algorithm: the octets of every ds:Reference
    after its transforms; ds:SignedInfo, ds:SignatureValue and ds:KeyInfo; each unsigned signature
    property before `stamp` (None: all of them, for a new one); every ds:Object but the one holding
    the qualifying properties.
    """
    parts = list(xades.reference_octets(signature))
    for name in ("SignedInfo", "SignatureValue", "KeyInfo"):
        node = signature.find(_ds(name))
        if node is not None:
            parts.append(xades.canonical(node, c14n_alg))
    props = signature.find(".//xades:UnsignedSignatureProperties", namespaces=NS)
    for child in (props if props is not None else []):
        if child is stamp:
            break
        if isinstance(child.tag, str):
            parts.append(xades.canonical(child, c14n_alg))
    for obj in signature.findall(_ds("Object")):
        if obj.find(f".//{_xades('QualifyingProperties')}") is None:
            parts.append(xades.canonical(obj, c14n_alg))
    return b"".join(parts)


def _time_stamp_element(name: str, token: bytes, c14n_alg: str = EXC_C14N) -> etree._Element:
    ident = uuid.uuid4()
    stamp = etree.Element(name, Id=f"TS-{ident}")
    etree.SubElement(stamp, _ds("CanonicalizationMethod"), Algorithm=c14n_alg)
    etree.SubElement(stamp, _xades("EncapsulatedTimeStamp"), Id=f"ETS-{ident}").text = ltv.b64(token)
    return stamp


def _values_elements(certs: Sequence[x509.Certificate], revocation: ltv.RevocationData) -> list[etree._Element]:
    """CertificateValues and RevocationValues holding `certs` and `revocation` (either may be left out when empty
    inside a TimeStampValidationData; at B-LT both are always written)."""
    values = etree.Element(_xades("CertificateValues"))
    for cert in certs:
        etree.SubElement(values, _xades("EncapsulatedX509Certificate")).text = ltv.b64(ltv.der(cert))
    rev = etree.Element(_xades("RevocationValues"))
    for kind, items in (("CRL", revocation.crls), ("OCSP", revocation.ocsps)):
        if items:
            container = etree.SubElement(rev, _xades(f"{kind}Values"))
            for item in items:
                etree.SubElement(container, _xades(f"Encapsulated{kind}Value")).text = ltv.b64(item)
    return [values, rev]


class XadesLongTerm:
    """A sealed EDC XML tree's unsigned properties: ltv.LongTermSeal for XAdES."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.signature = signature_of(root)

    @classmethod
    def parse(cls, data: bytes) -> "XadesLongTerm":
        from bridge.edc.schema_check import safe_parse

        return cls(safe_parse(data).getroot())

    def render(self) -> bytes:
        return xades.serialize(self.root)

    def signature_timestamp(self) -> bytes | None:
        node = self.signature.find(f".//{_xades('SignatureTimeStamp')}/{_xades('EncapsulatedTimeStamp')}")
        return ltv.decode_base64(node.text or "", "the signature time-stamp", []) if node is not None else None

    def add_signature_timestamp(self, tsa: ltv.TsaClient) -> dt.datetime:
        """Add a SignatureTimeStamp (B-T); returns its time.

        A seal that already has one keeps it (the earliest proof of existence is the valuable one),
        so a retried job never asks twice. Raises timestamps.TsaUnavailableError when the TSA is down.
        """
        existing = self.signature_timestamp()
        if existing is not None:
            return timestamps.token_time(existing)
        token = tsa.stamp(timestamped_octets(self.signature, EXC_C14N))
        unsigned_signature_properties(self.signature).insert(0, _time_stamp_element(_xades("SignatureTimeStamp"), token))
        return timestamps.token_time(token)

    def add_validation_data(self, revocation_source: ltv.RevocationSource,
                            anchors: Sequence[x509.Certificate] = ()) -> None:
        """Embed the seal's and the TSA's chains and their revocation data (B-T -> B-LT).

        `anchors` completes chains the seal does not carry in full. A source that cannot deliver
        raises RevocationUnavailableError and the document is left unchanged.
        """
        check = xades.XadesCheck()
        certs = xades.certificates(self.signature)
        xades.signing_certificate(self.signature, certs, check)
        if check.certificate is None:
            raise ValueError("the seal's own certificate cannot be found, so its chain cannot be embedded")
        token = self.signature_timestamp()
        if token is None:
            raise ValueError("B-LT needs the signature time-stamp first (add_signature_timestamp)")
        chain, revocation = ltv.validation_material(check.certificate, certs, token,
                                                    timestamped_octets(self.signature, EXC_C14N),
                                                    revocation_source, anchors)
        props = unsigned_signature_properties(self.signature)
        for old in (props.find(_xades("CertificateValues")), props.find(_xades("RevocationValues"))):
            if old is not None:
                props.remove(old)
        values = _values_elements(chain, revocation)
        first_archive = props.find(_xades141("ArchiveTimeStamp"))
        for element in values:  # before any archive time-stamp, which must cover them
            if first_archive is not None:
                first_archive.addprevious(element)
            else:
                props.append(element)

    def has_validation_data(self) -> bool:
        props = self.signature.find(".//xades:UnsignedSignatureProperties", namespaces=NS)
        return props is not None and all(props.find(_xades(n)) is not None
                                         for n in ("CertificateValues", "RevocationValues"))

    def archive_timestamps(self) -> list[bytes]:
        tokens = []
        for node in self.signature.xpath(".//xades:UnsignedSignatureProperties/xades141:ArchiveTimeStamp/"
                                         "xades:EncapsulatedTimeStamp", namespaces=NS):
            token = ltv.decode_base64(node.text or "", "an archive time-stamp", [])
            if token is not None:
                tokens.append(token)
        return tokens

    def carried_certificates(self) -> list[x509.Certificate]:
        return xades.certificates(self.signature)

    def add_archive_timestamp(self, tsa: ltv.TsaClient, revocation_source: ltv.RevocationSource,
                              anchors: Sequence[x509.Certificate] = ()) -> dt.datetime:
        """Add a xadesv141:ArchiveTimeStamp over the seal and all it carries (B-LTA, or a renewal).

        Before a renewal, the previous archive time-stamp's TSA chain and revocation data go into a
        xadesv141:TimeStampValidationData after it, so the new archive time-stamp covers them too.
        Raises TsaUnavailableError / RevocationUnavailableError with the document left unchanged.
        """
        props = unsigned_signature_properties(self.signature)
        previous = self.archive_timestamps()
        validation = None
        if previous:
            chain, revocation = ltv.archive_validation_material(previous[-1], self.carried_certificates(),
                                                                revocation_source, anchors)
            validation = etree.Element(_xades141("TimeStampValidationData"), Id=f"TSVD-{uuid.uuid4()}")
            validation.extend(element for element in _values_elements(chain, revocation) if len(element))
            props.append(validation)
        try:
            token = tsa.stamp(archive_octets(self.signature, None, EXC_C14N))
        except Exception:
            if validation is not None:
                props.remove(validation)
            raise
        props.append(_time_stamp_element(_xades141("ArchiveTimeStamp"), token))
        return timestamps.token_time(token)


def check_long_term(check: xades.XadesCheck, tsa_anchors: Sequence[x509.Certificate],
                    now: dt.datetime | None = None) -> None:
    """Verify the XAdES seal's archive and signature time-stamps; on success set `check.timestamp_time`.

    Called by the verifier after xades.check_seal, which has read the certificate and revocation
    values (TimeStampValidationData's too) the TSA certificates are judged with (ltv.py says how).
    """
    signature = check.signature
    if signature is None or check.certificate is None:
        return
    signature_stamps = []
    for stamp, token, c14n_alg in _stamps(signature, "xades:SignatureTimeStamp", "signature", check):
        signature_stamps.append((token, timestamped_octets(signature, c14n_alg)))
    archive_stamps = []
    for stamp, token, c14n_alg in _stamps(signature, "xades141:ArchiveTimeStamp", "archive", check):
        try:
            archive_stamps.append((token, archive_octets(signature, stamp, c14n_alg)))
        except ValueError as exc:
            check.problems.append(f"an archive time-stamp cannot be checked: {exc}")
    ltv.check_time_stamps(signature_stamps, archive_stamps, check, tsa_anchors, now)


def _stamps(signature: etree._Element, path: str, kind: str, check) -> list[tuple[etree._Element, bytes, str]]:
    """(element, token, c14n) of each time-stamp at `path` in UnsignedSignatureProperties that can be read."""
    found = []
    for stamp in signature.xpath(f".//xades:UnsignedSignatureProperties/{path}", namespaces=NS):
        method = stamp.find(_ds("CanonicalizationMethod"))
        c14n_alg = method.get("Algorithm") if method is not None else DEFAULT_TS_C14N
        encapsulated = stamp.find(_xades("EncapsulatedTimeStamp"))
        what = "the seal's time-stamp" if kind == "signature" else "an archive time-stamp"
        if c14n_alg not in C14N or encapsulated is None:
            check.problems.append(f"{what} is in a form this verifier does not support")
            continue
        token = ltv.decode_base64(encapsulated.text or "", what, check.problems)
        if token is not None:
            found.append((stamp, token, c14n_alg))
    return found
