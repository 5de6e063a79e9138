"""Signing with a seal key that never leaves the token.

``SealKey.private_key`` is an object with cryptography's private-key interface whose ``sign()`` runs
on the token, so signxml (and anything else written against cryptography) can seal with it. Every
call goes through the module lock (see hsm/token.py for why).

``SealProvider`` is what a long-running service holds: it follows ``edc-hsm activate`` without a
restart, and recovers when a session is lost, the token is removed and comes back, or the PIN is
wrong and later corrected — reporting the cause in the meantime.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import pkcs11
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from pkcs11 import Attribute, Mechanism
from pkcs11 import exceptions as p11x
from pkcs11.util.ec import encode_ecdsa_signature

from hsm import objects
from hsm.config import TokenConfig
from hsm.errors import HsmError, TokenUnavailableError, WrongPinError
from hsm.token import SESSION_LOST, TokenHandle, describe, is_connection_lost, token_handle

DIGEST_INFO_SHA256 = bytes.fromhex("3031300d060960864801650304020105000420")


def _sha256(data: bytes, algorithm) -> bytes:
    """The digest to sign; accepts cryptography's Prehashed too, so callers can hash themselves."""
    if isinstance(algorithm, utils.Prehashed):
        if not isinstance(algorithm._algorithm, hashes.SHA256):
            raise HsmError(f"only SHA-256 is supported for seals, not {algorithm._algorithm.name}")
        return data
    if not isinstance(algorithm, hashes.SHA256):
        raise HsmError(f"only SHA-256 is supported for seals, not {getattr(algorithm, 'name', algorithm)}")
    return hashlib.sha256(data).digest()


class _TokenKeyMixin:
    """Shared by the RSA and EC key classes: where the key lives and how to call it safely."""

    def __init__(self, seal: "SealKey") -> None:
        self._seal = seal

    def public_key(self):
        return self._seal.certificate.public_key() if self._seal.certificate else self._seal.public

    def private_bytes(self, *args, **kwargs):
        raise HsmError("the seal key stays on the token: it cannot be exported")

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


# cryptography's keyword is `padding`, which hides the module inside sign(): keep the class at hand.
_PKCS1v15 = padding.PKCS1v15


class TokenRSAPrivateKey(_TokenKeyMixin, rsa.RSAPrivateKey):
    def sign(self, data: bytes, padding: padding.AsymmetricPadding, algorithm) -> bytes:  # noqa: A002
        if not isinstance(padding, _PKCS1v15):
            raise HsmError(f"the seal signs with RSA PKCS#1 v1.5 only, not {padding.name}")
        return self._seal._raw_sign(DIGEST_INFO_SHA256 + _sha256(data, algorithm))

    @property
    def key_size(self) -> int:
        return self._seal.public.key_size

    def decrypt(self, ciphertext: bytes, padding) -> bytes:
        raise HsmError("the seal key is for signing only")

    def private_numbers(self):
        raise HsmError("the seal key stays on the token: its numbers cannot be read")



class TokenECPrivateKey(_TokenKeyMixin, ec.EllipticCurvePrivateKey):
    def sign(self, data: bytes, signature_algorithm: ec.EllipticCurveSignatureAlgorithm) -> bytes:
        if not isinstance(signature_algorithm, ec.ECDSA):
            raise HsmError("the seal signs with ECDSA only")
        return self._seal._raw_sign(_sha256(data, signature_algorithm.algorithm))

    @property
    def curve(self) -> ec.EllipticCurve:
        return self._seal.public.curve

    @property
    def key_size(self) -> int:
        return self._seal.public.curve.key_size

    def exchange(self, algorithm, peer_public_key) -> bytes:
        raise HsmError("the seal key is for signing only")

    def private_numbers(self):
        raise HsmError("the seal key stays on the token: its numbers cannot be read")


