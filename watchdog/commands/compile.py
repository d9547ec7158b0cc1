"""`watchdog compile`: the SQL of each probe with its bound parameters, for review and EXPLAIN."""
from __future__ import annotations

import argparse
from typing import Any

from watchdog.commands.common import add_config
from watchdog.errors import ExitCode
from watchdog.plan import build_plan, config_path
from watchdog.probing.dsn import scrub

MASK = "*** (from a variable)"


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("compile", help="print each probe's SQL and bound parameters")
    add_config(parser)
    parser.add_argument("--rule", action="append", default=[], metavar="NAME", help="only this rule (repeatable)")
    parser.add_argument("--dialect", choices=("postgresql", "sqlite"), help="compile for this dialect instead of the target's")
    parser.set_defaults(handler=handle)


def shown(value: Any, expanded: frozenset[str]) -> str:
    """A bound value as the listing shows it: one that came from a ${VAR} is masked, however short."""
    if isinstance(value, str) and value in expanded:
        return MASK
    if isinstance(value, (list, tuple)):
        return f"[{', '.join(shown(v, expanded) for v in value)}]"
    return str(value) if hasattr(value, "unit") else repr(value)


def handle(args: argparse.Namespace) -> int:
    plan = build_plan(config_path(args.config), rules=args.rule, dialect=args.dialect)
    expanded = plan.rule_file.expanded
    chunks = []
    for probe in plan.probes:
        rule = probe.rule
        params = "\n".join(f"--   {key} = {shown(value, expanded)}" for key, value in probe.params.items())
        chunks.append(
            f"-- rule {rule.name} ({rule.check}) on target {rule.target} [{probe.dialect.name}]\n"
            f"{probe.sql};\n-- parameters:\n{params or '--   (none)'}\n"
        )
    # A variable's value may also sit in SQL text (where_sql, a query): scrubbed there too.
    print(scrub("\n".join(chunks), plan.secrets), end="")
    return ExitCode.OK
