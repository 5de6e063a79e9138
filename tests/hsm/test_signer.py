"""The signing interface other areas build on: SealKey from the session tokens."""
from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.x509.oid import NameOID

from hsm.errors import HsmError
from hsm.signer import open_seal


def test_rsa_seal_signs_on_the_token_and_the_certificate_verifies_it(rsa_token):
    seal = open_seal(rsa_token.config)
    assert seal.label == rsa_token.seal_label and seal.algorithm == "rsa3072"
    assert seal.certificate == rsa_token.seal_certificate
    assert seal.chain == (rsa_token.ca_cert,)
    signature = seal.sign(b"credential bytes")
    seal.certificate.public_key().verify(signature, b"credential bytes", padding.PKCS1v15(), hashes.SHA256())
    # the cryptography-shaped key signs the same way (what signxml calls)
    other = seal.private_key.sign(b"x", padding.PKCS1v15(), hashes.SHA256())
    seal.private_key.public_key().verify(other, b"x", padding.PKCS1v15(), hashes.SHA256())
    assert seal.private_key.key_size == 3072


def test_ec_seal_signs_der_ecdsa(ec_token):
    seal = open_seal(ec_token.config)
    assert seal.algorithm == "ecp256" and seal.private_key.curve.name == "secp256r1"
    signature = seal.sign(b"credential bytes")
    assert signature[0] == 0x30  # DER SEQUENCE, not raw r||s
    seal.certificate.public_key().verify(signature, b"credential bytes", ec.ECDSA(hashes.SHA256()))
    with pytest.raises(Exception):
        seal.certificate.public_key().verify(signature, b"credential bytez", ec.ECDSA(hashes.SHA256()))


def test_test_seal_says_it_is_a_test(rsa_token):
    cert = rsa_token.seal_certificate
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert "TEST SEAL" in cn and "NOT A QUALIFIED" in cn
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)[0].value == "VATLT-119502413"
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.content_commitment and usage.digital_signature and not usage.key_cert_sign
    assert "TEST CA" in rsa_token.ca_cert.subject.rfc4514_string()


def test_unknown_label_is_named(rsa_token):
    with pytest.raises(HsmError, match="no private key labelled 'nope'"):
        open_seal(rsa_token.config, "nope")


def test_private_key_cannot_be_exported(rsa_token):
    seal = open_seal(rsa_token.config)
    with pytest.raises(HsmError, match="stays on the token"):
        seal.private_key.private_bytes(None, None, None)
