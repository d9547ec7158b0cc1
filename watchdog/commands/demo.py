"""`watchdog demo`: the whole loop on a database holding a replay of every seed report's incident.

The rule file is compiled first, so a bad file changes nothing; then the demo tables are built and
the rules run against them with the target DSN overridden. Exit 1 is the expected outcome.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from watchdog.commands.common import add_config, exit_code
from watchdog.demo.incidents import SEEDS, dataset
from watchdog.demo.load import LoadError, load
from watchdog.demo.runlog import write_runlog
from watchdog.demo.schema import TABLES
from watchdog.errors import ExitCode
from watchdog.output import jsonfmt, text
from watchdog.plan import build_plan, config_path
from watchdog.probing.dsn import redact
from watchdog.commands.check import run_until_held
from watchdog.evaluation.execute import utc_now

RENDERERS = {"text": text.render, "json": jsonfmt.render}
# The project's top-level rules.yaml, installed with the package (a link to it in a checkout).
EXAMPLE_RULES = Path(__file__).resolve().parent.parent / "demo" / "rules.yaml"


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    tables = ", ".join(table.name for table in TABLES)
    parser = sub.add_parser(
        "demo", help="build a database replaying the seed incidents and run the rules on it (exits 1)",
        description="Build a database holding a healthy scheduler plus a replay of each seed report's incident, "
                    "then run the rule file against it. By default the database is a temporary SQLite file. "
                    f"WARNING: --db and --dsn DROP AND RECREATE the demo tables ({tables}) in that "
                    "database; no other table is touched.")
    add_config(parser)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--db", metavar="PATH",
                       help="keep the SQLite database in this file (its demo tables are dropped and recreated)")
    where.add_argument("--dsn", help="build in this database instead (postgresql://..., mysql://... or sqlite:///path); "
                                     "DROPS AND RECREATES the demo tables there")
    where.add_argument("--runlog", metavar="DIR",
                       help="instead, write seed 000 as the scheduler's run-history files, DIR/automation-runs/*.jsonl, "
                            "and DIR/runlog.yaml, the rules that read them (watchdog check -c DIR/runlog.yaml)")
    parser.add_argument("--format", choices=sorted(RENDERERS), default="text")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if args.runlog:
        return write_runlog_files(Path(args.runlog))
    with tempfile.TemporaryDirectory(prefix="watchdog-demo-") as scratch:
        dsn = args.dsn or f"sqlite:///{args.db or os.path.join(scratch, 'demo.db')}"
        plan = build_plan(rules_path(args.config), dsn=dsn)
        now = utc_now()
        try:
            load(dsn, dataset(now, [seed.id for seed in SEEDS]))
        except LoadError as exc:
            print(f"watchdog: {exc}", file=sys.stderr)
            return ExitCode.PROBE_ERROR
        # With --format json stdout carries only the report.
        log = sys.stderr if args.format == "json" else sys.stdout
        print(f"Built the demo database {redact(dsn)} at {now:%Y-%m-%d %H:%M:%S} UTC: a healthy scheduler plus", file=log)
        for seed in SEEDS:
            print(f"  seed {seed.id}  {', '.join(seed.tables)}: {seed.story}", file=log)
        print(f"Running {len(plan.probes)} rules from {plan.rule_file.path}:\n", file=log, flush=True)
        results = run_until_held(plan, wait=None, every=0.0)
        sys.stdout.write(RENDERERS[args.format](results))
        return exit_code(results)


def write_runlog_files(directory: Path) -> int:
    now = utc_now()
    try:
        written = write_runlog(directory, now)
    except OSError as exc:
        print(f"watchdog: cannot write the run-history files in {directory}: {exc.strerror}", file=sys.stderr)
        return ExitCode.USAGE
    *logs, rules = written
    print(f"Wrote seed 000 at {now:%Y-%m-%d %H:%M:%S} UTC as run-history files: production's runs every 5 minutes, "
          "and staging's CronService running the last 3 slots again:")
    for path in logs:
        print(f"  {path}")
    print(f"and the rules that read them, {rules}. Check them (exits 1, needs pip install 'scheduler-watchdog[files]'):\n"
          f"  watchdog check -c {rules}")
    return ExitCode.OK


def rules_path(explicit: str | None) -> Path:
    """Where the other commands look (-c, $WATCHDOG_CONFIG, ./rules.yaml), else the example rule
    file the package carries: the demo works from any directory, right after `pip install`."""
    path = config_path(explicit)
    if explicit is None and "WATCHDOG_CONFIG" not in os.environ and not path.exists():
        return EXAMPLE_RULES
    return path
