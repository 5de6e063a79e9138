"""What we keep on the token, and how we find it again.

Everything the sidecar needs lives on the token itself, so a sidecar needs only the module path, the
token label and the PIN:

* a seal key pair: private key (sensitive, never extractable) and public key, both with the same
  ``CKA_LABEL`` (the seal label) and ``CKA_ID`` (the SHA-1 of the public key, as X.509 key ids are);
* its certificate and the issuing CA certificates, as certificate objects with that same ``CKA_ID``;
  the leaf is the one whose public key matches, the rest is the chain;
* the "active seal" marker: one private data object (application ``edc-issuer``, label
  ``edc-active-seal``) whose value is the label of the key that seals new credentials; private, so
  that nobody without the PIN can point the sidecar at another key.
"""
from __future__ import annotations

import hashlib

import pkcs11
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pkcs11 import Attribute, CertificateType, KeyType, ObjectClass
from pkcs11 import exceptions as p11x
from pkcs11.util.ec import encode_ec_public_key
from pkcs11.util.rsa import encode_rsa_public_key

from hsm.errors import HsmError

APPLICATION = "edc-issuer"
ACTIVE_MARKER_LABEL = "edc-active-seal"


def name_text(name: x509.Name) -> str:
    """A distinguished name as operators write it (organizationIdentifier by name, not as 2.5.4.97)."""
    from cryptography.x509.oid import NameOID

    return name.rfc4514_string({NameOID.ORGANIZATION_IDENTIFIER: "organizationIdentifier"})


def public_key_der(key: pkcs11.PublicKey) -> bytes:
    """SubjectPublicKeyInfo DER of a public key object on the token."""
    if key.key_type == KeyType.RSA:
        pkcs1 = encode_rsa_public_key(key)
        return serialization.load_der_public_key(
            _spki_from_pkcs1(pkcs1)).public_bytes(serialization.Encoding.DER,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    if key.key_type == KeyType.EC:
        return encode_ec_public_key(key)
    raise HsmError(f"key type {key.key_type.name} is not supported for seals (use RSA or EC P-256)")


def _spki_from_pkcs1(pkcs1: bytes) -> bytes:
    from asn1crypto import keys as asn1keys

    return asn1keys.PublicKeyInfo({
        "algorithm": {"algorithm": "rsa", "parameters": None},
        "public_key": asn1keys.RSAPublicKey.load(pkcs1),
    }).dump()


def public_key(key: pkcs11.PublicKey) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
    return serialization.load_der_public_key(public_key_der(key))  # type: ignore[return-value]


def key_id_for(spki_der: bytes) -> bytes:
    """SHA-1 of the public key bits: the same value CAs put in the certificate's key identifiers."""
    from asn1crypto import keys as asn1keys

    return hashlib.sha1(asn1keys.PublicKeyInfo.load(spki_der)["public_key"].contents[1:]).digest()


def algorithm_name(pub: rsa.RSAPublicKey | ec.EllipticCurvePublicKey) -> str:
    if isinstance(pub, rsa.RSAPublicKey):
        return f"rsa{pub.key_size}"
    if isinstance(pub, ec.EllipticCurvePublicKey) and pub.curve.name == "secp256r1":
        return "ecp256"
    return f"ec-{pub.curve.name}"


def find_one(session: pkcs11.Session, object_class: ObjectClass, label: str) -> pkcs11.Object | None:
    found = list(session.get_objects({Attribute.CLASS: object_class, Attribute.LABEL: label}))
    if len(found) > 1:
        raise HsmError(f"the token holds {len(found)} {object_class.name.lower().replace('_', ' ')} objects "
                       f"labelled '{label}'; labels must be unique")
    return found[0] if found else None


def private_key(session: pkcs11.Session, label: str) -> pkcs11.PrivateKey:
    key = find_one(session, ObjectClass.PRIVATE_KEY, label)
    if key is None:
        raise HsmError(f"no private key labelled '{label}' on the token (see `edc-hsm status`)")
    return key  # type: ignore[return-value]


def public_key_object(session: pkcs11.Session, label: str) -> pkcs11.PublicKey:
    key = find_one(session, ObjectClass.PUBLIC_KEY, label)
    if key is None:
        raise HsmError(f"no public key labelled '{label}' on the token; the key pair must have been made "
                       "with `edc-hsm keygen` (or carry a public key object with the same label)")
    return key  # type: ignore[return-value]


def seal_labels(session: pkcs11.Session) -> list[str]:
    return sorted({k.label for k in session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY})})


