"""`watchdog compile`: the SQL of each probe with its bound parameters, and how the rules are grouped
into work units (one scan per table where rules share one): what every command will run."""
from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from watchdog.commands.common import add_config
from watchdog.compiler.batch import Batch
from watchdog.compiler.probe import Probe
from watchdog.errors import ExitCode
from watchdog.evaluation.explain import batch_notes
from watchdog.evaluation.units import plan_units
from watchdog.plan import build_plan, config_path


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("compile", help="print each probe's SQL and bound parameters, and the batches rules share")
    add_config(parser)
    parser.add_argument("--rule", action="append", default=[], metavar="NAME", help="only this rule (repeatable)")
    parser.add_argument("--dialect", help="compile for this dialect instead of the target's (postgresql, sqlite, mysql, duckdb)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    plan = build_plan(config_path(args.config), rules=args.rule, dialect=args.dialect)
    chunks = []
    for unit in plan_units(plan.probes):
        if isinstance(unit.item, Batch):
            chunks.append(_batch(unit.item))
        chunks += [_probe(probe) for probe in unit.probes]
    print("\n".join(chunks), end="")
    return ExitCode.OK


def _batch(batch: Batch) -> str:
    notes = "".join(f"-- {note}\n" for note in batch_notes(batch))
    names = ", ".join(p.rule.name for p in batch.members)
    return (f"-- batch of {names} on target {batch.members[0].rule.target} [{batch.dialect.name}]\n{notes}"
            f"-- each rule's count is its column wd_b0, wd_b1, ...; rules found violated then fetch their samples\n"
            f"{batch.sql};\n{_parameters(batch.params)}")


def _probe(probe: Probe) -> str:
    rule = probe.rule
    return (f"-- rule {rule.name} ({rule.check}) on target {rule.target} [{probe.dialect.name}]\n"
            f"{probe.sql};\n{_parameters(probe.params)}")


def _parameters(params: Mapping[str, Any]) -> str:
    """Bound values; time-dependent ones (cutoffs, bucket edges) say how they are bound."""
    lines = [f"--   {key} = {value}" if hasattr(value, "unit") else f"--   {key} = {value!r}" for key, value in params.items()]
    return "-- parameters:\n" + ("\n".join(lines) or "--   (none)") + "\n"
