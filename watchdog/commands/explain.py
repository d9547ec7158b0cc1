"""`watchdog explain`: each probe's plan (scans, estimated rows, cost) without running it, and the
index to create where a probe would read a large table in full. Exit 0 when no probe would, 1 when
one would (so CI can hold the line), 3 when a plan could not be had."""
from __future__ import annotations

import argparse

from watchdog.commands.common import add_config, add_selection
from watchdog.errors import ExitCode
from watchdog.evaluation.evaluator import Evaluator
from watchdog.evaluation.explain import LARGE_TABLE, Explanation
from watchdog.evaluation.units import plan_units
from watchdog.plan import build_plan, config_path
from watchdog.probing.connection import ProbeFailure
from watchdog.probing.dsn import scrub


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("explain", help="show each probe's query plan; warn where it would scan a large table")
    add_config(parser)
    add_selection(parser)
    parser.add_argument("--large", type=row_count, default=LARGE_TABLE, metavar="ROWS",
                        help=f"a sequential scan of a table with at least this many rows is a warning (default {LARGE_TABLE:,})")
    parser.set_defaults(handler=handle)


def row_count(text: str) -> int:
    """--large: a whole number of rows, 0 or more (0 warns of every sequential scan)."""
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of rows, got '{text}'") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"a number of rows cannot be negative, got {value}")
    return value


def handle(args: argparse.Namespace) -> int:
    plan = build_plan(config_path(args.config), dsn=args.dsn, target=args.target, rules=args.rule)
    evaluator = Evaluator(plan.targets, secrets=plan.secrets)
    warned = failed = False
    try:
        for unit in plan_units(plan.probes):
            title = f"{unit.name} on {unit.target}"
            try:
                explanation = evaluator.explain(unit, args.large)
            except ProbeFailure as exc:
                print(f"{title}\n  ERROR: {scrub(str(exc), plan.secrets)}\n")
                failed = True
                continue
            print(render(title, explanation))
            warned = warned or bool(explanation.advice)
    finally:
        evaluator.close()
    return ExitCode.PROBE_ERROR if failed else ExitCode.VIOLATED if warned else ExitCode.OK


def render(title: str, explanation: Explanation) -> str:
    kinds = ", ".join(dict.fromkeys(rule.check for rule in explanation.rules))
    cost = f"  cost {explanation.total_cost:,.1f}" if explanation.total_cost is not None else ""
    lines = [f"{title} ({kinds}) [{explanation.dialect}]{cost}"]
    for note in explanation.notes:
        lines.append(f"  {note}")
    for scan in dict.fromkeys(explanation.scans):  # a probe's count and samples scan alike: one line
        via = f" using {scan.index}" if scan.index else ""
        rows = f"  ~{rows_label(scan.rows)}" if scan.rows is not None else ""
        lines.append(f"  {scan.method}{via} on {scan.relation}{rows}")
    for advice in explanation.advice:
        lines.append(f"  WARNING: reads all of {advice.relation} (~{rows_label(advice.table_rows)}) on every evaluation")
        if advice.create_index and not any(scan.index and f'"{scan.index}"' in advice.create_index
                                               for scan in explanation.scans):
            lines.append(f"    {advice.create_index}")
    return "\n".join(lines) + "\n"


def rows_label(count: float) -> str:
    """A row count as a plan line shows it: 1 row, 20,000 rows."""
    shown = f"{count:,.0f}"
    return f"{shown} row" if shown == "1" else f"{shown} rows"
