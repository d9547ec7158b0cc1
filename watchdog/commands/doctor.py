"""`watchdog doctor`: check the rule file against the live database before trusting its verdicts.

Exit codes as `validate`: 0 fine, 1 warnings with --strict, 2 problems (or a bad file)."""
from __future__ import annotations

import argparse

from watchdog.commands.common import add_config, add_selection
from watchdog.doctor.findings import PROBLEM, diagnose
from watchdog.errors import ExitCode
from watchdog.plan import build_plan, config_path


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("doctor", help="check the rules' tables, columns, grants, row-level security, time units, "
                                           "filter values and indexes on the live database")
    add_config(parser)
    add_selection(parser)
    parser.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    plan = build_plan(config_path(args.config), dsn=args.dsn, target=args.target, rules=args.rule)
    findings = diagnose(plan)
    for finding in findings:
        print(finding)
    problems = sum(1 for f in findings if f.level == PROBLEM)
    warnings = len(findings) - problems
    if not findings:
        print(f"doctor: the {len(plan.probes)} rule(s) check out against the database")
        return ExitCode.OK
    print(f"doctor: {problems} problem(s), {warnings} warning(s)")
    if problems:
        return ExitCode.USAGE
    return ExitCode.VIOLATED if args.strict else ExitCode.OK
