"""The key ceremony steps, as functions the CLI (and the demo token) call with an open session.

Each step either does its job or refuses with a message saying why; none overwrites or deletes a key.
"""
from __future__ import annotations

import datetime as dt
import os

import pkcs11
from asn1crypto import csr as asn1csr
from asn1crypto import keys as asn1keys
from asn1crypto import x509 as asn1x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11 import exceptions as p11x
from pkcs11.util.ec import encode_ecdsa_signature, encode_named_curve_parameters

from hsm import objects
from hsm.objects import name_text
from hsm.errors import HsmError

KEY_TYPES = ("rsa3072", "ecp256")
# The private key may sign and nothing else; it never leaves the token in any form.
PRIVATE_TEMPLATE = {
    Attribute.TOKEN: True,
    Attribute.PRIVATE: True,
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: False,
    Attribute.SIGN: True,
    Attribute.DECRYPT: False,
    Attribute.UNWRAP: False,
    Attribute.DERIVE: False,
}
PUBLIC_TEMPLATE = {Attribute.TOKEN: True, Attribute.PRIVATE: False, Attribute.VERIFY: True,
                   Attribute.ENCRYPT: False, Attribute.WRAP: False}
NAME_ATTRIBUTES = {  # the names --subject accepts, as in RFC 4514 plus organizationIdentifier
    "CN": NameOID.COMMON_NAME, "O": NameOID.ORGANIZATION_NAME, "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "C": NameOID.COUNTRY_NAME, "L": NameOID.LOCALITY_NAME, "ST": NameOID.STATE_OR_PROVINCE_NAME,
    "organizationIdentifier": NameOID.ORGANIZATION_IDENTIFIER, "serialNumber": NameOID.SERIAL_NUMBER,
}


def keygen(session: pkcs11.Session, label: str, key_type: str) -> bytes:
    """Generate a seal key pair on the token; returns its CKA_ID. Refuses an existing label."""
    if key_type not in KEY_TYPES:
        raise HsmError(f"--type must be one of {', '.join(KEY_TYPES)}, not '{key_type}'")
    if not label or len(label) > 64:
        raise HsmError("--label must be 1 to 64 characters")
    for cls in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY, ObjectClass.CERTIFICATE):
        if objects.find_one(session, cls, label) is not None:
            raise HsmError(f"the token already holds an object labelled '{label}'; keys are never overwritten — "
                           "choose a new label (e.g. with the year: seal-2027)")
    temp_id = os.urandom(20)
    try:
        if key_type == "rsa3072":
            public, private = session.generate_keypair(
                KeyType.RSA, 3072, id=temp_id, label=label, store=True,
                public_template={**PUBLIC_TEMPLATE, Attribute.PUBLIC_EXPONENT: b"\x01\x00\x01"},
                private_template=PRIVATE_TEMPLATE)
        else:
            params = session.create_domain_parameters(
                KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True)
            public, private = params.generate_keypair(
                id=temp_id, label=label, store=True, public_template=PUBLIC_TEMPLATE,
                private_template=PRIVATE_TEMPLATE)
    except p11x.PKCS11Error as exc:
        raise HsmError(f"the token could not generate a {key_type} key: {type(exc).__name__}") from None
    key_id = objects.key_id_for(objects.public_key_der(public))
    try:  # the conventional id (SHA-1 of the public key) ties the certificate to the key on any tool
        public[Attribute.ID] = key_id
        private[Attribute.ID] = key_id
    except p11x.PKCS11Error:
        key_id = temp_id
    return key_id


def parse_subject(text: str) -> x509.Name:
    """'CN=...,O=...,organizationIdentifier=VATLT-...,C=LT' → a Name; commas inside values as '\\,'."""
    try:
        name = x509.Name.from_rfc4514_string(
            text, {k: v for k, v in NAME_ATTRIBUTES.items()})
    except ValueError as exc:
        raise HsmError(f"--subject is not a distinguished name ({exc}); example: "
                       "'CN=Nemunas University eSeal,O=Nemunas University,organizationIdentifier=VATLT-119502413,C=LT'") from None
    if not name.get_attributes_for_oid(NameOID.COMMON_NAME):
        raise HsmError("--subject needs a CN (the seal's name)")
    if not name.get_attributes_for_oid(NameOID.COUNTRY_NAME):
        raise HsmError("--subject needs C (the country, e.g. C=LT)")
    return name


