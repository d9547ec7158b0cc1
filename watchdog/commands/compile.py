"""`watchdog compile`: the SQL of each probe with its bound parameters, and how the rules are grouped
into work units (one scan per table where rules share one): what every command will run."""
from __future__ import annotations

import argparse

from watchdog.commands.common import add_config
from watchdog.compiler.batch import Batch
from watchdog.errors import ExitCode
from watchdog.evaluation.explain import batch_notes
from watchdog.evaluation.units import plan_units
from watchdog.output.listing import parameters, probe_listing
from watchdog.plan import build_plan, config_path
from watchdog.probing.dsn import scrub


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("compile", help="print each probe's SQL and bound parameters, and the batches rules share")
    add_config(parser)
    parser.add_argument("--rule", action="append", default=[], metavar="NAME", help="only this rule (repeatable)")
    parser.add_argument("--dialect", help="compile for this dialect instead of the target's (postgresql, sqlite, mysql, duckdb)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    plan = build_plan(config_path(args.config), rules=args.rule, dialect=args.dialect)
    expanded = plan.rule_file.expanded
    chunks = []
    for unit in plan_units(plan.probes):
        if isinstance(unit.item, Batch):
            chunks.append(_batch(unit.item, expanded))
        chunks += [probe_listing(probe, expanded) for probe in unit.probes]
    # A variable's value may also sit in SQL text (where_sql, a query): scrubbed there too.
    print(scrub("\n".join(chunks), plan.secrets), end="")
    return ExitCode.OK


def _batch(batch: Batch, expanded: frozenset[str]) -> str:
    notes = "".join(f"-- {note}\n" for note in batch_notes(batch))
    names = ", ".join(p.rule.name for p in batch.members)
    return (f"-- batch of {names} on target {batch.members[0].rule.target} [{batch.dialect.name}]\n{notes}"
            f"-- each rule's count is its column wd_b0, wd_b1, ...; rules found violated then fetch their samples\n"
            f"{batch.sql};\n{parameters(batch.params, expanded)}")