def certificates(session: pkcs11.Session, key_id: bytes) -> list[x509.Certificate]:
    return [x509.load_der_x509_certificate(obj[Attribute.VALUE]) for obj in session.get_objects(
        {Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.ID: key_id})]


def leaf_and_chain(session: pkcs11.Session, key_id: bytes, spki_der: bytes
                   ) -> tuple[x509.Certificate | None, tuple[x509.Certificate, ...]]:
    """The seal certificate (the one whose key matches) and its issuers, ordered leaf-upwards."""
    certs = certificates(session, key_id)
    leaf = next((c for c in certs if _spki(c) == spki_der), None)
    if leaf is None:
        return None, ()
    rest = [c for c in certs if c is not leaf]
    chain: list[x509.Certificate] = []
    current = leaf
    while rest:
        issuer = next((c for c in rest if c.subject == current.issuer), None)
        if issuer is None:
            break
        chain.append(issuer)
        rest.remove(issuer)
        current = issuer
    return leaf, tuple(chain + rest)


def _spki(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def store_certificates(session: pkcs11.Session, label: str, key_id: bytes, leaf: x509.Certificate,
                       chain: list[x509.Certificate]) -> None:
    """Replace the certificates stored for this key (a renewed certificate replaces the old one)."""
    for obj in list(session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.ID: key_id})):
        obj.destroy()
    for index, cert in enumerate([leaf, *chain]):
        session.create_object({
            Attribute.CLASS: ObjectClass.CERTIFICATE,
            Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
            Attribute.TOKEN: True,
            Attribute.PRIVATE: False,
            Attribute.LABEL: label if index == 0 else f"{label} chain {index}",
            Attribute.ID: key_id,
            Attribute.SUBJECT: cert.subject.public_bytes(),
            Attribute.ISSUER: cert.issuer.public_bytes(),
            Attribute.SERIAL_NUMBER: _der_integer(cert.serial_number),
            Attribute.VALUE: cert.public_bytes(serialization.Encoding.DER),
        })


def _der_integer(value: int) -> bytes:
    from asn1crypto.core import Integer

    return Integer(value).dump()


def active_label(session: pkcs11.Session) -> str | None:
    marker = _active_marker(session)
    return bytes(marker[Attribute.VALUE]).decode("utf-8") if marker is not None else None


def _active_marker(session: pkcs11.Session) -> pkcs11.Object | None:
    found = list(session.get_objects({Attribute.CLASS: ObjectClass.DATA, Attribute.LABEL: ACTIVE_MARKER_LABEL}))
    return found[0] if found else None


def set_active_label(session: pkcs11.Session, label: str) -> None:
    """Rewrite the marker in place; where a module forbids that, a new one is made before the old goes."""
    old = list(session.get_objects({Attribute.CLASS: ObjectClass.DATA, Attribute.LABEL: ACTIVE_MARKER_LABEL}))
    if len(old) == 1:
        try:
            old[0][Attribute.VALUE] = label.encode("utf-8")
            return
        except p11x.PKCS11Error:
            pass
    session.create_object({
        Attribute.CLASS: ObjectClass.DATA,
        Attribute.TOKEN: True,
        Attribute.PRIVATE: True,  # only a logged-in user may read or move it
        Attribute.MODIFIABLE: True,
        Attribute.APPLICATION: APPLICATION,
        Attribute.LABEL: ACTIVE_MARKER_LABEL,
        Attribute.VALUE: label.encode("utf-8"),
    })
    for obj in old:
        try:
            obj.destroy()
        except p11x.PKCS11Error as exc:
            raise HsmError(f"the old active-seal marker could not be removed: {type(exc).__name__}") from None
