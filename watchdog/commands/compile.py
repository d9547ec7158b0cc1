"""`watchdog compile`: the SQL of each probe with its bound parameters, for review and EXPLAIN."""
from __future__ import annotations

import argparse

from watchdog.commands.common import add_config
from watchdog.errors import ExitCode
from watchdog.plan import build_plan, config_path


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("compile", help="print each probe's SQL and bound parameters")
    add_config(parser)
    parser.add_argument("--rule", action="append", default=[], metavar="NAME", help="only this rule (repeatable)")
    parser.add_argument("--dialect", choices=("postgresql", "sqlite"), help="compile for this dialect instead of the target's")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    plan = build_plan(config_path(args.config), rules=args.rule, dialect=args.dialect)
    chunks = []
    for probe in plan.probes:
        rule = probe.rule
        params = "\n".join(f"--   {key} = {value!r}" if not hasattr(value, "unit") else f"--   {key} = {value}" for key, value in probe.params.items())
        chunks.append(
            f"-- rule {rule.name} ({rule.check}) on target {rule.target} [{probe.dialect.name}]\n"
            f"{probe.sql};\n-- parameters:\n{params or '--   (none)'}\n"
        )
    print("\n".join(chunks), end="")
    return ExitCode.OK
