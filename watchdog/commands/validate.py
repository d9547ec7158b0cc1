"""`watchdog validate`: the file and every rule are checked (and compiled); silent on success."""
from __future__ import annotations

import argparse

from watchdog.commands.common import add_config
from watchdog.errors import ExitCode
from watchdog.plan import build_plan, config_path


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("validate", help="check the rule file; prints nothing on success")
    add_config(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    build_plan(config_path(args.config))
    return ExitCode.OK
