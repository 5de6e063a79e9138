"""Peers of our seal (issue 18): the same unsigned EDC XML document signed by two other libraries with an
in-memory RSA-3072 key, in the same run as our seal and our pipeline, so the ratios say what our seal and
our pipeline cost next to a plain XML signature.

- python-xmlsec (the xmlsec1 C library): a plain enveloped XML-DSig signature, RSA-SHA256, exclusive
  C14N, one reference to the whole document; no XAdES properties, no certificate.
- signxml's XAdESSigner: an enveloped XAdES-BES signature (signed properties with the signing time and
  certificate digest, KeyInfo with the certificate), RSA-SHA256, C14N 1.1: signxml 5.2's XAdESSigner
  with exclusive C14N makes a SignedProperties digest its own XAdESVerifier rejects, so the peer keeps
  signxml's default (our seal subclasses the signer for exclusive C14N, bridge/edc/xades.py).
- Each peer's output is checked once by its own library's verifier, so a peer is timed only on a
  signature that verifies.

Ours differs from both by signing on the HSM: the RSA operation is SoftHSM's, reached through PKCS#11.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree

from bridge.edc import xades


def _key_and_certificate() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A throw-away RSA-3072 key in memory and a self-signed certificate for it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench peer (not a seal)")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    return key, cert


def _xmlsec_signer(key: rsa.RSAPrivateKey) -> Callable[[bytes], bytes]:
    import xmlsec

    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    loaded = xmlsec.Key.from_memory(pem, xmlsec.constants.KeyDataFormatPem)

    def sign(document: bytes) -> bytes:
        root = etree.fromstring(document)
        signature = xmlsec.template.create(root, xmlsec.constants.TransformExclC14N,
                                           xmlsec.constants.TransformRsaSha256)
        root.append(signature)
        reference = xmlsec.template.add_reference(signature, xmlsec.constants.TransformSha256, uri="")
        xmlsec.template.add_transform(reference, xmlsec.constants.TransformEnveloped)
        xmlsec.template.add_transform(reference, xmlsec.constants.TransformExclC14N)
        context = xmlsec.SignatureContext()
        context.key = loaded
        context.sign(signature)
        return etree.tostring(root)

    return sign


def _signxml_xades_signer(key: rsa.RSAPrivateKey, cert: x509.Certificate) -> Callable[[bytes], bytes]:
    from signxml import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
    from signxml.xades import XAdESSigner

    def sign(document: bytes) -> bytes:
        signer = XAdESSigner(signature_algorithm=SignatureMethod.RSA_SHA256, digest_algorithm=DigestAlgorithm.SHA256,
                             c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_1)
        return etree.tostring(signer.sign(etree.fromstring(document), key=key, cert=[cert]))

    return sign


def _ours(seal) -> Callable[[bytes], bytes]:  # noqa: ANN001 - hsm.signer's SealKey
    return lambda document: xades.serialize(xades.seal_xml(etree.fromstring(document), seal))


def per_signature_ms(sign: Callable[[bytes], bytes], document: bytes, count: int) -> float:
    """Mean wall-clock ms of one signature (after one warm-up), the document parsed each time."""
    sign(document)
    started = time.perf_counter()
    for _ in range(count):
        sign(document)
    return 1000 * (time.perf_counter() - started) / count


def _checked(key: rsa.RSAPrivateKey, cert: x509.Certificate, document: bytes,
             with_xmlsec: Callable[[bytes], bytes], with_signxml: Callable[[bytes], bytes]) -> None:
    """Each peer's signature verified once by its own library (a peer that signs wrongly is not timed)."""
    import xmlsec
    from signxml.xades import XAdESVerifier

    root = etree.fromstring(with_xmlsec(document))
    context = xmlsec.SignatureContext()
    context.key = xmlsec.Key.from_memory(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo), xmlsec.constants.KeyDataFormatPem)
    context.verify(xmlsec.tree.find_node(root, xmlsec.constants.NodeSignature))
    XAdESVerifier().verify(with_signxml(document), x509_cert=cert.public_bytes(serialization.Encoding.PEM).decode(),
                           expect_references=3)


def measure(document: bytes, seal, count: int = 40) -> dict[str, float]:  # noqa: ANN001 - SealKey
    """ms per signature for our seal (HSM) and the two in-memory peers, on the same unsigned document."""
    key, cert = _key_and_certificate()
    with_xmlsec, with_signxml = _xmlsec_signer(key), _signxml_xades_signer(key, cert)
    _checked(key, cert, document, with_xmlsec, with_signxml)
    return {"ours_ms": per_signature_ms(_ours(seal), document, count),
            "xmlsec_ms": per_signature_ms(with_xmlsec, document, count),
            "signxml_xades_ms": per_signature_ms(with_signxml, document, count)}
