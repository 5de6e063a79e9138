"""The XAdES seal of an EDC v1 credential: made with signxml, checked by our own code.

Sealing follows what the EU's own issuer (EDCI) produced: an enveloped XML signature placed in
`<proof>`, exclusive canonicalization, RSA-SHA256 or ECDSA-SHA256, and XAdES 1.3.2 signed
properties (SigningTime, SigningCertificateV2, DataObjectFormat) — baseline B-B. Two things
signxml 5.2 gets wrong are fixed in a small subclass: it leaves `ds:Transforms` out of the
SignedProperties and KeyInfo references (so a verifier falls back to inclusive c14n and the
digests no longer match), and it stamps the signing time from the clock rather than the caller's.

Checking is written here rather than delegated to signxml's verifier because a credential verifier
must say *which* part failed (the content, the signed properties, the signature value, a moved or
second signature) and must keep the trust decision (bridge/edc/trust.py) separate from the
cryptographic one; signxml's verifier folds certificate validation into signature checking.
"""
from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree
from signxml import DigestAlgorithm, SignatureConstructionMethod, SignatureMethod
from signxml.algorithms import CanonicalizationMethod
from signxml.xades import XAdESDataObjectFormat, XAdESSigner

from bridge.edc import ltv
from bridge.edc.report import SealCheck

if TYPE_CHECKING:  # the key layer is only needed to seal, not to verify
    from hsm.signer import SealKey

SNB_NS = "http://data.europa.eu/snb"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XADES_NS = "http://uri.etsi.org/01903/v1.3.2#"
XADES141_NS = "http://uri.etsi.org/01903/v1.4.1#"  # ArchiveTimeStamp, TimeStampValidationData (EN 319 132-1)
NS = {"ds": DS_NS, "xades": XADES_NS, "xades141": XADES141_NS, "snb": SNB_NS}

EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
XPATH_FILTER = "http://www.w3.org/TR/1999/REC-xpath-19991116"
SIGNED_PROPERTIES_TYPE = "http://uri.etsi.org/01903#SignedProperties"

# Canonicalization algorithms we can reproduce: URI -> (exclusive, with_comments).
C14N = {
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315": (False, False),
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments": (False, True),
    EXC_C14N: (True, False),
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments": (True, True),
}
DIGESTS = {
    "http://www.w3.org/2001/04/xmlenc#sha256": hashlib.sha256,
    "http://www.w3.org/2001/04/xmldsig-more#sha384": hashlib.sha384,
    "http://www.w3.org/2001/04/xmlenc#sha512": hashlib.sha512,
}
# Signature algorithms: URI -> (key kind, hash). SHA-1 based ones are refused on purpose.
SIGNATURE_METHODS = {
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": ("rsa", hashes.SHA256),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": ("rsa", hashes.SHA384),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": ("rsa", hashes.SHA512),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": ("ec", hashes.SHA256),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": ("ec", hashes.SHA384),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": ("ec", hashes.SHA512),
}
# Sealing: the token's key algorithm -> the XML signature method.
SEAL_METHOD_BY_KEY = {"rsa": SignatureMethod.RSA_SHA256, "ec": SignatureMethod.ECDSA_SHA256}


def _ds(tag: str) -> str:
    return f"{{{DS_NS}}}{tag}"


def _xades(tag: str) -> str:
    return f"{{{XADES_NS}}}{tag}"


# --- sealing ----------------------------------------------------------------------------------


class _EdcXadesSigner(XAdESSigner):
    """signxml's XAdES signer with the two fixes described in the module docstring."""

    def __init__(self, signing_time: dt.datetime, **kwargs):
        super().__init__(**kwargs)
        self._signing_time = signing_time

    def add_signing_time(self, signed_signature_properties, sig_root, signing_settings):
        node = etree.SubElement(signed_signature_properties, _xades("SigningTime"), nsmap=self.namespaces)
        node.text = self._signing_time.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def add_signing_certificate(self, signed_signature_properties, sig_root, signing_settings):
        # SigningCertificateV2 names the seal certificate only; the CA certificates ride in KeyInfo.
        leaf_only = replace(signing_settings, cert_chain=signing_settings.cert_chain[:1])
        super().add_signing_certificate(signed_signature_properties, sig_root, leaf_only)

    def _add_reference_to_signed_info(self, sig_root, node_to_reference, **attrs):
        signed_info = self._find(sig_root, "SignedInfo")
        reference = etree.SubElement(signed_info, _ds("Reference"), nsmap=self.namespaces)
        for name, value in attrs.items():
            reference.set(name, value)
        reference.set("URI", f"#{node_to_reference.get('Id')}")
        transforms = etree.SubElement(reference, _ds("Transforms"))
        etree.SubElement(transforms, _ds("Transform"), Algorithm=self.c14n_alg.value)
        etree.SubElement(reference, _ds("DigestMethod"), Algorithm=self.digest_alg.value)
        digest = self._get_digest(self._c14n(node_to_reference, algorithm=self.c14n_alg), algorithm=self.digest_alg)
        etree.SubElement(reference, _ds("DigestValue")).text = base64.b64encode(digest).decode()