class SealKey:
    """One seal key on the token with its certificate and chain. Thread-safe."""

    def __init__(self, handle: TokenHandle, label: str) -> None:
        self._handle = handle
        self.label = label
        with handle.lock:
            session = handle.ensure_session()
            self._key = objects.private_key(session, label)
            spki = objects.public_key_der(objects.public_key_object(session, label))
            self.public = serialization.load_der_public_key(spki)
            self._generation = handle.generation
            self.key_id = bytes(self._key[Attribute.ID])
            cert, chain = objects.leaf_and_chain(session, self.key_id, spki)
        if cert is None:
            raise HsmError(f"the key '{label}' has no certificate on the token yet: "
                           "run `edc-hsm csr`, then `edc-hsm import-cert` with the certificate the provider issued")
        self.certificate: x509.Certificate = cert
        self.chain: tuple[x509.Certificate, ...] = chain
        self.algorithm = objects.algorithm_name(self.public)
        self._is_rsa = isinstance(self.public, rsa.RSAPublicKey)
        self.private_key = TokenRSAPrivateKey(self) if self._is_rsa else TokenECPrivateKey(self)

    def __repr__(self) -> str:
        return f"<SealKey {self.label!r} {self.algorithm} until {self.certificate.not_valid_after_utc:%Y-%m-%d}>"

    def sign(self, data: bytes) -> bytes:
        """RSA PKCS#1 v1.5 with SHA-256, or ECDSA with SHA-256 DER-encoded as cryptography returns it
        (signxml turns that into XML-DSig's r||s itself; JWS users must do the same)."""
        if self._is_rsa:
            return self.private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return self.private_key.sign(data, ec.ECDSA(hashes.SHA256()))

    def _raw_sign(self, to_sign: bytes) -> bytes:
        """RSA: sign a ready DigestInfo (CKM_RSA_PKCS); EC: sign a digest (CKM_ECDSA), then DER-encode."""
        mechanism = Mechanism.RSA_PKCS if self._is_rsa else Mechanism.ECDSA
        with self._handle.lock:
            try:
                signature = self._current_key().sign(to_sign, mechanism=mechanism)
            except HsmError:
                raise
            except p11x.PKCS11Error as exc:
                if is_connection_lost(exc):
                    self._handle.drop_session()
                    raise TokenUnavailableError(f"signing with '{self.label}' failed: the token session was lost "
                                                f"({describe(exc)}); it is reopened on the next attempt") from None
                raise HsmError(f"the token refused to sign with '{self.label}': {describe(exc)}") from None
        return signature if self._is_rsa else encode_ecdsa_signature(signature)

    def _current_key(self) -> pkcs11.PrivateKey:
        """The key object of the current session: after a re-login the old handle is looked up again."""
        if self._handle.session is None or self._generation != self._handle.generation:
            session = self._handle.ensure_session()
            self._key = objects.private_key(session, self.label)
            self._generation = self._handle.generation
        return self._key


def open_seal(config: TokenConfig, label: str | None = None) -> SealKey:
    """The named seal key, or (label None) the one `edc-hsm activate` made active."""
    handle = token_handle(config)
    with handle.lock:
        try:
            session = handle.ensure_session()
            if label is None:
                label = objects.active_label(session)
                if label is None:
                    raise HsmError(f"no seal is active on token '{config.token_label}': run `edc-hsm activate --label L`")
            return SealKey(handle, label)
        except SESSION_LOST as exc:
            handle.drop_session()
            raise TokenUnavailableError(f"token '{config.token_label}' is not available: {describe(exc)}") from None


@dataclass
class _State:
    seal: SealKey | None = None
    error: str | None = None
    checked_at: float = 0.0
    failed_pin: str | None = None


