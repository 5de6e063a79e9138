"""A SoftHSM token for practice, demos and tests: a TEST CA (software key) and a TEST seal on the token.

Nothing here is trusted outside tests: the CA's name says so, its key sits in a file next to the token,
and the seal certificate's subject says "TEST SEAL – NOT A QUALIFIED eSEAL".
"""
from __future__ import annotations

import ctypes
import datetime as dt
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from asn1crypto import core
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pkcs11 import Attribute, TokenFlag

from hsm import ceremony, objects
from hsm.config import DEMO_INFO_FILE, TokenConfig, demo_config, find_softhsm_module
from hsm.errors import HsmError
from hsm.token import load_module, token_handle

CA_NAME = x509.Name([
    x509.NameAttribute(NameOID.COMMON_NAME, "EDC Issuer TEST CA – not trusted outside tests"),
    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Nemunas University (pilot, TEST)"),
    x509.NameAttribute(NameOID.COUNTRY_NAME, "LT"),
])
SEAL_NAME = x509.Name([
    x509.NameAttribute(NameOID.COMMON_NAME, "TEST SEAL – NOT A QUALIFIED eSEAL – Nemunas University"),
    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "EDC pilot – TEST only"),
    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Nemunas University"),
    x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, "VATLT-119502413"),
    x509.NameAttribute(NameOID.COUNTRY_NAME, "LT"),
])
SEAL_KEY_USAGE = x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                               data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                               encipher_only=False, decipher_only=False)

# QC statements (ETSI EN 319 412-5) a TEST seal certificate may carry, by name, to exercise the verifier's
# "qualified" decision; the subject still says it is a TEST seal, and no trusted list names the TEST CA.
QC_STATEMENTS_OID = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.3")
QC_STATEMENT_OIDS = {"compliance": "0.4.0.1862.1.1", "qscd": "0.4.0.1862.1.4"}
QC_TYPE_OID = "0.4.0.1862.1.6"
QC_TYPE_OIDS = {"esign": "0.4.0.1862.1.6.1", "eseal": "0.4.0.1862.1.6.2", "web": "0.4.0.1862.1.6.3"}
QUALIFIED_SEAL_STATEMENTS = ("compliance", "eseal", "qscd")


def _sequence(*items: bytes) -> bytes:
    """A DER SEQUENCE of already-encoded items."""
    body = b"".join(items)
    size = len(body).to_bytes((len(body).bit_length() + 7) // 8 or 1, "big")
    return b"\x30" + (size if len(body) < 0x80 else bytes([0x80 | len(size)]) + size) + body


def qc_statements_extension(names: Iterable[str]) -> x509.UnrecognizedExtension:
    """The qcStatements extension with the named statements: compliance, qscd, and QcType esign/eseal/web."""
    names = list(names)
    unknown = set(names) - set(QC_STATEMENT_OIDS) - set(QC_TYPE_OIDS)
    if unknown:
        raise ValueError(f"unknown QC statement(s) {sorted(unknown)}; known: "
                         f"{sorted(QC_STATEMENT_OIDS) + sorted(QC_TYPE_OIDS)}")
    statements = [_sequence(core.ObjectIdentifier(QC_STATEMENT_OIDS[n]).dump()) for n in names if n in QC_STATEMENT_OIDS]
    types = [core.ObjectIdentifier(QC_TYPE_OIDS[n]).dump() for n in names if n in QC_TYPE_OIDS]
    if types:
        statements.append(_sequence(core.ObjectIdentifier(QC_TYPE_OID).dump(), _sequence(*types)))
    return x509.UnrecognizedExtension(QC_STATEMENTS_OID, _sequence(*statements))


@dataclass
class DemoToken:
    directory: Path
    config: TokenConfig
    ca_cert: x509.Certificate
    ca_key: ec.EllipticCurvePrivateKey  # a software TEST CA key: fine for tests, never for real seals
    ca_cert_path: Path
    seal_label: str
    seal_certificate: x509.Certificate

    def issue_certificate(self, public_key, subject: x509.Name, *, not_before: dt.datetime, not_after: dt.datetime,
                          key_usage: x509.KeyUsage = SEAL_KEY_USAGE, issuer_key=None,
                          issuer_cert: x509.Certificate | None = None,
                          qc_statements: Iterable[str] = ()) -> x509.Certificate:
        """A seal certificate from the TEST CA (or another issuer), with any validity the test needs."""
        issuer_key = issuer_key or self.ca_key
        issuer_cert = issuer_cert or self.ca_cert
        return seal_certificate(public_key, subject, issuer_key, issuer_cert, not_before, not_after, key_usage,
                                qc_statements=qc_statements)


def seal_certificate(public_key, subject: x509.Name, issuer_key, issuer_cert: x509.Certificate,
                     not_before: dt.datetime, not_after: dt.datetime,
                     key_usage: x509.KeyUsage = SEAL_KEY_USAGE, *, qc_statements: Iterable[str] = ()) -> x509.Certificate:
    """A TEST seal certificate; `qc_statements` (e.g. QUALIFIED_SEAL_STATEMENTS) adds a qcStatements extension."""
    builder = x509.CertificateBuilder()
    qc_statements = tuple(qc_statements)
    if qc_statements:
        builder = builder.add_extension(qc_statements_extension(qc_statements), critical=False)
    return (builder
            .subject_name(subject).issuer_name(issuer_cert.subject).public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(key_usage, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_cert.public_key()), critical=False)
            .sign(issuer_key, hashes.SHA256()))