def key_kind(cert: x509.Certificate) -> str:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "rsa"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ec"
    raise ValueError(f"unsupported seal key type: {type(key).__name__}")


def seal_xml(root: etree._Element, seal: "SealKey", *, signing_time: dt.datetime | None = None) -> etree._Element:
    """Seal an unsealed europassCredential tree in place of a new `<proof>`; returns the sealed root.

    The proof goes last, where the EDC schema puts it; a tree that already has one is refused
    (re-sealing would hide the first seal).
    """
    if root.find(f"{{{SNB_NS}}}proof") is not None:
        raise ValueError("the credential already carries a proof; it cannot be sealed twice")
    proof = etree.SubElement(root, f"{{{SNB_NS}}}proof")
    etree.SubElement(proof, _ds("Signature"), Id="placeholder", nsmap={"ds": DS_NS})
    signer = _EdcXadesSigner(
        signing_time=(signing_time or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0),
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=SEAL_METHOD_BY_KEY[key_kind(seal.certificate)],
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
        data_object_format=XAdESDataObjectFormat(Description="European Digital Credential", MimeType="text/xml"),
    )
    # No KeyValue, as EDCI did: a verifier must take the key from the certificate, never a bare key.
    return signer.sign(root, key=seal.private_key, cert=[seal.certificate, *seal.chain], always_add_key_value=False)


def serialize(root: etree._Element) -> bytes:
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


# --- checking ---------------------------------------------------------------------------------


@dataclass
class XadesCheck(SealCheck):
    """What the signature itself proves (report.SealCheck), and the ds:Signature element it was read from."""

    signature: etree._Element | None = None


def canonical(node: etree._Element, algorithm: str) -> bytes:
    """`node` canonicalized with one of the C14N algorithms (its namespaces in scope, as XMLDSIG asks)."""
    exclusive, comments = C14N[algorithm]
    return etree.tostring(node, method="c14n", exclusive=exclusive, with_comments=comments)


def _remove_keeping_tail(node: etree._Element) -> None:
    """Drop an element but keep the text that follows it (it belongs to the parent)."""
    parent = node.getparent()
    if node.tail:
        prev = node.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + node.tail
        else:
            parent.text = (parent.text or "") + node.tail
    parent.remove(node)


def _same_node_in_copy(node: etree._Element, copy_root: etree._Element) -> etree._Element:
    """Follow `node`'s child positions from its root down the copied tree."""
    positions = []
    while node.getparent() is not None:
        positions.append(node.getparent().index(node))
        node = node.getparent()
    for index in reversed(positions):
        copy_root = copy_root[index]
    return copy_root


def _whole_document_octets(signature: etree._Element, transforms: list[etree._Element]) -> bytes:
    """Apply a same-document (URI="") reference's transforms: remove the signature, canonicalize."""
    doc = copy.deepcopy(signature.getroottree().getroot())
    own_copy = _same_node_in_copy(signature, doc)
    c14n_alg = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
    for transform in transforms:
        alg = transform.get("Algorithm")
        if alg == ENVELOPED:
            _remove_keeping_tail(own_copy)
        elif alg == XPATH_FILTER:
            expr = "".join(transform.findtext(_ds("XPath")) or "").strip()
            if expr.replace(" ", "") != "not(ancestor-or-self::ds:Signature)":
                raise ValueError(f"unsupported XPath transform: {expr}")
            for sig in doc.iter(_ds("Signature")):
                _remove_keeping_tail(sig)
                break
        elif alg in C14N:
            c14n_alg = alg
        else:
            raise ValueError(f"unsupported transform: {alg}")
    return canonical(doc, c14n_alg)


def _referenced_octets(signature: etree._Element, uri: str, transforms: list[etree._Element]) -> bytes:
    """Resolve `#id` to the one element with that Id; it must sit inside this signature."""
    ident = uri[1:]
    matches = signature.getroottree().xpath("//*[@Id=$i or @ID=$i or @id=$i]", i=ident)
    if len(matches) != 1:
        raise ValueError(f"the signed reference {uri} points at {len(matches)} elements (expected exactly one)")
    target = matches[0]
    if signature not in target.iterancestors() and target is not signature:
        raise ValueError(f"the signed reference {uri} points outside the signature")
    c14n_alg = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
    for transform in transforms:
        alg = transform.get("Algorithm")
        if alg not in C14N:
            raise ValueError(f"unsupported transform on {uri}: {alg}")
        c14n_alg = alg
    return canonical(target, c14n_alg)


