"""`watchdog explain`: each probe's plan (scans, estimated rows, cost) without running it, and the
index to create where a probe would read a large table in full. Exit 0 when no probe would, 1 when
one would (so CI can hold the line), 3 when a plan could not be had."""
from __future__ import annotations

import argparse

from watchdog.commands.common import add_config, add_selection
from watchdog.compiler.batch import Batch, split
from watchdog.compiler.probe import Probe
from watchdog.errors import ExitCode
from watchdog.plan import build_plan, config_path
from watchdog.probing.connection import ProbeFailure, connect
from watchdog.probing.dsn import scrub
from watchdog.probing.explain import LARGE_TABLE, Explanation, explain_item
from watchdog.probing.runner import members, utc_now


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
    batches, alone = split(plan.probes)
    items: list[Batch | Probe] = [*batches, *alone]
    warned = failed = False
    for item in items:
        probes = members(item)
        target = plan.targets[probes[0].rule.target]
        title = f"{', '.join(p.rule.name for p in probes)} on {target.name}"
        try:
            conn = connect(target.dsn, target.connect_timeout, target.statement_timeout)
            try:
                explanation = explain_item(conn, item, utc_now(), target.statement_timeout, args.large)
            finally:
                conn.close()
        except ProbeFailure as exc:
            print(f"{title}\n  ERROR: {scrub(str(exc), plan.secrets)}\n")
            failed = True
            continue
        print(render(title, explanation))
        warned = warned or bool(explanation.advice)
    return ExitCode.PROBE_ERROR if failed else ExitCode.VIOLATED if warned else ExitCode.OK


def render(title: str, explanation: Explanation) -> str:
    kinds = ", ".join(dict.fromkeys(rule.check for rule in explanation.rules))
    cost = f"  cost {explanation.total_cost:,.1f}" if explanation.total_cost is not None else ""
    lines = [f"{title} ({kinds}) [{explanation.dialect}]{cost}"]
    for scan in explanation.scans:
        via = f" using {scan.index}" if scan.index else ""
        rows = f"  ~{rows_label(scan.rows)}" if scan.rows is not None else ""
        lines.append(f"  {scan.method}{via} on {scan.relation}{rows}")
    for advice in explanation.advice:
        lines.append(f"  WARNING: reads all of {advice.relation} (~{rows_label(advice.table_rows)}) on every evaluation")
        if advice.create_index:
            lines.append(f"    {advice.create_index}")
    return "\n".join(lines) + "\n"


def rows_label(count: float) -> str:
    """A row count as a plan line shows it: 1 row, 20,000 rows."""
    shown = f"{count:,.0f}"
    return f"{shown} row" if shown == "1" else f"{shown} rows"
