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
from bridge.edc.xades import C14N, DS_NS, EXC_C14N, NS, XADES_NS

# XAdES: without a CanonicalizationMethod in the time-stamp, inclusive c14n is meant.
DEFAULT_TS_C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"


def _ds(tag: str) -> str:
    return f"{{{DS_NS}}}{tag}"


def _xades(tag: str) -> str:
    return f"{{{XADES_NS}}}{tag}"


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


def _time_stamp_element(name: str, token: bytes, c14n_alg: str = EXC_C14N) -> etree._Element:
    ident = uuid.uuid4()
    stamp = etree.Element(name, Id=f"TS-{ident}")
    etree.SubElement(stamp, _ds("CanonicalizationMethod"), Algorithm=c14n_alg)
    etree.SubElement(stamp, _xades("EncapsulatedTimeStamp"), Id=f"ETS-{ident}").text = ltv.b64(token)
    return stamp


def _values_elements(certs: Sequence[x509.Certificate], revocation: ltv.RevocationData) -> list[etree._Element]:
    """CertificateValues and RevocationValues holding `certs` and `revocation`."""
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
        props.extend(_values_elements(chain, revocation))


def check_long_term(check: xades.XadesCheck, tsa_anchors: Sequence[x509.Certificate],
                    now: dt.datetime | None = None) -> None:
    """Verify the XAdES seal's signature time-stamp(s); on success set `check.timestamp_time`.

    Called by the verifier after xades.check_seal, which has read the certificate and revocation
    values the TSA certificate is judged with (bridge/edc/ltv.py says how).
    """
    signature = check.signature
    if signature is None or check.certificate is None:
        return
    pairs = []
    for n, stamp in enumerate(signature.xpath(".//xades:UnsignedSignatureProperties/xades:SignatureTimeStamp",
                                              namespaces=NS), start=1):
        method = stamp.find(_ds("CanonicalizationMethod"))
        c14n_alg = method.get("Algorithm") if method is not None else DEFAULT_TS_C14N
        encapsulated = stamp.find(_xades("EncapsulatedTimeStamp"))
        if c14n_alg not in C14N or encapsulated is None:
            check.problems.append("the seal's time-stamp is in a form this verifier does not support")
            continue
        token = ltv.decode_base64(encapsulated.text or "", "the seal's time-stamp", check.problems)
        if token is not None:
            pairs.append((token, timestamped_octets(signature, c14n_alg)))
    ltv.check_signature_timestamps(pairs, check, tsa_anchors, now)