def reference_octets(signature: etree._Element) -> list[bytes]:
    """What each ds:Reference of SignedInfo covers, after its transforms, in order (what its digest is
    over; an archive time-stamp covers them too). ValueError for a reference this module cannot follow."""
    out = []
    for ref in signature.find(_ds("SignedInfo")).findall(_ds("Reference")):
        uri = ref.get("URI")
        transforms = ref.findall(f"{_ds('Transforms')}/{_ds('Transform')}")
        if uri == "":
            out.append(_whole_document_octets(signature, transforms))
        elif uri and uri.startswith("#"):
            out.append(_referenced_octets(signature, uri, transforms))
        else:
            raise ValueError(f"a signed reference points outside the document ({uri!r})")
    return out


def _check_references(signature: etree._Element, check: XadesCheck) -> None:
    signed_info = signature.find(_ds("SignedInfo"))
    whole, signed_props = 0, 0
    for ref in signed_info.findall(_ds("Reference")):
        uri = ref.get("URI")
        transforms = ref.findall(f"{_ds('Transforms')}/{_ds('Transform')}")
        digest_alg = ref.find(_ds("DigestMethod")).get("Algorithm")
        if digest_alg not in DIGESTS:
            check.problems.append(f"a signed reference uses an unsupported or weak digest ({digest_alg})")
            continue
        try:
            if uri == "":
                octets = _whole_document_octets(signature, transforms)
            elif uri and uri.startswith("#"):
                octets = _referenced_octets(signature, uri, transforms)
            else:
                check.problems.append(f"a signed reference points outside the document ({uri!r})")
                continue
        except ValueError as exc:
            check.problems.append(str(exc))
            continue
        expected = base64.b64decode(ref.findtext(_ds("DigestValue")) or "")
        if DIGESTS[digest_alg](octets).digest() != expected:
            if uri == "":
                check.problems.append("the credential's content was changed after it was sealed (its digest does not match)")
            elif ref.get("Type") == SIGNED_PROPERTIES_TYPE:
                check.problems.append("the seal's signed properties (signing time, certificate) were changed")
            else:
                check.problems.append(f"the signed part {uri} was changed after sealing")
        if uri == "":
            whole += 1
        if ref.get("Type") == SIGNED_PROPERTIES_TYPE:
            signed_props += 1
    if whole != 1:
        check.problems.append("the seal does not cover the whole credential (no reference to the entire document)")
    if signed_props != 1:
        check.problems.append("the seal has no signed XAdES properties")


# Where a XAdES seal carries certificates: (path, how one is named in a problem, the container).
CERTIFICATE_PLACES = (
    (".//ds:KeyInfo/ds:X509Data/ds:X509Certificate", "certificate {n} in the seal's KeyInfo", "KeyInfo"),
    (".//xades:CertificateValues/xades:EncapsulatedX509Certificate", "certificate value {n} (CertificateValues)",
     "CertificateValues"),
)


def certificates(signature: etree._Element, problems: list[str] | None = None) -> list[x509.Certificate]:
    """The certificates the seal carries (KeyInfo, then CertificateValues), each once.

    One that cannot be read is a problem in `problems` (naming where it is), not an exception.
    """
    problems = [] if problems is None else problems
    certs: list[x509.Certificate] = []
    for path, label, container in CERTIFICATE_PLACES:
        nodes = signature.xpath(path, namespaces=NS)
        if ltv.too_many(nodes, ltv.MAX_VALUES, f"certificates in {container}", problems):
            continue
        for n, node in enumerate(nodes, start=1):
            what = label.format(n=n)
            der = ltv.decode_base64(node.text or "", what, problems)
            cert = ltv.read_certificate(der, what, problems) if der is not None else None
            if cert is not None and all(cert != c for c in certs):
                certs.append(cert)
    return certs


def signing_certificate(signature: etree._Element, certs: list[x509.Certificate], check: XadesCheck) -> None:
    """Find, among `certs`, the one SigningCertificateV2 names; set it (and the rest as chain) on `check`."""
    cert_ids = signature.xpath(
        ".//xades:SignedSignatureProperties/xades:SigningCertificateV2/xades:Cert"
        "|.//xades:SignedSignatureProperties/xades:SigningCertificate/xades:Cert",
        namespaces=NS,
    )
    if not cert_ids:
        check.problems.append("the seal does not name its signing certificate (no SigningCertificateV2)")
        return
    cert_id = cert_ids[0]
    alg = cert_id.find(f"{_xades('CertDigest')}/{_ds('DigestMethod')}").get("Algorithm")
    digest = base64.b64decode(cert_id.findtext(f"{_xades('CertDigest')}/{_ds('DigestValue')}") or "")
    hasher = DIGESTS.get(alg) or (hashlib.sha1 if alg == "http://www.w3.org/2000/09/xmldsig#sha1" else None)
    for cert in certs:
        if hasher and hasher(cert.public_bytes(Encoding.DER)).digest() == digest:
            check.certificate = cert
            check.chain = [c for c in certs if c is not cert]
            return
    check.problems.append("the certificate named in the seal's signed properties is not included in the seal")


