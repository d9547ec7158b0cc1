"""Arguments and steps several commands share."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from watchdog.errors import ExitCode, UsageError
from watchdog.model.durations import parse_duration
from watchdog.results.model import Result


def add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", metavar="FILE", help="rule file (default: $WATCHDOG_CONFIG, then ./rules.yaml)")


def add_selection(parser: argparse.ArgumentParser) -> None:
    """--dsn, --target and --rule: which database and which rules a command works on."""
    parser.add_argument("--dsn", help="use this DSN instead of the target's (secrets are never printed)")
    parser.add_argument("--target", metavar="NAME", help="only rules of this target")
    parser.add_argument("--rule", action="append", default=[], metavar="NAME", help="only this rule (repeatable)")


def duration_arg(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def exit_code(results: Sequence[Result]) -> ExitCode:
    """3 wins over 1: a probe that could not run is never reported as holding."""
    if any(r.status == "error" for r in results):
        return ExitCode.PROBE_ERROR
    if any(r.status == "violated" for r in results):
        return ExitCode.VIOLATED
    return ExitCode.OK


def write_output(text: str, path: str | None, mode: str = "w") -> None:
    if path is None:
        sys.stdout.write(text)
        return
    try:
        with open(path, mode, encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


def claim_output(path: str | None) -> None:
    """Fail before any probe runs, not after a 30-minute --wait, when the report cannot be written."""
    if path is not None:
        write_output("", path, mode="a")
