"""The whole key ceremony through `edc-hsm`, on a fresh SoftHSM token, including the refusals."""
from __future__ import annotations

import datetime as dt
import json

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from hsm.demo_token import make_test_ca, seal_certificate
from hsm.signer import SealProvider, open_seal

SUBJECT = "CN=Nemunas University eSeal (ceremony test),O=Nemunas University,organizationIdentifier=VATLT-119502413,C=LT"
NOW = dt.datetime.now(dt.timezone.utc)


def _verify(cert: x509.Certificate, signature: bytes, data: bytes) -> None:
    public = cert.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    else:
        public.verify(signature, data, ec.ECDSA(hashes.SHA256()))


def _certify(token, label: str, ca_key, ca_cert, tmp_path, **validity) -> tuple[x509.Certificate, object]:
    """csr on the token, then the test CA issues a certificate from it (as the trust service provider would)."""
    out = tmp_path / f"{label}.csr"
    token.run("csr", "--label", label, "--subject", SUBJECT, "--out", str(out))
    csr = x509.load_pem_x509_csr(out.read_bytes())
    assert csr.is_signature_valid
    assert csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)[0].value == "VATLT-119502413"
    usage = csr.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.content_commitment and usage.digital_signature
    cert = seal_certificate(csr.public_key(), csr.subject, ca_key, ca_cert,
                            validity.get("not_before", NOW - dt.timedelta(hours=1)),
                            validity.get("not_after", NOW + dt.timedelta(days=365)))
    return cert, csr.public_key()


def _write(path, *certs) -> str:
    path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))
    return str(path)


def test_whole_ceremony_with_refusals_and_rotation(fresh_token, tmp_path):
    token = fresh_token
    ca_key, ca_cert = make_test_ca(NOW)
    chain = _write(tmp_path / "chain.pem", ca_cert)

    status = json.loads(token.run("status", "--json").stdout)
    assert status["logged_in"] and status["keys"] == [] and status["active_seal"] is None

    token.run("keygen", "--label", "seal-2026", "--type", "ecp256")
    again = token.run("keygen", "--label", "seal-2026", "--type", "rsa3072", ok=False)
    assert again.returncode == 1 and "never overwritten" in again.stderr

    cert, public = _certify(token, "seal-2026", ca_key, ca_cert, tmp_path)

    # refusals: a certificate for another key, an expired one, one not valid yet, a broken chain
    stranger = ec.generate_private_key(ec.SECP256R1())
    wrong = seal_certificate(stranger.public_key(), cert.subject, ca_key, ca_cert, NOW, NOW + dt.timedelta(days=9))
    refused = token.run("import-cert", "--label", "seal-2026", "--cert", _write(tmp_path / "w.pem", wrong),
                        "--chain", chain, ok=False)
    assert refused.returncode == 1 and "different key" in refused.stderr
    expired = seal_certificate(public, cert.subject, ca_key, ca_cert, NOW - dt.timedelta(days=400),
                               NOW - dt.timedelta(days=1))
    refused = token.run("import-cert", "--label", "seal-2026", "--cert", _write(tmp_path / "e.pem", expired), ok=False)
    assert refused.returncode == 1 and "expired" in refused.stderr
    future = seal_certificate(public, cert.subject, ca_key, ca_cert, NOW + dt.timedelta(days=2),
                              NOW + dt.timedelta(days=30))
    refused = token.run("import-cert", "--label", "seal-2026", "--cert", _write(tmp_path / "f.pem", future), ok=False)
    assert refused.returncode == 1 and "not valid yet" in refused.stderr
    _, other_ca = make_test_ca(NOW)
    refused = token.run("import-cert", "--label", "seal-2026", "--cert", _write(tmp_path / "c.pem", cert),
                        "--chain", _write(tmp_path / "o.pem", other_ca), ok=False)
    assert refused.returncode == 1 and "chain is broken" in refused.stderr
    refused = token.run("activate", "--label", "seal-2026", ok=False)
    assert refused.returncode == 1 and "no certificate yet" in refused.stderr

    token.run("import-cert", "--label", "seal-2026", "--cert", _write(tmp_path / "c.pem", cert), "--chain", chain)
    token.run("activate", "--label", "seal-2026")
    assert "ok    XML signature" in token.run("self-test").stdout

    # a running service (this process) seals with the first key...
    provider = SealProvider(token.config, recheck_seconds=0)
    first = provider.current()
    assert first.label == "seal-2026" and first.chain == (ca_cert,)
    sealed_before = first.sign(b"credential sealed before rotation")

    # ...rotation to a second key, of the other type...
    token.run("keygen", "--label", "seal-2027", "--type", "rsa3072")
    cert2, _ = _certify(token, "seal-2027", ca_key, ca_cert, tmp_path)
    token.run("import-cert", "--label", "seal-2027", "--cert", _write(tmp_path / "c2.pem", cert2), "--chain", chain)
    out = token.run("activate", "--label", "seal-2027").stdout
    assert "was 'seal-2026', kept for audit" in out
    assert "already the active seal" in token.run("activate", "--label", "seal-2027").stdout
    assert "ok    XML signature" in token.run("self-test").stdout

    # ...is picked up without a restart, and both seals' signatures verify with their certificates
    second = provider.current()
    assert second.label == "seal-2027" and second.algorithm == "rsa3072"
    sealed_after = provider.sign(b"credential sealed after rotation")
    old = open_seal(token.config, "seal-2026")
    _verify(old.certificate, sealed_before, b"credential sealed before rotation")
    _verify(second.certificate, sealed_after, b"credential sealed after rotation")
    assert old.certificate == cert and second.certificate == cert2

    status = json.loads(token.run("status", "--json").stdout)
    assert status["active_seal"] == "seal-2027"
    keys = {k["label"]: k for k in status["keys"]}
    assert set(keys) == {"seal-2026", "seal-2027"}
    assert all(k["sensitive"] and not k["extractable"] for k in keys.values())
    assert {keys["seal-2026"]["algorithm"], keys["seal-2027"]["algorithm"]} == {"ecp256", "rsa3072"}
    assert "*seal-2027" in token.run("status").stdout

    # the PIN never appears in anything edc-hsm printed or logged
    assert token.config.pin not in "".join(token.outputs)


