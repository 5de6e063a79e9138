"""Choosing the token from the environment, and the demo-token fallback."""
from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from hsm.config import TokenConfig, default_trust_anchors_file
from hsm.errors import HsmError
from hsm.signer import open_seal


def test_explicit_settings_and_pin_file_win(tmp_path):
    pin_file = tmp_path / "pin"
    pin_file.write_text("s3cret-pin\n")
    env = {"EDC_PKCS11_MODULE": "/m.so", "EDC_TOKEN_LABEL": "t", "EDC_PIN_FILE": str(pin_file), "EDC_PIN": "other"}
    config = TokenConfig.from_env(env)
    assert (config.module, config.token_label, config.pin, config.softhsm_conf) == ("/m.so", "t", "s3cret-pin", None)
    assert "s3cret-pin" not in repr(config)
    assert TokenConfig.from_env(env, module="/x.so", token="u").module == "/x.so"
    assert TokenConfig.from_env({**env, "EDC_PIN_FILE": ""}).pin == "other"
    assert TokenConfig.from_env({**env, "SOFTHSM2_CONF": "/c"}).softhsm_conf == "/c"


@pytest.mark.parametrize("missing, named", [("EDC_PKCS11_MODULE", "EDC_PKCS11_MODULE"),
                                            ("EDC_TOKEN_LABEL", "EDC_TOKEN_LABEL"), ("EDC_PIN", "no PIN given")])
def test_missing_setting_is_named(missing, named, tmp_path):
    env = {"EDC_PKCS11_MODULE": "/m.so", "EDC_TOKEN_LABEL": "t", "EDC_PIN": "123456",
           "EDC_DEMO_DIR": str(tmp_path)}
    del env[missing]
    with pytest.raises(HsmError, match=named):
        TokenConfig.from_env(env)


def test_unreadable_pin_file_is_named(tmp_path):
    with pytest.raises(HsmError, match="cannot read the PIN file"):
        TokenConfig.from_env({"EDC_PKCS11_MODULE": "/m", "EDC_TOKEN_LABEL": "t", "EDC_PIN_FILE": str(tmp_path / "no")})


def test_prompt_is_asked_only_without_file_or_variable():
    asked = []
    config = TokenConfig.from_env({"EDC_PKCS11_MODULE": "/m", "EDC_TOKEN_LABEL": "t"},
                                  prompt=lambda text: asked.append(text) or "typed-pin")
    assert config.pin == "typed-pin" and asked == ["PIN for token 't': "]


def test_nothing_configured_uses_the_demo_token_or_says_how_to_make_one(rsa_token, tmp_path):
    with pytest.raises(HsmError, match="edc-hsm demo-token"):
        TokenConfig.from_env({"EDC_DEMO_DIR": str(tmp_path / "none")})
    assert default_trust_anchors_file({"EDC_DEMO_DIR": str(tmp_path / "none")}) is None
    env = {"EDC_DEMO_DIR": str(rsa_token.directory)}
    config = TokenConfig.from_env(env)
    assert config == rsa_token.config
    assert default_trust_anchors_file(env) == rsa_token.ca_cert_path
    assert default_trust_anchors_file({**env, "EDC_TRUST_ANCHORS": "/anchors.pem"}).name == "anchors.pem"
    assert open_seal(config).certificate == rsa_token.seal_certificate


def test_seal_key_works_with_cryptographys_csr_builder(ec_token):
    """cryptography (50) accepts our token-backed key subclass where it asks for a private key."""
    seal = open_seal(ec_token.config)
    csr = x509.CertificateSigningRequestBuilder().subject_name(seal.certificate.subject).sign(
        seal.private_key, hashes.SHA256())
    assert csr.is_signature_valid and csr.public_key() == seal.certificate.public_key()