class SealProvider:
    """The active seal for a long-running service; re-checks the token every ``recheck_seconds``.

    ``config`` may be a callable so a corrected PIN file is read again on the next attempt. After a
    wrong PIN the same PIN is not tried again (that would count towards the token's lockout).
    """

    def __init__(self, config: TokenConfig | Callable[[], TokenConfig], *, recheck_seconds: float = 5.0) -> None:
        self._config = config if callable(config) else (lambda: config)
        self.recheck_seconds = recheck_seconds
        self._lock = threading.Lock()
        self._state = _State()

    def current(self) -> SealKey:
        """The active seal, reopening whatever is needed; raises HsmError naming the cause if it cannot."""
        with self._lock:
            state = self._state
            if state.seal is not None and time.monotonic() - state.checked_at < self.recheck_seconds:
                return state.seal
            try:
                self._refresh()
            except HsmError as exc:
                state.seal, state.error = None, str(exc)
                raise
            state.error = None
            return state.seal  # type: ignore[return-value]

    def refresh(self) -> None:
        """Re-read the active marker now (wire this to SIGHUP if you do not want to wait)."""
        with self._lock:
            self._state.checked_at = 0.0

    def sign(self, data: bytes) -> bytes:
        """Sign with the active seal; a lost session is reopened once before giving up."""
        seal = self.current()
        try:
            return seal.sign(data)
        except TokenUnavailableError:
            with self._lock:
                self._state.checked_at = 0.0
            return self.current().sign(data)

    def _refresh(self) -> None:
        state = self._state
        config = self._config()
        if state.failed_pin is not None and config.pin == state.failed_pin:
            raise WrongPinError(f"the token '{config.token_label}' refused the PIN earlier; not retrying the same "
                                "PIN (to avoid a lockout): correct EDC_PIN_FILE / EDC_PIN")
        handle = token_handle(config)
        try:
            label = self._active_label(handle)
        except WrongPinError:
            state.failed_pin = config.pin
            raise
        state.failed_pin = None
        if state.seal is None or state.seal.label != label or state.seal._handle is not handle:
            state.seal = SealKey(handle, label)
        state.checked_at = time.monotonic()

    @staticmethod
    def _active_label(handle: TokenHandle) -> str:
        for attempt in (1, 2):  # a lost session (or a finalised module) gets one reopen
            try:
                with handle.lock:
                    label = objects.active_label(handle.ensure_session())
                break
            except p11x.PKCS11Error as exc:
                handle.drop_session()
                if attempt == 2 or not is_connection_lost(exc):
                    raise TokenUnavailableError(f"token '{handle.config.token_label}' is not available: "
                                                f"{describe(exc)}") from None
            except TokenUnavailableError:
                if attempt == 2:
                    raise
                handle.reset_module()  # a removed and re-inserted token shows up only after this
        if label is None:
            raise HsmError(f"no seal is active on token '{handle.config.token_label}': run `edc-hsm activate`")
        return label

    def status(self) -> dict:
        """For the readiness endpoint: ready only when a seal is open and its certificate is in date."""
        try:
            seal = self.current()
        except HsmError as exc:
            return {"ready": False, "logged_in": False, "label": None, "not_after": None, "expiry_warning": None,
                    "error": str(exc)}
        now = dt.datetime.now(dt.timezone.utc)
        not_after = seal.certificate.not_valid_after_utc
        expired = not_after <= now or seal.certificate.not_valid_before_utc > now
        from hsm.expiry import expiry_warnings

        warnings = expiry_warnings(seal.certificate, now)
        return {"ready": not expired, "logged_in": True, "label": seal.label, "algorithm": seal.algorithm,
                "not_after": not_after.isoformat(),
                "expiry_warning": warnings[0].message if warnings else None,
                "error": f"the seal certificate of '{seal.label}' is not valid now (valid "
                         f"{seal.certificate.not_valid_before_utc:%Y-%m-%d} to {not_after:%Y-%m-%d})" if expired else None}


def refresh_on_sighup(provider: SealProvider) -> None:
    """Let `kill -HUP <sidecar>` make the provider re-read the active seal at once (main thread only)."""
    import signal

    previous = signal.getsignal(signal.SIGHUP)

    def handler(signum, frame) -> None:
        provider.refresh()
        if callable(previous):
            previous(signum, frame)

    signal.signal(signal.SIGHUP, handler)