def make_test_ca(now: dt.datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(CA_NAME).issuer_name(CA_NAME).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=800)).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def init_softhsm_token(directory: Path, token_label: str, pin: str, module: str | None = None) -> TokenConfig:
    """A fresh SoftHSM token in ``directory``/tokens, initialised in-process (no PIN on any command line)."""
    module = module or find_softhsm_module()
    tokens = directory / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = directory / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
                    "slots.removable = false\n", encoding="utf-8")
    config = TokenConfig(module=module, token_label=token_label, pin=pin, softhsm_conf=str(conf))
    loaded = load_module(config)
    if not loaded.is_softhsm:
        raise HsmError(f"{module} is not SoftHSM: demo tokens are made on SoftHSM only")
    so_pin = secrets.token_hex(16)
    with loaded.lock:
        slot = next((s for s in loaded.lib.get_slots(token_present=True)
                     if not s.get_token().flags & TokenFlag.TOKEN_INITIALIZED), None)
        if slot is None:
            raise HsmError(f"SoftHSM offers no free slot for {directory}")
        _c_init_token(loaded.path, slot.slot_id, so_pin, token_label)
        token = loaded.lib.get_token(token_label=token_label)
        so_session = token.open(rw=True, so_pin=so_pin)
        try:
            so_session.init_pin(pin)
        finally:
            so_session.close()
    _write_secret(directory / "so-pin", so_pin)
    return config


def _c_init_token(module_path: str, slot_id: int, so_pin: str, label: str) -> None:
    """C_InitToken, which python-pkcs11 does not expose; the module is already initialised by then."""
    lib = ctypes.CDLL(module_path)
    lib.C_InitToken.argtypes = [ctypes.c_ulong, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    lib.C_InitToken.restype = ctypes.c_ulong
    pin = so_pin.encode()
    padded_label = label.encode("utf-8").ljust(32, b" ")[:32]
    rv = lib.C_InitToken(slot_id, pin, len(pin), padded_label)
    if rv != 0:
        raise HsmError(f"SoftHSM could not initialise the token (C_InitToken returned 0x{rv:x})")


def _write_secret(path: Path, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(value + "\n")


def create_demo_token(directory: Path, *, key_type: str = "rsa3072", token_label: str = "edc-demo",
                      pin: str | None = None, seal_label: str = "seal-demo",
                      cert_not_before: dt.datetime | None = None, cert_not_after: dt.datetime | None = None,
                      module: str | None = None, qc_statements: Iterable[str] = ()) -> DemoToken:
    """A new SoftHSM token in ``directory`` with an active TEST seal. Refuses a directory already holding one.

    `qc_statements` (default none) gives the TEST seal certificate QC statements, e.g.
    QUALIFIED_SEAL_STATEMENTS, so a test can list the TEST CA on a test-made trusted list."""
    directory = Path(directory)
    if (directory / DEMO_INFO_FILE).exists():
        raise HsmError(f"{directory} already holds a demo token; use it as it is or remove the directory")
    directory.mkdir(parents=True, exist_ok=True)
    pin = pin or secrets.token_hex(8)
    config = init_softhsm_token(directory, token_label, pin, module)
    now = dt.datetime.now(dt.timezone.utc)
    ca_key, ca_cert = make_test_ca(now)
    handle = token_handle(config)
    with handle.lock:
        session = handle.ensure_session()
        ceremony.keygen(session, seal_label, key_type)
        public = objects.public_key(objects.public_key_object(session, seal_label))
        cert = seal_certificate(public, SEAL_NAME, ca_key, ca_cert,
                                cert_not_before or now - dt.timedelta(days=1),
                                cert_not_after or now + dt.timedelta(days=730), qc_statements=qc_statements)
        private = objects.private_key(session, seal_label)
        objects.store_certificates(session, seal_label, bytes(private[Attribute.ID]), cert, [ca_cert])
        objects.set_active_label(session, seal_label)  # even an out-of-date test seal: tests need it active
    ca_path = directory / "ca.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    key_path = directory / "ca-key.pem"
    key_path.write_bytes(ca_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
    key_path.chmod(0o600)
    _write_secret(directory / "pin", pin)
    (directory / DEMO_INFO_FILE).write_text(json.dumps({
        "module": config.module, "token_label": token_label, "pin_file": "pin", "softhsm_conf": "softhsm2.conf",
        "ca_cert": "ca.pem", "ca_key": "ca-key.pem", "seal_label": seal_label,
        "note": "SoftHSM demo token with a TEST CA: nothing sealed with it is trusted outside tests",
    }, indent=2) + "\n", encoding="utf-8")
    return DemoToken(directory, config, ca_cert, ca_key, ca_path, seal_label, cert)


def load_demo_token(directory: Path) -> DemoToken:
    """A demo token made earlier (e.g. by `edc-hsm demo-token`), with its TEST CA."""
    directory = Path(directory)
    info = json.loads((directory / DEMO_INFO_FILE).read_text(encoding="utf-8"))
    config = demo_config(directory)
    ca_path = directory / info["ca_cert"]
    ca_cert = x509.load_pem_x509_certificate(ca_path.read_bytes())
    ca_key = serialization.load_pem_private_key((directory / info["ca_key"]).read_bytes(), None)
    from hsm.signer import open_seal

    seal = open_seal(config, info["seal_label"])
    return DemoToken(directory, config, ca_cert, ca_key, ca_path, info["seal_label"], seal.certificate)  # type: ignore[arg-type]