def make_csr(session: pkcs11.Session, label: str, subject: x509.Name) -> x509.CertificateSigningRequest:
    """A PKCS#10 request for the key, signed on the token (so the provider knows we hold the key).

    The request is assembled with asn1crypto and only its to-be-signed bytes go to the token: cryptography's
    CSR builder accepts only its own in-memory keys, not a key object that signs elsewhere.
    """
    private = objects.private_key(session, label)
    spki = objects.public_key_der(objects.public_key_object(session, label))
    usage = x509.Extension(x509.ExtensionOID.KEY_USAGE, True, x509.KeyUsage(
        digital_signature=True, content_commitment=True, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False))
    info = asn1csr.CertificationRequestInfo({
        "version": "v1",
        "subject": asn1x509.Name.load(subject.public_bytes()),
        "subject_pk_info": asn1keys.PublicKeyInfo.load(spki),
        "attributes": [{
            "type": "extension_request",
            "values": [[{"extn_id": "key_usage", "critical": usage.critical,
                         "extn_value": asn1x509.KeyUsage.load(usage.value.public_bytes())}]],
        }],
    })
    tbs = info.dump()
    is_rsa = private.key_type == KeyType.RSA
    try:
        if is_rsa:
            signature = private.sign(tbs, mechanism=Mechanism.SHA256_RSA_PKCS)
        else:
            import hashlib

            signature = encode_ecdsa_signature(private.sign(hashlib.sha256(tbs).digest(), mechanism=Mechanism.ECDSA))
    except p11x.PKCS11Error as exc:
        raise HsmError(f"the token refused to sign the request with '{label}': {type(exc).__name__}") from None
    request = asn1csr.CertificationRequest({
        "certification_request_info": info,
        "signature_algorithm": {"algorithm": "sha256_rsa" if is_rsa else "sha256_ecdsa"},
        "signature": signature,
    })
    csr = x509.load_der_x509_csr(request.dump())
    if not csr.is_signature_valid:
        raise HsmError("the request signed on the token does not verify; the token's key is not usable")
    return csr


def import_certificate(session: pkcs11.Session, label: str, cert: x509.Certificate, chain: list[x509.Certificate],
                       *, now: dt.datetime | None = None) -> None:
    """Store the provider's certificate next to its key, after checking it belongs to that key and is in date."""
    now = now or dt.datetime.now(dt.timezone.utc)
    private = objects.private_key(session, label)
    spki = objects.public_key_der(objects.public_key_object(session, label))
    cert_spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    if cert_spki != spki:
        raise HsmError(f"refused: the certificate ({name_text(cert.subject)}) is for a different key than "
                       f"'{label}' on the token")
    if cert.not_valid_after_utc <= now:
        raise HsmError(f"refused: the certificate expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")
    if cert.not_valid_before_utc > now:
        raise HsmError(f"refused: the certificate is not valid yet (from {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC)")
    check_chain(cert, chain)
    objects.store_certificates(session, label, bytes(private[Attribute.ID]), cert, chain)


def check_chain(cert: x509.Certificate, chain: list[x509.Certificate]) -> None:
    """Each certificate must be issued by the next one; trust itself is the verifier's decision."""
    current = cert
    for issuer in chain:
        try:
            current.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, Exception) as exc:  # InvalidSignature has no message
            raise HsmError(f"refused: the chain is broken — '{name_text(current.subject)}' was not issued by "
                           f"'{name_text(issuer.subject)}' ({type(exc).__name__})") from None
        current = issuer


def activate(session: pkcs11.Session, label: str, *, now: dt.datetime | None = None) -> str | None:
    """Make ``label`` the active seal; returns the label it replaces (that key stays, for audit)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    private = objects.private_key(session, label)
    spki = objects.public_key_der(objects.public_key_object(session, label))
    cert, _ = objects.leaf_and_chain(session, bytes(private[Attribute.ID]), spki)
    if cert is None:
        raise HsmError(f"refused: '{label}' has no certificate yet; run `edc-hsm import-cert --label {label}` first")
    if not (cert.not_valid_before_utc <= now < cert.not_valid_after_utc):
        raise HsmError(f"refused: the certificate of '{label}' is not valid now "
                       f"({cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d})")
    previous = objects.active_label(session)
    if previous != label:
        objects.set_active_label(session, label)
    return previous
