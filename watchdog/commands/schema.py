"""`watchdog schema`: JSON Schema of the rule file, for editors (yaml-language-server and friends)."""
from __future__ import annotations

import argparse
import json

from watchdog.catalogue.registry import load_registry
from watchdog.config.jsonschema import rule_file_schema
from watchdog.errors import ConfigError, ExitCode


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("schema", help="print the JSON Schema of the rule file")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    registry, problems = load_registry()
    if problems:
        raise ConfigError(problems)
    print(json.dumps(rule_file_schema(registry), indent=2))
    return ExitCode.OK
