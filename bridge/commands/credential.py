"""`edc-bridge issue` and `edc-bridge verify`: one credential by hand, without the server.

Both read the same configuration names as the sidecar (EDC_PKCS11_MODULE, EDC_TOKEN_LABEL,
EDC_PIN_FILE, EDC_SCHEMA_DIR, EDC_TRUST_ANCHORS, ...); with none set they use the SoftHSM demo
token and its test CA, so a newcomer can issue and verify a credential in two commands.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

from bridge.edc import formats, model, status


def register(sub: argparse._SubParsersAction) -> None:
    issue = sub.add_parser(
        "issue",
        help="build and seal one credential from a course description and a learner",
        description="Build a credential from a course credential description (JSON) and a learner (JSON), "
        "check it against the EDC schema when one is configured, and seal it on the PKCS#11 token.",
    )
    issue.add_argument("--spec", required=True, type=Path, help="course credential description (JSON)")
    issue.add_argument("--learner", required=True, type=Path, help="learner (JSON, the event's learner object)")
    issue.add_argument("--out", required=True, type=Path, help="where to write the sealed credential")
    issue.add_argument("--format", choices=formats.names(), default=None, type=_format_name,
                       help=f"credential format (default: the course's first, else {formats.default().name})")
    issue.add_argument("--completed-at", help="when the learner completed the course (ISO 8601; default now)")
    issue.add_argument("--grade", help="the learner's grade, if the course grades")
    issue.add_argument("--seal-label", help="seal key label on the token (default: the active seal)")
    issue.set_defaults(func=cmd_issue)

    verify = sub.add_parser(
        "verify",
        help="verify a credential file (exit 0 only when valid)",
        description="Check a credential file: safe XML/JSON, schema, the seal's integrity, and the seal "
        "certificate against the trust anchors at the time of sealing; with EDC_TRUSTED_LISTS, whether the seal "
        "is a qualified electronic seal. Prints what the credential says.",
    )
    verify.add_argument("file", type=Path, help="the credential file (EDC XML or ELM v3 JSON-LD)")
    verify.add_argument("--json", action="store_true", help="print one machine-readable JSON object")
    verify.add_argument("--trust-anchors", type=Path, help="PEM file of trusted CAs (default EDC_TRUST_ANCHORS, "
                        "else the demo token's test CA)")
    verify.add_argument("--at", help="verify as if the clock read this ISO 8601 time")
    verify.add_argument("--offline", action="store_true", help="do not look up the status resource a credential "
                        "names (credentialStatus; looked up in at most 3 s otherwise)")
    verify.set_defaults(func=cmd_verify)


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SystemExit(f"edc-bridge: {what} file not found: {path}")
    except json.JSONDecodeError as exc:
        raise SystemExit(f"edc-bridge: {what} file {path} is not valid JSON: {exc}")


def _parse_time(text: str | None, option: str) -> dt.datetime | None:
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SystemExit(f"edc-bridge: {option} is not an ISO 8601 date-time: {text!r}")
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _format_name(text: str) -> str:
    """--format takes the old names too (edc-xml-v1, elm-v3-jsonld), as the plugin's records had them."""
    return formats.canonical(text) if formats.is_known(text) else text


def _checks(fmt: formats.CredentialFormat | None = None) -> formats.Checks:
    """The official checks the environment configures (EDC_SCHEMA_DIR, EDC_SHACL_DIR, EDC_OB3_SCHEMA); says
    which is skipped."""
    from bridge.edc.ob3_schema import Ob3Schema
    from bridge.edc.schema_check import EdcSchema
    from bridge.edc.shacl_check import ElmShapes
    from bridge.settings import Settings, SettingsError

    try:
        ob3_path = Settings.from_env().ob3_schema
    except SettingsError as exc:
        raise SystemExit(f"error: {exc}") from None
    ob3_schema = Ob3Schema(ob3_path) if ob3_path else None
    checks = formats.Checks(schema=EdcSchema.from_env(), shapes=ElmShapes.from_env(), ob3_schema=ob3_schema)
    skipped = fmt.skipped_check(checks) if fmt is not None else None
    if skipped:
        print(f"note: {skipped}", file=sys.stderr)
    return checks


