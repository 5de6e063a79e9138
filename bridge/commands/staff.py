"""`edc-bridge staff add|disable|role|list` and `edc-bridge staff token add|disable`: named staff accounts
and API tokens in the registry (issue 15).

Secrets: a local account's password is read from the terminal (twice, not echoed) or, for scripts, from
standard input with --password-stdin; it is never printed. The TOTP secret and its otpauth:// provisioning
URI are printed ONCE, by `staff add`, to the operator's terminal, for the person's authenticator app; they
are not shown again (a lost one: disable the account and add a new one). A registry token's secret is
likewise printed once by `staff token add`. The audit names the operator as `cli:<login name>`.
"""
from __future__ import annotations

import argparse
import getpass
import sys


def register(sub: argparse._SubParsersAction) -> None:
    staff = sub.add_parser("staff", help="named staff accounts, roles and API tokens",
                           description="Named staff accounts (local or the identity provider's) with roles, and "
                           "named API tokens, kept in the registry. Roles: viewer, registrar, security_officer, "
                           "admin (comma-separated for several).")
    staff.add_argument("--database-url", help="registry URL (default EDC_DATABASE_URL, else the SQLite default)")
    actions = staff.add_subparsers(dest="staff_command", required=True, metavar="ACTION")

    add = actions.add_parser("add", help="add an account (prints the TOTP provisioning URI once)",
                             description="Add a staff account. A local account gets an argon2id password hash and "
                             "a TOTP secret, whose provisioning URI is printed once, here, for the authenticator "
                             "app. --oidc: a person of the identity provider whose roles are assigned here.")
    add.add_argument("username")
    add.add_argument("--role", required=True, help="role(s): viewer, registrar, security_officer, admin")
    add.add_argument("--name", help="display name")
    add.add_argument("--oidc", action="store_true", help="an identity-provider account (no password, no TOTP)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=cmd_add)

    disable = actions.add_parser("disable", help="disable an account and end its sessions")
    disable.add_argument("username")
    disable.set_defaults(func=cmd_disable)

    role = actions.add_parser("role", help="set an account's roles (ends its sessions)")
    role.add_argument("username")
    role.add_argument("roles", help="role(s), comma-separated")
    role.set_defaults(func=cmd_role)

    listing = actions.add_parser("list", help="list accounts (never a secret)")
    listing.set_defaults(func=cmd_list)

    token = actions.add_parser("token", help="named API tokens kept in the registry")
    token_actions = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    token_add = token_actions.add_parser("add", help="add a token (prints its secret once)")
    token_add.add_argument("name")
    token_add.add_argument("--role", required=True, help="role(s), comma-separated")
    token_add.set_defaults(func=cmd_token_add)
    token_disable = token_actions.add_parser("disable", help="disable a token")
    token_disable.add_argument("name")
    token_disable.set_defaults(func=cmd_token_disable)


def _operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def _registry(args: argparse.Namespace):
    from bridge.registry import Registry
    from bridge.settings import Settings

    return Registry(args.database_url or Settings.from_env().database_url)


def _roles(text: str) -> tuple[str, ...]:
    from bridge.staff import roles

    return roles.parse(text)


def _run(args: argparse.Namespace, change) -> int:  # noqa: ANN001
    """One registry transaction; a refused request is one line naming the problem, exit 2."""
    from bridge.registry.staff_accounts import AccountError
    from bridge.staff.roles import UnknownRole

    registry = _registry(args)
    try:
        with registry.transaction() as db:
            result = change(db)
    except (AccountError, UnknownRole) as exc:
        print(f"edc-bridge staff: {exc}", file=sys.stderr)
        return 2
    finally:
        registry.dispose()
    return result or 0


def _password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        print("edc-bridge staff: the two passwords differ", file=sys.stderr)
        return None
    return first


def cmd_add(args: argparse.Namespace) -> int:
    from bridge.registry import staff_accounts
    from bridge.staff import local
    from bridge.staff.roles import UnknownRole

    try:
        held = _roles(args.role)
    except UnknownRole as exc:
        print(f"edc-bridge staff: --role: {exc}", file=sys.stderr)
        return 2
    password = None if args.oidc else _password(args)
    if not args.oidc and password is None:
        return 2
    made: list = []

    def change(db) -> None:  # noqa: ANN001
        made.append(staff_accounts.add_account(db, args.username, held, "oidc" if args.oidc else "local",
                                               _operator(), password, args.name))

    code = _run(args, change)
    if code:
        return code
    print(f"added {args.username} ({', '.join(held)})")
    if made and made[0] is not None:
        print("TOTP for the authenticator app (shown this once, not again):")
        print(f"  secret: {made[0].totp_secret}")
        print(f"  URI:    {local.provisioning_uri(made[0].totp_secret, args.username)}")
    return 0


def cmd_disable(args: argparse.Namespace) -> int:
    from bridge.registry import staff_accounts

    code = _run(args, lambda db: staff_accounts.disable(db, args.username, _operator()))
    if not code:
        print(f"disabled {args.username}; their sessions are ended")
    return code


def cmd_role(args: argparse.Namespace) -> int:
    from bridge.registry import staff_accounts

    def change(db) -> None:  # noqa: ANN001
        staff_accounts.set_roles(db, args.username, _roles(args.roles), _operator())

    code = _run(args, change)
    if not code:
        print(f"{args.username}: roles {args.roles}; their sessions are ended")
    return code


def cmd_list(args: argparse.Namespace) -> int:
    from bridge.registry import staff_accounts

    registry = _registry(args)
    with registry.reading() as db:
        for row in staff_accounts.accounts(db):
            state = "disabled" if row.disabled_at else "enabled"
            print(f"{row.username}\t{row.kind}\t{row.roles}\t{state}")
    registry.dispose()
    return 0


def cmd_token_add(args: argparse.Namespace) -> int:
    from bridge.registry import staff_accounts

    secret: list[str] = []

    def change(db) -> None:  # noqa: ANN001
        secret.append(staff_accounts.add_token(db, args.name, _roles(args.role), _operator()))

    code = _run(args, change)
    if not code:
        print(f"token api-token:{args.name} added; its secret (shown this once, not again):")
        print(f"  {secret[0]}")
    return code


def cmd_token_disable(args: argparse.Namespace) -> int:
    from bridge.registry import staff_accounts

    code = _run(args, lambda db: staff_accounts.disable_token(db, args.name, _operator()))
    if not code:
        print(f"token api-token:{args.name} disabled")
    return code