def test_pin_change_and_pin_never_shown(fresh_token, tmp_path):
    token = fresh_token
    new_pin_file = tmp_path / "new-pin"
    new_pin_file.write_text("NewPin-7731\n")
    token.run("change-pin", "--new-pin-file", str(new_pin_file))
    refused = token.run("status", ok=False)  # the old PIN file no longer works
    assert refused.returncode == 1 and "wrong PIN" in refused.stdout
    token.run("status", "--pin-file", str(new_pin_file))
    token.run("keygen", "--label", "k", "--type", "ecp256", extra_env={"EDC_PIN_FILE": "", "EDC_PIN": "NewPin-7731"})
    everything = "".join(token.outputs)
    assert token.config.pin not in everything and "NewPin-7731" not in everything


def test_pin_on_the_command_line_is_refused_and_not_echoed(fresh_token):
    proc = fresh_token.run("status", "--pin", "Leaky-123456", ok=False)
    assert proc.returncode == 2 and "Leaky-123456" not in proc.stdout + proc.stderr


def test_no_token_configured_says_what_to_do(fresh_token):
    env = {k: "" for k in ("EDC_PKCS11_MODULE", "EDC_TOKEN_LABEL", "EDC_PIN_FILE")}
    proc = fresh_token.run("status", ok=False, extra_env=env)
    assert proc.returncode == 1 and "edc-hsm demo-token" in proc.stderr


def test_bad_subject_is_named(fresh_token):
    proc = fresh_token.run("csr", "--label", "x", "--subject", "CN=only a name", ok=False)
    assert proc.returncode == 1 and "--subject needs C" in proc.stderr


def test_demo_token_refuses_other_modules_and_is_idempotent(fresh_token, tmp_path):
    proc = fresh_token.run("demo-token", "--dir", str(tmp_path / "d"), "--module",
                           "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so", ok=False)
    assert proc.returncode == 1 and "SoftHSM only" in proc.stderr
    refused = fresh_token.run("demo-token", "--dir", str(tmp_path / "d"), ok=False,
                              extra_env={"EDC_PKCS11_MODULE": "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so"})
    assert refused.returncode == 1 and "SoftHSM only" in refused.stderr
    first = fresh_token.run("demo-token", "--dir", str(tmp_path / "d"), "--key-type", "ecp256", "--token", "demo2")
    assert "TEST seal" in first.stdout and "token 'demo2'" in first.stdout
    again = fresh_token.run("demo-token", "--dir", str(tmp_path / "d"))
    assert "already exists" in again.stdout
    env = {"EDC_PKCS11_MODULE": "", "EDC_TOKEN_LABEL": "", "EDC_PIN_FILE": "", "EDC_DEMO_DIR": str(tmp_path / "d")}
    assert "ok    XML signature" in fresh_token.run("self-test", extra_env=env).stdout
