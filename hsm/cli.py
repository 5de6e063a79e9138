"""`edc-hsm`: the key ceremony for security staff (see hsm/README.md for the step-by-step runbook).

Every subcommand either does its job or refuses with a one-line reason and exit status 1; none
overwrites a key. PINs are read from --pin-file, EDC_PIN_FILE, EDC_PIN or a prompt — there is no
option to pass a PIN on the command line, and no output or log line contains one.
"""
from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from hsm.config import TokenConfig, demo_directory
from hsm.errors import HsmError
from hsm.objects import name_text

log = logging.getLogger("edc.hsm")


def _prompt(text: str) -> str:
    if not sys.stdin.isatty():
        raise HsmError("no PIN given: set EDC_PIN_FILE (a file holding the PIN) or EDC_PIN, or use --pin-file "
                       "(there is no terminal to ask for it)")
    return getpass.getpass(text)


def _config(args: argparse.Namespace) -> TokenConfig:
    return TokenConfig.from_env(module=args.module, token=args.token, pin_file=args.pin_file, prompt=_prompt)


def _session(args: argparse.Namespace):
    from hsm.token import token_handle

    handle = token_handle(_config(args))
    return handle, handle.ensure_session()


def cmd_status(args: argparse.Namespace) -> int:
    from hsm.status import token_status, format_status

    report = token_status(_config(args))
    print(json.dumps(report, indent=2) if args.json else format_status(report))
    return 1 if report["error"] else 0


def cmd_keygen(args: argparse.Namespace) -> int:
    from hsm import ceremony

    handle, session = _session(args)
    with handle.lock:
        key_id = ceremony.keygen(session, args.label, args.type)
    log.info("generated %s key '%s' on token '%s'", args.type, args.label, handle.config.token_label)
    print(f"generated {args.type} key '{args.label}' (id {key_id.hex()}) on token '{handle.config.token_label}': "
          "sensitive, not extractable")
    print(f"next: edc-hsm csr --label {args.label} --subject '...' --out {args.label}.csr")
    return 0


def cmd_csr(args: argparse.Namespace) -> int:
    from hsm import ceremony

    subject = ceremony.parse_subject(args.subject)
    handle, session = _session(args)
    with handle.lock:
        csr = ceremony.make_csr(session, args.label, subject)
    pem = csr.public_bytes(serialization.Encoding.PEM)
    if args.out:
        args.out.write_bytes(pem)
        print(f"wrote the certificate request for '{args.label}' ({name_text(subject)}) to {args.out}")
    else:
        sys.stdout.write(pem.decode())
    return 0


def _load_certs(path: Path, what: str) -> list[x509.Certificate]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise HsmError(f"cannot read {what} {path}: {exc.strerror}") from None
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise HsmError(f"{what} {path} is not an X.509 certificate in PEM or DER ({exc})") from None


def cmd_import_cert(args: argparse.Namespace) -> int:
    from hsm import ceremony

    certs = _load_certs(args.cert, "--cert")
    cert, extra = certs[0], certs[1:]
    chain = extra + (_load_certs(args.chain, "--chain") if args.chain else [])
    handle, session = _session(args)
    with handle.lock:
        ceremony.import_certificate(session, args.label, cert, chain)
    log.info("imported the certificate of '%s' (serial %x)", args.label, cert.serial_number)
    print(f"imported the certificate of '{args.label}': {name_text(cert.subject)}, valid until "
          f"{cert.not_valid_after_utc:%Y-%m-%d}, with {len(chain)} chain certificate(s)")
    if not chain:
        print("note: no chain was given; verifiers will need the issuing CA certificate from elsewhere")
    return 0


def cmd_activate(args: argparse.Namespace) -> int:
    from hsm import ceremony

    handle, session = _session(args)
    with handle.lock:
        previous = ceremony.activate(session, args.label)
    if previous == args.label:
        print(f"'{args.label}' is already the active seal")
    else:
        log.info("active seal changed from %s to '%s'", repr(previous) if previous else "none", args.label)
        print(f"'{args.label}' is now the active seal" + (f" (was '{previous}', kept for audit)" if previous else ""))
        print("running sidecars switch to it within their re-check interval (default 5 s)")
    return 0


def cmd_change_pin(args: argparse.Namespace) -> int:
    from hsm.config import read_pin

    config = _config(args)
    new_pin = read_pin(args.new_pin_file, None)
    if new_pin is None:
        new_pin = _prompt("new PIN: ")
        if _prompt("new PIN again: ") != new_pin:
            raise HsmError("the two new PINs differ; nothing was changed")
    if len(new_pin) < 6:
        raise HsmError("the new PIN must have at least 6 characters; nothing was changed")
    handle, session = _session(args)
    from pkcs11 import exceptions as p11x

    with handle.lock:
        try:
            session.set_pin(config.pin, new_pin)
        except p11x.PKCS11Error as exc:
            raise HsmError(f"the token refused the PIN change ({type(exc).__name__}); nothing was changed") from None
    log.info("user PIN of token '%s' changed", config.token_label)
    print(f"the user PIN of token '{config.token_label}' was changed; update the PIN file the sidecar reads "
          "(EDC_PIN_FILE) and the sidecar will log in with it on its next attempt")
    return 0


