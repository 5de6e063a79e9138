"""A fresh SoftHSM token made with the vendor's own tool, and a way to run `edc-hsm` on it as an operator would."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hsm.config import TokenConfig, find_softhsm_module

REPO = Path(__file__).resolve().parents[2]


@dataclass
class FreshToken:
    directory: Path
    config: TokenConfig
    env: dict[str, str]
    outputs: list[str] = field(default_factory=list)  # everything edc-hsm printed or logged, for the PIN check

    def run(self, *args: str, ok: bool = True, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        proc = subprocess.run([sys.executable, "-m", "hsm.cli", *args, "--verbose"], cwd=REPO, capture_output=True,
                              text=True, env={**self.env, **(extra_env or {})}, timeout=120)
        self.outputs += [proc.stdout, proc.stderr]
        if ok:
            assert proc.returncode == 0, f"edc-hsm {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
        return proc


def make_fresh_token(directory: Path, label: str = "ceremony") -> FreshToken:
    """Initialised with `softhsm2-util --init-token` (the vendor tool), then used as it is."""
    tokens = directory / "tokens"
    tokens.mkdir(parents=True)
    conf = directory / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    pin = "Pin-" + secrets.token_hex(6)  # distinctive, so a leak is easy to find
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", "so-" + pin[4:],
                    "--pin", pin], env=env, check=True, capture_output=True)
    pin_file = directory / "pin"
    pin_file.write_text(pin + "\n")
    module = find_softhsm_module()
    run_env = {k: v for k, v in env.items() if not k.startswith("EDC_")}
    run_env.update({"EDC_PKCS11_MODULE": module, "EDC_TOKEN_LABEL": label, "EDC_PIN_FILE": str(pin_file),
                    "EDC_DEMO_DIR": str(directory / "no-demo")})
    config = TokenConfig(module=module, token_label=label, pin=pin, softhsm_conf=str(conf))
    return FreshToken(directory, config, run_env)


@pytest.fixture
def fresh_token(tmp_path) -> FreshToken:
    return make_fresh_token(tmp_path)
