"""Fixtures for the delivery channels: a real SMTP server and a Moodle-like REST server, both on loopback."""
from __future__ import annotations

import datetime as dt
import email.header
import email.utils
import ipaddress
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bridge.delivery import DeliveryJob

from .sinks import FakeMoodle, MailSink

CREDENTIAL_ID = "urn:credential:6f1c2a9e-2b7d-4c4e-9a43-0d1f5e7a8b90"
# Bytes a naive mailer would mangle: CRLF, a line starting with ".", non-ASCII, no final newline.
SEALED = ('<?xml version="1.0" encoding="UTF-8"?>\r\n<europassCredential id="' + CREDENTIAL_ID + '">\n'
          '.leading dot line\n<name>Ona Jonaitė</name>\r\n<x>  trailing spaces  </x></europassCredential>'
          ).encode("utf-8")


def make_job(**changes) -> DeliveryJob:
    fields = dict(
        credential_id=CREDENTIAL_ID, kind="issued", learner_email="ona@example.edu", learner_name="Ona Jonaitė",
        learner_lang="en", learner_moodle_id=34, site_id="moodle-abc", course_id=12,
        title={"en": "Data literacy", "lt": "Duomenų raštingumas"}, issuer_name="Vilnius University",
        document=SEALED, filename="credential-6f1c2a9e-2b7d-4c4e-9a43-0d1f5e7a8b90.xml",
        verify_url="https://edc.example.edu/verify?id=6f1c2a9e",
        view_url="https://edc.example.edu/credentials/6f1c2a9e",
    )
    fields.update(changes)
    return DeliveryJob(**fields)


@pytest.fixture
def job() -> DeliveryJob:
    return make_job()


@pytest.fixture
def mail_sink():
    sink = MailSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def moodle():
    fake = FakeMoodle(users={34, 35}, courses={12}).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1/localhost, made here so no key is ever checked in."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def server_tls(tls_files) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*tls_files)
    return context


@pytest.fixture
def client_tls(tls_files) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(tls_files[0]))


def header_block(raw: bytes, errors: str = "replace") -> list[str]:
    """The unfolded header lines of the top of a raw message (`errors="strict"`: a non-ASCII octet fails)."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii", errors)
    lines: list[str] = []
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += line
        else:
            lines.append(line)
    return lines


def shown_name(raw: bytes) -> str:
    """The To display name as an RFC 2047 reader shows it: adjacent encoded words joined without the folding
    white space between them (Python's modern address parser keeps that space; mail clients do not)."""
    to = next(line for line in header_block(raw) if line.lower().startswith("to:"))[3:]
    (display, _addr), = email.utils.getaddresses([to])
    return str(email.header.make_header(email.header.decode_header(display)))
