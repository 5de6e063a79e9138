"""A long-running signer survives a lost session, a removed token and a wrong PIN — without a restart."""
from __future__ import annotations

import dataclasses

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from hsm.config import TokenConfig, read_pin
from hsm.demo_token import create_demo_token
from hsm.errors import HsmError, TokenUnavailableError, WrongPinError
from hsm.signer import SealProvider, open_seal
from hsm.token import token_handle


@pytest.fixture
def own_token(tmp_path):
    """A token of this test alone: these tests log out, finalise the module and hide the token."""
    return create_demo_token(tmp_path / "t", key_type="ecp256", token_label="recovery")


def _verifies(seal, signature: bytes, data: bytes) -> None:
    seal.certificate.public_key().verify(signature, data, ec.ECDSA(hashes.SHA256()))


def test_lost_session_is_reopened(own_token):
    provider = SealProvider(own_token.config, recheck_seconds=60)
    seal = provider.current()
    _verifies(seal, provider.sign(b"a"), b"a")
    token_handle(own_token.config).session.close()  # the session disappears behind the signer's back
    _verifies(seal, provider.sign(b"b"), b"b")  # the provider reopens it and signs
    token_handle(own_token.config).session.close()
    with pytest.raises(TokenUnavailableError, match="session was lost"):
        seal.sign(b"c")  # a bare SealKey names the cause...
    _verifies(seal, seal.sign(b"d"), b"d")  # ...and works again on the next call
    assert provider.status()["ready"]


# python-pkcs11 complains from a destructor about a search cut short by the finalised module: expected here.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_removed_token_makes_readiness_fail_until_it_is_back(own_token):
    provider = SealProvider(own_token.config, recheck_seconds=0)
    assert provider.status()["ready"]
    handle = token_handle(own_token.config)
    tokens = own_token.directory / "tokens"
    hidden = own_token.directory / "tokens-removed"
    tokens.rename(hidden)
    tokens.mkdir()
    handle.module.lib.finalize()  # the device is gone: every handle into the module is now invalid
    with pytest.raises(TokenUnavailableError, match="no token labelled 'recovery'"):
        provider.sign(b"x")
    status = provider.status()
    assert not status["ready"] and "no token labelled 'recovery'" in status["error"]
    tokens.rmdir()
    hidden.rename(tokens)  # plugged back in
    seal = provider.current()
    _verifies(seal, provider.sign(b"y"), b"y")
    assert provider.status() | {"not_after": None} == {
        "ready": True, "logged_in": True, "label": own_token.seal_label, "algorithm": "ecp256",
        "not_after": None, "expiry_warning": None, "error": None}


def test_wrong_pin_is_named_not_retried_and_recovers_once_corrected(own_token, tmp_path):
    pin_file = tmp_path / "pin"
    pin_file.write_text("wrong-pin-000\n")
    config = lambda: dataclasses.replace(own_token.config, pin=read_pin(pin_file, None))  # noqa: E731
    provider = SealProvider(config, recheck_seconds=0)
    with pytest.raises(WrongPinError, match="wrong PIN"):
        provider.current()
    with pytest.raises(WrongPinError, match="not retrying the same PIN"):
        provider.current()
    status = provider.status()
    assert not status["ready"] and "PIN" in status["error"] and "wrong-pin-000" not in status["error"]
    pin_file.write_text(own_token.config.pin + "\n")
    _verifies(provider.current(), provider.sign(b"z"), b"z")
    assert provider.status()["ready"]


def test_expired_seal_is_not_ready(tmp_path):
    import datetime as dt

    now = dt.datetime.now(dt.timezone.utc)
    token = create_demo_token(tmp_path / "old", key_type="ecp256", token_label="old-seal",
                              cert_not_before=now - dt.timedelta(days=400), cert_not_after=now - dt.timedelta(days=1))
    status = SealProvider(token.config).status()
    assert status["logged_in"] and not status["ready"] and "not valid now" in status["error"]
    assert "EXPIRED" in status["expiry_warning"]


def test_missing_module_is_named(tmp_path):
    config = TokenConfig(module=str(tmp_path / "nope.so"), token_label="x", pin="123456")
    with pytest.raises(HsmError, match="nope.so does not exist"):
        open_seal(config)


def test_sighup_makes_the_provider_recheck_at_once(ec_token):
    import os
    import signal

    from hsm.signer import refresh_on_sighup

    provider = SealProvider(ec_token.config, recheck_seconds=3600)
    provider.current()
    assert provider._state.checked_at > 0
    old = signal.getsignal(signal.SIGHUP)
    try:
        refresh_on_sighup(provider)
        os.kill(os.getpid(), signal.SIGHUP)
        assert provider._state.checked_at == 0.0
    finally:
        signal.signal(signal.SIGHUP, old)
