"""The seal's private key cannot be read or exported from the token by any ordinary PKCS#11 means."""
from __future__ import annotations

import pytest
from pkcs11 import Attribute, KeyType, Mechanism
from pkcs11 import exceptions as p11x

from hsm import objects
from hsm.token import token_handle


@pytest.fixture(params=["rsa_token", "ec_token"])
def token_key(request):
    token = request.getfixturevalue(request.param)
    handle = token_handle(token.config)
    with handle.lock:
        session = handle.ensure_session()
        yield session, objects.private_key(session, token.seal_label), request.param


def test_key_is_sensitive_and_not_extractable(token_key):
    session, key, _ = token_key
    assert key[Attribute.SENSITIVE] is True
    assert key[Attribute.EXTRACTABLE] is False
    assert key[Attribute.ALWAYS_SENSITIVE] is True and key[Attribute.NEVER_EXTRACTABLE] is True


def test_secret_parts_cannot_be_read(token_key):
    session, key, name = token_key
    secret_attributes = [Attribute.PRIVATE_EXPONENT, Attribute.PRIME_1, Attribute.PRIME_2] \
        if name == "rsa_token" else [Attribute.VALUE]
    for attribute in secret_attributes + [Attribute.VALUE]:
        with pytest.raises((p11x.AttributeSensitive, p11x.AttributeTypeInvalid)):
            key[attribute]


def test_protection_cannot_be_switched_off(token_key):
    session, key, _ = token_key
    with pytest.raises(p11x.PKCS11Error):
        key[Attribute.EXTRACTABLE] = True
    with pytest.raises(p11x.PKCS11Error):
        key[Attribute.SENSITIVE] = False
    assert key[Attribute.SENSITIVE] is True and key[Attribute.EXTRACTABLE] is False


def test_wrapping_the_key_out_is_refused(token_key):
    """The same wrap works on an extractable key (the control), so the refusal is the key's protection."""
    session, key, name = token_key
    wrapping_key = session.generate_key(KeyType.AES, 256, store=False, template={Attribute.WRAP: True})
    if name == "rsa_token":
        _, control = session.generate_keypair(KeyType.RSA, 1024, store=False,
                                              private_template={Attribute.EXTRACTABLE: True, Attribute.SENSITIVE: True})
    else:
        from pkcs11.util.ec import encode_named_curve_parameters

        params = session.create_domain_parameters(
            KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True)
        _, control = params.generate_keypair(store=False, private_template={Attribute.EXTRACTABLE: True})
    assert len(wrapping_key.wrap_key(control, mechanism=Mechanism.AES_KEY_WRAP_PAD)) > 64  # a wrapped private key
    with pytest.raises(p11x.KeyUnextractable):
        wrapping_key.wrap_key(key, mechanism=Mechanism.AES_KEY_WRAP_PAD)


def test_a_copy_cannot_be_made_extractable(token_key):
    session, key, _ = token_key
    with pytest.raises(p11x.PKCS11Error):
        key.copy({Attribute.EXTRACTABLE: True, Attribute.TOKEN: False})
