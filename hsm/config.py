"""Which token to use, and with which PIN: read from the environment or the CLI options.

The PIN lives only in memory (``repr`` hides it); it comes from a file, an environment variable or a
prompt, never from a command-line argument, because arguments are visible to every user via ``ps``.
With nothing configured we fall back to the local SoftHSM demo token made by ``edc-hsm demo-token``,
so a developer can issue a test credential without any setup beyond that one command.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hsm.errors import HsmError

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_INFO_FILE = "token.json"  # written by create_demo_token: module, token label, file names
SOFTHSM_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
)


@dataclass(frozen=True)
class TokenConfig:
    module: str  # PKCS#11 module path
    token_label: str
    pin: str = field(repr=False)  # never printed, never logged
    softhsm_conf: str | None = None  # when set, SOFTHSM2_CONF points at it while the module loads

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, module: str | None = None,
                 token: str | None = None, pin_file: str | None = None,
                 prompt: Callable[[str], str] | None = None) -> "TokenConfig":
        """Explicit options win over the environment; with neither, the demo token is used.

        ``prompt`` (e.g. getpass) is asked for the PIN only when neither a PIN file nor EDC_PIN is set.
        """
        env = os.environ if env is None else env
        module = module or env.get("EDC_PKCS11_MODULE") or None
        token = token or env.get("EDC_TOKEN_LABEL") or None
        pin_file = pin_file or env.get("EDC_PIN_FILE") or None
        softhsm_conf = env.get("SOFTHSM2_CONF") or None
        if module is None and token is None:
            demo = demo_directory(env)
            if (demo / DEMO_INFO_FILE).exists():
                return demo_config(demo, pin_file=pin_file, pin=env.get("EDC_PIN"))
            raise HsmError(
                "no token configured: set EDC_PKCS11_MODULE and EDC_TOKEN_LABEL (and EDC_PIN_FILE or EDC_PIN), "
                f"or create the local demo token with `edc-hsm demo-token` (it would live in {demo})")
        if module is None:
            raise HsmError("EDC_PKCS11_MODULE (or --module) is not set: the path of the PKCS#11 module is needed")
        if token is None:
            raise HsmError("EDC_TOKEN_LABEL (or --token) is not set: the label of the token is needed")
        pin = read_pin(pin_file, env.get("EDC_PIN"))
        if pin is None and prompt is not None:
            pin = prompt(f"PIN for token '{token}': ") or None
        if pin is None:
            raise HsmError("no PIN given: set EDC_PIN_FILE (a file holding the PIN) or EDC_PIN, or use --pin-file")
        return cls(module=module, token_label=token, pin=pin, softhsm_conf=softhsm_conf)

    def with_pin(self, pin: str) -> "TokenConfig":
        return TokenConfig(self.module, self.token_label, pin, self.softhsm_conf)


def read_pin(pin_file: str | os.PathLike | None, pin_value: str | None) -> str | None:
    """A PIN file wins over a PIN variable; the trailing newline editors add is not part of the PIN."""
    if pin_file:
        try:
            return Path(pin_file).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise HsmError(f"cannot read the PIN file {pin_file}: {exc.strerror}") from None
    return pin_value or None


def demo_directory(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("EDC_DEMO_DIR") or REPO_ROOT / "var" / "demo-token")


def demo_config(directory: Path, *, pin_file: str | None = None, pin: str | None = None) -> TokenConfig:
    """The configuration of a demo token made by create_demo_token in ``directory``."""
    info = json.loads((directory / DEMO_INFO_FILE).read_text(encoding="utf-8"))
    pin = read_pin(pin_file, pin) or read_pin(directory / info["pin_file"], None)
    return TokenConfig(module=info["module"], token_label=info["token_label"], pin=pin,
                       softhsm_conf=str(directory / info["softhsm_conf"]))


def default_trust_anchors_file(env: Mapping[str, str] | None = None) -> Path | None:
    """EDC_TRUST_ANCHORS when set; else the demo token's test CA, so demo credentials verify locally."""
    env = os.environ if env is None else env
    if env.get("EDC_TRUST_ANCHORS"):
        return Path(env["EDC_TRUST_ANCHORS"])
    demo = demo_directory(env)
    try:
        info = json.loads((demo / DEMO_INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ca = demo / info.get("ca_cert", "ca.pem")
    return ca if ca.exists() else None


def find_softhsm_module() -> str:
    for candidate in SOFTHSM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    raise HsmError("SoftHSM2 is not installed (libsofthsm2.so not found); install the softhsm2 package")
