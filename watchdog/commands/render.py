"""`watchdog render prometheus-rules`: artifacts for other tools, generated from the rule file."""
from __future__ import annotations

import argparse

from watchdog.commands.common import add_config, write_output
from watchdog.errors import ExitCode
from watchdog.plan import build_plan, config_path
from watchdog.render.prometheus import render


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("render", help="generate files for other tools from the rule file")
    kinds = parser.add_subparsers(dest="artifact", required=True, metavar="ARTIFACT")
    rules = kinds.add_parser("prometheus-rules", help="Prometheus alerting rules, one alert per enabled rule")
    add_config(rules)
    rules.add_argument("-o", "--output", metavar="PATH", help="write to PATH instead of standard output")
    rules.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    path = config_path(args.config)
    plan = build_plan(path)
    write_output(render(plan.rules, path.name), args.output)
    return ExitCode.OK
