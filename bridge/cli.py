"""`edc-bridge`: the sidecar's command line (credential work, the server, the registry's tools).

Each group of subcommands lives in its own module under `bridge/commands/` and registers itself
here, so the credential tools work even where the server's dependencies are not configured.
"""
from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = (
    "bridge.commands.credential",  # issue, verify
    "bridge.commands.server",  # serve, audit, ...
    "bridge.commands.catalogue",  # export-courses (Europass)
    "bridge.commands.staff",  # staff add|disable|role|list, staff token add|disable
    "bridge.commands.bulk",  # bulk template | check | issue (cohort spreadsheets)
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edc-bridge", description="Issue, seal, deliver and verify European Digital Credentials."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a group not built yet; its absence is not an error
            if exc.name == name:
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
