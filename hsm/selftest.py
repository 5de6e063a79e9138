"""`edc-hsm self-test`: prove the active seal signs, and that what it signs verifies with its certificate.

hsm/ must not depend on the credential code, so the test document is a small fixed XML seal made with
signxml (the same library and key path the sealer uses) plus a raw signature; both are verified with
the certificate stored on the token. The lead may extend this with a real test credential.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from lxml import etree
from signxml import SignatureMethod, XMLSigner, XMLVerifier

from hsm.config import TokenConfig
from hsm.errors import HsmError
from hsm.signer import SealKey, open_seal

TEST_DOCUMENT = b"<SelfTest xmlns='urn:edc-issuer:hsm-self-test'><Purpose>seal self-test, not a credential</Purpose></SelfTest>"


@dataclass
class SelfTestResult:
    ok: bool = True
    lines: list[str] = field(default_factory=list)

    def check(self, passed: bool, text: str) -> None:
        self.ok = self.ok and passed
        self.lines.append(("ok    " if passed else "FAIL  ") + text)


def run_self_test(config: TokenConfig, label: str | None = None, *, now: dt.datetime | None = None) -> SelfTestResult:
    now = now or dt.datetime.now(dt.timezone.utc)
    result = SelfTestResult()
    try:
        seal = open_seal(config, label)
    except HsmError as exc:
        result.check(False, f"open the {'seal ' + repr(label) if label else 'active seal'}: {exc}")
        return result
    result.check(True, f"opened seal '{seal.label}' ({seal.algorithm}) on token '{config.token_label}'")
    cert = seal.certificate
    result.check(cert.not_valid_before_utc <= now < cert.not_valid_after_utc,
                 f"certificate valid now ({cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d})")
    result.check(_raw_signature_verifies(seal), "raw SHA-256 signature made on the token verifies with the certificate")
    result.check(*_xml_seal_verifies(seal))
    return result


def _raw_signature_verifies(seal: SealKey) -> bool:
    data = TEST_DOCUMENT + dt.datetime.now(dt.timezone.utc).isoformat().encode()
    try:
        signature = seal.sign(data)
        public = seal.certificate.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            public.verify(signature, data, ec.ECDSA(hashes.SHA256()))  # type: ignore[union-attr]
        return True
    except Exception:  # noqa: BLE001 - any failure is a failed self-test, reported as such
        return False


def _xml_seal_verifies(seal: SealKey) -> tuple[bool, str]:
    method = SignatureMethod.RSA_SHA256 if seal.algorithm.startswith("rsa") else SignatureMethod.ECDSA_SHA256
    try:
        signed = XMLSigner(signature_algorithm=method).sign(
            etree.fromstring(TEST_DOCUMENT), key=seal.private_key, cert=[seal.certificate, *seal.chain])
        XMLVerifier().verify(etree.tostring(signed), x509_cert=seal.certificate)
        return True, "XML signature of the fixed test document (signxml) verifies with the certificate"
    except Exception as exc:  # noqa: BLE001
        return False, f"XML signature of the test document: {type(exc).__name__}: {exc}"
