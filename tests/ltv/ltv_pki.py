"""A test CA, a real RFC 3161 TSA on loopback (OpenSSL's `ts -reply`) and a loopback CRL server.

Used by tests/ltv and bench/seal_levels.py. The TSA is OpenSSL, an implementation independent of
ours, so our client and verifier are checked against tokens someone else's code made. Everything is
TEST material made in a temporary folder; keys are software keys (the seal itself may be on SoftHSM).
"""
from __future__ import annotations

import datetime as dt
import http.server
import socket
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

UTC = dt.timezone.utc


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "LT"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "TEST University"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@dataclass
class SoftSeal:
    """A seal with a software key: the shape bridge/edc/xades.seal_xml needs (hsm.signer.SealKey's)."""

    certificate: x509.Certificate
    private_key: object
    chain: tuple = ()
    algorithm: str = "ecdsa-p256"

    def sign(self, data: bytes) -> bytes:
        """ECDSA with SHA-256, DER-encoded, as hsm.signer.SealKey.sign gives it."""
        return self.private_key.sign(data, ec.ECDSA(hashes.SHA256()))


@dataclass
class TestCA:
    """A root CA that issues seal and TSA certificates and CRLs, all marked TEST."""

    __test__ = False  # not a pytest test class, despite its name

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    crl_url: str | None = None
    ocsp_url: str | None = None  # named in certificates (AIA); responses come from `ocsp()`, not a server
    revoked: list[tuple[int, dt.datetime]] = field(default_factory=list)

    @classmethod
    def create(cls, name: str = "TEST Root CA for long-term seals", crl_url: str | None = None) -> "TestCA":
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(UTC)
        cert = (
            x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(key=key, cert=cert, crl_url=crl_url)

    def _leaf(self, cn: str, key, not_before: dt.datetime, not_after: dt.datetime, *, tsa: bool,
              qc_statements: tuple[str, ...] = ()) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(self.cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=not tsa, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )
        if qc_statements:
            from hsm.demo_token import qc_statements_extension

            builder = builder.add_extension(qc_statements_extension(qc_statements), critical=False)
        if tsa:
            builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        if self.ocsp_url:
            builder = builder.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
                AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(self.ocsp_url))]), critical=False)
        if self.crl_url:
            builder = builder.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(self.crl_url)], relative_name=None, reasons=None,
                crl_issuer=None)]), critical=False)
        return builder.sign(self.key, hashes.SHA256())

    def issue_seal(self, *, days: float = 30, not_before: dt.datetime | None = None,
                   not_after: dt.datetime | None = None, cn: str = "TEST University seal",
                   qc_statements: tuple[str, ...] = ()) -> SoftSeal:
        """A seal certificate; `qc_statements` (hsm.demo_token.QUALIFIED_SEAL_STATEMENTS) makes it claim to be
        a qualified seal's, for the trusted-list decisions."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(UTC)
        start = not_before or now - dt.timedelta(days=1)
        cert = self._leaf(cn, key, start, not_after or now + dt.timedelta(days=days), tsa=False,
                          qc_statements=qc_statements)
        return SoftSeal(certificate=cert, private_key=key, chain=(self.cert,))

    def issue_tsa(self, *, cn: str = "TEST Time-Stamping Authority", days: float = 365, for_tsa: bool = True):
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(UTC)
        cert = self._leaf(cn, key, now - dt.timedelta(days=1), now + dt.timedelta(days=days), tsa=for_tsa)
        return key, cert

    def revoke(self, cert: x509.Certificate, at: dt.datetime) -> None:
        self.revoked.append((cert.serial_number, at))

    def crl(self, *, this_update: dt.datetime | None = None, days: float = 7) -> bytes:
        """A DER CRL listing what `revoke` recorded, issued at `this_update` (default now)."""
        issued = this_update or dt.datetime.now(UTC)
        builder = (
            x509.CertificateRevocationListBuilder().issuer_name(self.cert.subject)
            .last_update(issued).next_update(issued + dt.timedelta(days=days))
            .add_extension(x509.CRLNumber(int(issued.timestamp())), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
        )
        for serial, when in self.revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build())
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def ocsp(self, cert: x509.Certificate, *, produced: dt.datetime | None = None) -> bytes:
        """A DER OCSP response for `cert`, signed by the CA itself: good, or revoked as `revoke` recorded."""
        at = produced or dt.datetime.now(UTC)
        revoked = [when for serial, when in self.revoked if serial == cert.serial_number]
        builder = ocsp.OCSPResponseBuilder().add_response(
            cert=cert, issuer=self.cert, algorithm=hashes.SHA256(),
            cert_status=ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD,
            this_update=at, next_update=at + dt.timedelta(days=7),
            revocation_time=revoked[0] if revoked else None, revocation_reason=None,
        ).responder_id(ocsp.OCSPResponderEncoding.HASH, self.cert)
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def write_pem(self, path: Path) -> Path:
        path.write_bytes(_pem_cert(self.cert))
        return path


OPENSSL_TSA_CONFIG = """\
[ tsa ]
default_tsa = test_tsa

