"""Loading a PKCS#11 module once per process, and one logged-in session per token.

Two facts of PKCS#11 shape this module:

* python-pkcs11 calls ``C_Initialize`` without locking callbacks, and SoftHSM then turns its own
  locking off: two threads inside the module at once can corrupt it. Every call into a module
  therefore goes through that module's lock (``TokenHandle.lock``). Parallelism comes from running
  several processes (see hsm/README.md, "Concurrency", for the measurements behind this choice).
* Login is per token, not per session, and closing a logged-in session logs the whole token out.
  So we keep one long-lived session per token and never close it while keys from it are in use.

SoftHSM reads ``SOFTHSM2_CONF`` once, when the module initialises. Tests (and a developer with two
demo tokens) need several SoftHSM configurations in one process, so a second configuration gets its
own private copy of the module file: the dynamic loader then gives it separate state.
"""
from __future__ import annotations

import atexit
import ctypes
import hashlib
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pkcs11
from pkcs11 import exceptions as p11x

from hsm.config import TokenConfig
from hsm.errors import HsmError, TokenUnavailableError, WrongPinError

_registry_lock = threading.Lock()
_modules: dict[tuple[str, str | None], "LoadedModule"] = {}
_handles: dict[tuple[str, str | None, str], "TokenHandle"] = {}
_paths_before_fork: dict[tuple[str, str | None], str] = {}  # a forked child reuses the parent's module files

def _forget_after_fork() -> None:
    """PKCS#11 state does not survive fork(): a child process loads and logs in afresh."""
    global _registry_lock
    _registry_lock = threading.Lock()
    _paths_before_fork.update({key: loaded.path for key, loaded in _modules.items()})
    _modules.clear()
    _handles.clear()


os.register_at_fork(after_in_child=_forget_after_fork)

# Errors after which the session (or the whole module) must be reopened.
SESSION_LOST = (p11x.SessionHandleInvalid, p11x.SessionClosed, p11x.DeviceRemoved, p11x.TokenNotPresent,
                p11x.TokenNotRecognised, p11x.UserNotLoggedIn, p11x.DeviceError, p11x.SlotIDInvalid)
try:  # not every python-pkcs11 release names this one
    SESSION_LOST += (p11x.CryptokiNotInitialized,)  # type: ignore[attr-defined]
except AttributeError:  # pragma: no cover
    pass


@dataclass
class LoadedModule:
    lib: pkcs11.lib
    path: str  # the file actually loaded (a private copy for a second SoftHSM configuration)
    lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def is_softhsm(self) -> bool:
        return "softhsm" in (self.lib.manufacturer_id + " " + self.lib.library_description).lower()


def load_module(config: TokenConfig) -> LoadedModule:
    """The module for this configuration, loaded and initialised once per process."""
    key = (config.module, config.softhsm_conf)
    with _registry_lock:
        loaded = _modules.get(key)
        if loaded is not None:
            return loaded
        if not Path(config.module).exists():
            raise HsmError(f"the PKCS#11 module {config.module} does not exist (check EDC_PKCS11_MODULE / --module)")
        path = _paths_before_fork.get(key, config.module)
        if key not in _paths_before_fork and any(loaded.path == config.module for loaded in _modules.values()):
            path = _private_copy(config.module, config.softhsm_conf)
        loaded = LoadedModule(_initialise(path, config.softhsm_conf, after_fork=key in _paths_before_fork), path)
        _modules[key] = loaded
        return loaded


def _initialise(path: str, softhsm_conf: str | None, *, after_fork: bool = False) -> pkcs11.lib:
    previous = os.environ.get("SOFTHSM2_CONF")
    if softhsm_conf:
        os.environ["SOFTHSM2_CONF"] = str(softhsm_conf)
    try:
        try:
            return pkcs11.lib(path)
        except p11x.PKCS11Error as exc:
            if not after_fork or "already initialized" not in str(exc):
                raise
            # A forked child inherits the parent's initialised module; modules that do not notice the
            # fork refuse C_Initialize until C_Finalize is called (PKCS#11 leaves fork handling to the module).
            ctypes.CDLL(path).C_Finalize(None)
            return pkcs11.lib(path)
    except p11x.PKCS11Error as exc:
        raise HsmError(f"the PKCS#11 module {path} failed to initialise: {describe(exc)}") from None
    finally:
        if softhsm_conf:
            if previous is None:
                os.environ.pop("SOFTHSM2_CONF", None)
            else:
                os.environ["SOFTHSM2_CONF"] = previous


_copies_dir: Path | None = None


def _private_copy(module: str, softhsm_conf: str | None) -> str:
    """A copy of the module file for one more configuration, in a private directory removed at exit."""
    global _copies_dir
    if _copies_dir is None:
        _copies_dir = Path(tempfile.mkdtemp(prefix="edc-hsm-modules-"))  # mode 0700, ours
        atexit.register(shutil.rmtree, _copies_dir, True)
    tag = hashlib.sha256(f"{module}\0{softhsm_conf}".encode()).hexdigest()[:16]
    target = _copies_dir / f"{tag}-{Path(module).name}"
    shutil.copyfile(module, target)
    return str(target)