def _check_signature_value(signature: etree._Element, check: XadesCheck) -> None:
    signed_info = signature.find(_ds("SignedInfo"))
    c14n_alg = signed_info.find(_ds("CanonicalizationMethod")).get("Algorithm")
    method = signed_info.find(_ds("SignatureMethod")).get("Algorithm")
    if c14n_alg not in C14N or method not in SIGNATURE_METHODS:
        check.problems.append(f"the seal uses an unsupported algorithm ({c14n_alg if c14n_alg not in C14N else method})")
        return
    kind, hash_cls = SIGNATURE_METHODS[method]
    value = base64.b64decode("".join((signature.findtext(_ds("SignatureValue")) or "").split()))
    data = canonical(signed_info, c14n_alg)
    try:
        key = check.certificate.public_key()
    except UnsupportedAlgorithm:
        check.problems.append("the seal certificate holds a kind of key this verifier does not support")
        return
    try:
        if kind == "rsa" and isinstance(key, rsa.RSAPublicKey):
            key.verify(value, data, padding.PKCS1v15(), hash_cls())
        elif kind == "ec" and isinstance(key, ec.EllipticCurvePublicKey):
            half = len(value) // 2
            der = encode_dss_signature(int.from_bytes(value[:half], "big"), int.from_bytes(value[half:], "big"))
            key.verify(der, data, ec.ECDSA(hash_cls()))
        else:
            check.problems.append("the seal's signature algorithm does not match its certificate's key")
            return
    except InvalidSignature:
        check.problems.append("the seal's signature value does not match (the signed information was altered)")


def _level_and_time(signature: etree._Element, check: XadesCheck) -> None:
    text = signature.findtext(".//xades:SignedSignatureProperties/xades:SigningTime", namespaces=NS)
    if text:
        try:
            check.signing_time = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            check.problems.append(f"the seal's signing time is not a valid date ({text.strip()!r})")
    unsigned = signature.find(".//xades:UnsignedSignatureProperties", namespaces=NS)
    has = (lambda tag: unsigned is not None and unsigned.find(_xades(tag)) is not None)
    check.level = "B-B"
    if has("SignatureTimeStamp"):
        check.level = "B-T"
        if has("CertificateValues") and has("RevocationValues"):
            check.level = "B-LT"
            if unsigned.find(f"{{{XADES141_NS}}}ArchiveTimeStamp") is not None:
                check.level = "B-LTA"
    _revocation_values(signature, check)


def _revocation_values(signature: etree._Element, check: XadesCheck) -> None:
    """The CRLs and OCSP responses in RevocationValues that can be read; the others are problems."""
    found: dict[str, list[bytes]] = {"CRL": [], "OCSP": []}
    for kind, what in (("CRL", "an EncapsulatedCRLValue"), ("OCSP", "an EncapsulatedOCSPValue")):
        path = f".//xades:RevocationValues/xades:{kind}Values/xades:Encapsulated{kind}Value"
        for node in signature.xpath(path, namespaces=NS):
            der = ltv.decode_base64(node.text or "", f"{what} in RevocationValues", check.problems)
            if der is not None:
                found[kind].append(der)
    readable = ltv.read_revocation_values(found["CRL"], found["OCSP"], "RevocationValues", check.problems, check.notes)
    check.crls, check.ocsps = readable.crls, readable.ocsps


def check_seal(root: etree._Element) -> XadesCheck:
    """Check the one seal of a parsed credential: placement, every digest, the signature value.

    Integrity only, and the values the seal carries read; its time-stamps are xades_ltv's to check.
    """
    check = XadesCheck()
    signatures = list(root.iter(_ds("Signature")))
    if not signatures:
        check.problems.append("the credential is not sealed (it has no signature)")
        return check
    if len(signatures) > 1:
        check.problems.append(f"the credential carries {len(signatures)} signatures where one is expected (possible signature wrapping)")
        return check
    signature = signatures[0]
    check.signature = signature
    parent = signature.getparent()
    if parent.tag != f"{{{SNB_NS}}}proof" or parent.getparent() is not root:
        check.problems.append("the signature is not in the credential's <proof> element (it was moved)")
        return check
    _level_and_time(signature, check)
    _check_references(signature, check)
    certs = certificates(signature, check.problems)
    if not certs:
        check.problems.append("the seal carries no certificate")
        return check
    signing_certificate(signature, certs, check)
    if check.certificate is not None:
        _check_signature_value(signature, check)
    check.intact = not check.problems
    return check
