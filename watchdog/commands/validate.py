"""`watchdog validate`: the file and every rule are checked (and compiled); silent on success but
for warnings (on stderr, exit 0) about what is valid but most likely not meant: silences for now."""
from __future__ import annotations

import argparse
import sys

from watchdog.commands.common import add_config
from watchdog.errors import ExitCode
from watchdog.evaluation.execute import utc_now
from watchdog.plan import build_plan, config_path
from watchdog.silences.lint import silence_warnings


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("validate", help="check the rule file; prints nothing on success but warnings")
    add_config(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    plan = build_plan(config_path(args.config))
    for warning in silence_warnings(plan.rule_file, utc_now()):
        print(warning, file=sys.stderr)
    return ExitCode.OK