def cmd_issue(args: argparse.Namespace) -> int:
    try:
        spec = model.load_course_spec(_read_json(args.spec, "course description"))
        learner = model.load_learner(_read_json(args.learner, "learner"))
    except model.ModelError as exc:
        print(f"edc-bridge: {exc.what} refused:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    issuance = model.Issuance.new(_parse_time(args.completed_at, "--completed-at"), grade=args.grade,
                                  valid_for=spec.valid_for)
    credential = model.Credential(spec, learner, issuance)
    errors = _issue_errors()
    try:
        data = _seal(credential, args)
    except errors as exc:
        print(f"edc-bridge: not issued: {exc}", file=sys.stderr)
        for problem in getattr(exc, "problems", [])[:20]:
            print(f"  {problem}", file=sys.stderr)
        return 1
    args.out.write_bytes(data)
    print(f"sealed {issuance.credential_id} for {learner.full_name} ({spec.title.get_in(spec.primary_language)}) "
          f"-> {args.out}")
    return 0


def _issue_errors() -> tuple[type[BaseException], ...]:
    """The refusals `issue` reports in plain words (imported late so `--help` stays light)."""
    from bridge.edc.issuer import SchemaViolation
    from bridge.edc.ltv import LtvConfigError, TimestampPending
    from bridge.edc.shacl_check import ShapesConfigError, ShapesViolation
    from bridge.edc.timestamps import TsaUnavailableError
    from hsm.errors import HsmError

    from bridge.settings import SettingsError

    return (SchemaViolation, ShapesViolation, ShapesConfigError, LtvConfigError, SettingsError, TimestampPending,
            TsaUnavailableError, HsmError)


def _seal(credential: model.Credential, args: argparse.Namespace) -> bytes:
    from bridge.settings import seal_level_settings
    from hsm.config import TokenConfig
    from hsm.signer import open_seal

    level = seal_level_settings(os.environ)  # EDC_SEAL_LEVEL, EDC_TSA_URL, EDC_TSA_POLICY
    options = {"level": level.level, "tsa": level.tsa, "tsa_policy": level.policy}
    seal = open_seal(TokenConfig.from_env(), args.seal_label)
    fmt = formats.get(args.format or formats.for_course(credential.spec.source, formats.names())[0])
    return fmt.issue(credential, seal, checks=_checks(fmt), **options)


def _tsa_anchors() -> list | None:
    """The CAs whose time-stamping authorities are believed (EDC_TSA_TRUST_ANCHORS); None: the seal's anchors."""
    from bridge.edc import trust

    path = os.environ.get("EDC_TSA_TRUST_ANCHORS") or None
    try:
        return trust.load_anchors(path) if path else None
    except (OSError, ValueError) as exc:
        raise SystemExit(f"edc-bridge: EDC_TSA_TRUST_ANCHORS names {path}, which is not a readable PEM file "
                         f"({type(exc).__name__})") from None


def _trusted_lists(moment: dt.datetime | None):
    """The EU trusted lists EDC_TRUSTED_LISTS names, verified as of `moment` (default now); None when not set.

    A URL whose lists were never downloaded is downloaded once, into EDC_TRUSTED_LISTS_CACHE."""
    from bridge.settings import Settings, SettingsError
    from bridge.trusted_lists_source import TrustedListsSource

    try:
        source = TrustedListsSource.from_settings(Settings.from_env())
    except SettingsError as exc:
        raise SystemExit(f"edc-bridge: {exc}")
    if source is None:
        return None
    if source.is_url and not source.lotl_path.exists():
        print(f"note: downloading the EU trusted lists from {source.location} into {source.cache_dir}",
              file=sys.stderr)
        source.refresh()
        for error in source.errors:
            print(f"note: trusted lists: {error}", file=sys.stderr)
    return source.current(at=moment)


def cmd_verify(args: argparse.Namespace) -> int:
    from bridge.edc import trust
    from hsm.config import default_trust_anchors_file

    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise SystemExit(f"edc-bridge: cannot read {args.file}: {exc.strerror}")
    anchors_file = args.trust_anchors or default_trust_anchors_file()
    moment = _parse_time(args.at, "--at")
    checks = dataclasses.replace(_checks(), trusted_lists=_trusted_lists(moment), tsa_anchors=_tsa_anchors(),
                                 status=None if args.offline else status.Lookup())
    report = formats.verify(data, trust_anchors=trust.load_anchors(anchors_file), checks=checks, now=moment)
    if not anchors_file:
        report.notes.append("no trust anchors configured (EDC_TRUST_ANCHORS)")
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        print(report.plain_words())
    return 0 if report.valid else 1