def cmd_self_test(args: argparse.Namespace) -> int:
    from hsm.selftest import run_self_test

    result = run_self_test(_config(args), args.label)
    for line in result.lines:
        print(line)
    return 0 if result.ok else 1


def cmd_demo_token(args: argparse.Namespace) -> int:
    from hsm.config import find_softhsm_module
    from hsm.demo_token import create_demo_token, load_demo_token

    import os

    directory = args.dir or demo_directory()
    module = args.module or os.environ.get("EDC_PKCS11_MODULE") or find_softhsm_module()
    if "softhsm" not in Path(module).name.lower():
        raise HsmError(f"refused: demo tokens are for SoftHSM only, and {module} is not SoftHSM")
    if (directory / "token.json").exists():
        token = load_demo_token(directory)
        print(f"the demo token already exists in {directory} (token '{token.config.token_label}', "
              f"seal '{token.seal_label}'); nothing was changed")
        return 0
    token = create_demo_token(directory, key_type=args.key_type, token_label=args.token or "edc-demo", module=module)
    print(f"created a SoftHSM demo token in {directory}: token '{token.config.token_label}', "
          f"active TEST seal '{token.seal_label}' ({args.key_type}), valid until "
          f"{token.seal_certificate.not_valid_after_utc:%Y-%m-%d}")
    print(f"its TEST CA (trust anchor for local verification): {token.ca_cert_path}")
    print("with no EDC_PKCS11_MODULE / EDC_TOKEN_LABEL set, edc-hsm and the sidecar use this token")
    return 0


class _Parser(argparse.ArgumentParser):
    """Never echoes unrecognised arguments: someone may have typed a PIN there by mistake."""

    def error(self, message: str):  # type: ignore[override]
        if message.startswith("unrecognized arguments"):
            message = ("unrecognized arguments (not repeated here, as they may hold a secret); "
                       "PINs are read only from --pin-file, EDC_PIN_FILE, EDC_PIN or a prompt")
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    token_options = _Parser(add_help=False, allow_abbrev=False)
    group = token_options.add_argument_group("token selection (PINs are never taken as arguments)")
    group.add_argument("--module", metavar="PATH", help="PKCS#11 module (default: EDC_PKCS11_MODULE)")
    group.add_argument("--token", metavar="LABEL", help="token label (default: EDC_TOKEN_LABEL)")
    group.add_argument("--pin-file", metavar="FILE",
                       help="file holding the user PIN (default: EDC_PIN_FILE, then EDC_PIN, then a prompt)")
    group.add_argument("-v", "--verbose", action="store_true", help="log each step to stderr")

    parser = _Parser(
        prog="edc-hsm", allow_abbrev=False,
        description="Key ceremony for the credential seal on a PKCS#11 token (HSM). With no token configured, "
                    "the SoftHSM demo token made by `edc-hsm demo-token` is used.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    def add(name: str, func, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[token_options], help=help_text, description=help_text, allow_abbrev=False)
        p.set_defaults(func=func)
        return p

    p = add("status", cmd_status, "show the module, slots, token, keys, certificates and the active seal")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p = add("keygen", cmd_keygen, "generate a seal key pair on the token (never overwrites a label)")
    p.add_argument("--label", required=True, help="label for the new key, e.g. seal-2026")
    p.add_argument("--type", required=True, choices=["rsa3072", "ecp256"], help="key type")
    p = add("csr", cmd_csr, "make a PKCS#10 certificate request signed on the token, for the trust service provider")
    p.add_argument("--label", required=True, help="the key to certify")
    p.add_argument("--subject", required=True,
                   help="distinguished name, e.g. 'CN=Nemunas University eSeal,O=Nemunas University,"
                        "organizationIdentifier=VATLT-119502413,C=LT'")
    p.add_argument("--out", type=Path, help="write the PEM request here (default: standard output)")
    p = add("import-cert", cmd_import_cert,
            "store the provider's certificate (and chain) with its key; refuses a wrong key or out-of-date certificate")
    p.add_argument("--label", required=True, help="the key the certificate was issued for")
    p.add_argument("--cert", required=True, type=Path, help="the seal certificate (PEM or DER)")
    p.add_argument("--chain", type=Path, help="the issuing CA certificates (PEM bundle), leaf-side first")
    p = add("activate", cmd_activate, "make a key the active seal (rotation); the previous key stays for audit")
    p.add_argument("--label", required=True, help="the key to seal new credentials with")
    p = add("change-pin", cmd_change_pin, "change the token's user PIN")
    p.add_argument("--new-pin-file", metavar="FILE", help="file holding the new PIN (default: prompt twice)")
    p = add("self-test", cmd_self_test, "sign and verify a fixed test document with the active (or given) seal")
    p.add_argument("--label", help="test this key instead of the active seal")
    p = add("demo-token", cmd_demo_token, "SoftHSM only: create a local practice token with a TEST CA and TEST seal")
    p.add_argument("--dir", type=Path, help="where to keep it (default: EDC_DEMO_DIR or <repo>/var/demo-token)")
    p.add_argument("--key-type", choices=["rsa3072", "ecp256"], default="rsa3072", help="seal key type")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except HsmError as exc:
        print(f"edc-hsm {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"edc-hsm {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