[ test_tsa ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/chain.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.3161.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


class _Server:
    """An http.server on 127.0.0.1 in a daemon thread; one request at a time (OpenSSL's serial file)."""

    def __init__(self, handler_cls) -> None:
        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), handler_cls)
        self.httpd.owner = self
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _TsaHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def do_POST(self) -> None:  # noqa: N802
        tsa: LoopbackTSA = self.server.owner.tsa
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if tsa.fail_with:
            self.send_response(tsa.fail_with)
            self.end_headers()
            return
        if self.headers.get("Content-Type") != "application/timestamp-query":
            self.send_response(415)
            self.end_headers()
            return
        reply = tsa.reply(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


class LoopbackTSA:
    """OpenSSL `ts -reply` behind HTTP on 127.0.0.1, with a TSA certificate from `ca`."""

    def __init__(self, ca: TestCA, workdir: Path | None = None, *, for_tsa: bool = True, days: float = 365) -> None:
        self._tmp = None if workdir else tempfile.TemporaryDirectory(prefix="edc-tsa-")
        self.dir = Path(workdir or self._tmp.name)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.key, self.cert = ca.issue_tsa(for_tsa=for_tsa, days=days)
        (self.dir / "tsa.key").write_bytes(_pem_key(self.key))
        (self.dir / "tsa.pem").write_bytes(_pem_cert(self.cert))
        (self.dir / "chain.pem").write_bytes(_pem_cert(ca.cert))
        (self.dir / "serial").write_text("01\n")
        (self.dir / "openssl.cnf").write_text(OPENSSL_TSA_CONFIG.format(dir=self.dir))
        self.fail_with: int | None = None  # an HTTP status to answer with instead of a time-stamp
        self.requests = 0
        self._server = _Server(_TsaHandler)
        self._server.tsa = self

    @property
    def url(self) -> str:
        return self._server.url

    def reply(self, query: bytes) -> bytes:
        self.requests += 1
        (self.dir / "query.tsq").write_bytes(query)
        subprocess.run(
            ["openssl", "ts", "-reply", "-config", str(self.dir / "openssl.cnf"), "-queryfile",
             str(self.dir / "query.tsq"), "-out", str(self.dir / "reply.tsr")],
            check=True, capture_output=True,
        )
        return (self.dir / "reply.tsr").read_bytes()

    def close(self) -> None:
        self._server.close()
        if self._tmp:
            self._tmp.cleanup()


class _CrlHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        owner = self.server.owner
        owner.requests += 1
        body = owner.crl_for_next_request or owner.ca.crl()
        self.send_response(200)
        self.send_header("Content-Type", "application/pkix-crl")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class LoopbackCRLServer:
    """Serves the CA's current CRL at its distribution point URL (set on the CA when started)."""

    def __init__(self, ca: TestCA) -> None:
        self.ca = ca
        self._server = _Server(_CrlHandler)
        self._server.ca = ca
        self._server.requests = 0
        self._server.crl_for_next_request = None  # serve these bytes instead of the CA's CRL (tests)
        ca.crl_url = self._server.url + "ca.crl"

    @property
    def requests(self) -> int:
        return self._server.requests

    def serve_instead(self, data: bytes | None) -> None:
        self._server.crl_for_next_request = data

    def close(self) -> None:
        self._server.close()


def closed_port_url() -> str:
    """A loopback URL where nothing listens: a TSA that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"