def describe(exc: BaseException) -> str:
    """A PKCS#11 error in words: python-pkcs11's exceptions often carry no message."""
    text = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


def is_module_gone(exc: BaseException) -> bool:
    """The module was finalised under us (device gone, daemon restarted): only re-initialising helps."""
    return type(exc) is p11x.PKCS11Error and "not initialized" in str(exc)


def is_connection_lost(exc: BaseException) -> bool:
    """Errors after which the session must be reopened, as opposed to a refusal of this one request."""
    return isinstance(exc, SESSION_LOST) or is_module_gone(exc) or type(exc) is p11x.GeneralError


@dataclass
class TokenHandle:
    """One token, its logged-in session, and the lock every call into its module takes."""

    config: TokenConfig
    module: LoadedModule
    token: pkcs11.Token | None = None
    session: pkcs11.Session | None = None
    generation: int = 0  # counts logins, so keys found in an older session are looked up again

    @property
    def lock(self) -> threading.RLock:
        return self.module.lock

    def ensure_session(self) -> pkcs11.Session:
        """The logged-in session, reopened (and the module re-initialised) after it was lost."""
        with self.lock:
            if self.session is None:
                try:
                    self.session = self._login()
                except HsmError as exc:
                    if not getattr(exc, "module_gone", False):
                        raise
                    self.reset_module()
                    self.session = self._login()
                self.generation += 1
            return self.session

    def _login(self) -> pkcs11.Session:
        label = self.config.token_label
        try:
            token = find_token(self.module, label)
            session = token.open(rw=True, user_pin=self.config.pin)
        except p11x.PinIncorrect:
            raise WrongPinError(f"the token '{label}' refused the PIN (wrong PIN); check EDC_PIN_FILE / EDC_PIN — "
                                "repeated attempts may lock the token") from None
        except p11x.PinLocked:
            raise WrongPinError(f"the user PIN of token '{label}' is locked; the security officer must unlock it") from None
        except p11x.UserAlreadyLoggedIn:
            session = token.open(rw=True)  # another session of ours already logged this token in
        except p11x.PKCS11Error as exc:
            error = TokenUnavailableError(f"cannot open a session on token '{label}': {describe(exc)}")
            error.module_gone = is_module_gone(exc)  # type: ignore[attr-defined]
            raise error from None
        self.token = token
        return session

    def drop_session(self) -> None:
        """Forget a session the module no longer knows (lost, token removed); the next use logs in again."""
        with self.lock:
            session, self.session = self.session, None
            if session is not None:
                try:
                    session.close()
                except p11x.PKCS11Error:
                    pass

    def reset_module(self) -> None:
        """Finalize and re-initialise the module: the way back after a removed-and-reinserted device."""
        with self.lock:
            self.session = None
            previous = os.environ.get("SOFTHSM2_CONF")
            try:
                if self.config.softhsm_conf:
                    os.environ["SOFTHSM2_CONF"] = self.config.softhsm_conf
                try:
                    self.module.lib.finalize()
                except p11x.PKCS11Error:
                    pass  # already finalised: that is what we are recovering from
                self.module.lib.initialize()
            except p11x.PKCS11Error as exc:
                raise TokenUnavailableError(f"the PKCS#11 module could not be re-initialised: {describe(exc)}") from None
            finally:
                if self.config.softhsm_conf:
                    if previous is None:
                        os.environ.pop("SOFTHSM2_CONF", None)
                    else:
                        os.environ["SOFTHSM2_CONF"] = previous


def find_token(module: LoadedModule, label: str) -> pkcs11.Token:
    with module.lock:
        try:
            return module.lib.get_token(token_label=label)
        except p11x.NoSuchToken:
            labels = [s.get_token().label for s in module.lib.get_slots(token_present=True)]
            raise TokenUnavailableError(
                f"no token labelled '{label}' in {module.lib.so} (removed?)"
                + (f"; present: {', '.join(labels)}" if labels else "; no token is present")) from None
        except p11x.MultipleTokensReturned:
            raise HsmError(f"more than one token is labelled '{label}'; give each token its own label") from None


def token_handle(config: TokenConfig) -> TokenHandle:
    """The process-wide handle of this token (a new PIN makes a new handle, so a wrong PIN is not stuck)."""
    module = load_module(config)
    key = (config.module, config.softhsm_conf, config.token_label)
    with _registry_lock:
        handle = _handles.get(key)
        if handle is None or handle.config.pin != config.pin:
            if handle is not None:
                handle.drop_session()
            handle = TokenHandle(config, module)
            _handles[key] = handle
        return handle
