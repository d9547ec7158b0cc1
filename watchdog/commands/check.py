"""`watchdog check`: run the selected probes once (or until they hold, with --wait); exit = verdict."""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from watchdog.commands.common import add_config, add_selection, claim_output, duration_arg, exit_code, write_output
from watchdog.model.durations import format_duration
from watchdog.errors import UsageError
from watchdog.output import jsonfmt, junit, text
from watchdog.plan import Plan, build_plan, config_path
from watchdog.evaluation.evaluator import Evaluator
from watchdog.probing.privileges import role_warnings
from watchdog.results.model import Result

RENDERERS = {"text": text.render, "json": jsonfmt.render, "junit": junit.render}
EVERY = 30.0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("check", help="run the probes once; exit 0 all hold, 1 violated, 3 a probe failed")
    add_config(parser)
    add_selection(parser)
    parser.add_argument("--tag", action="append", default=[], metavar="TAG", help="only rules with this tag (repeatable)")
    parser.add_argument("--format", choices=sorted(RENDERERS), default="text")
    parser.add_argument("--output", metavar="PATH", help="write the report here (the text table still goes to stdout)")
    parser.add_argument("--wait", type=duration_arg, metavar="DURATION", help="re-run rules that do not hold until all hold or this time is up")
    parser.add_argument("--every", type=duration_arg, metavar="DURATION", help=f"pause between tries with --wait (default {format_duration(EVERY)})")
    parser.set_defaults(handler=handle)


def run_until_held(plan: Plan, wait: float | None, every: float, sleep: Callable[[float], None] = time.sleep,
                   monotonic: Callable[[], float] = time.monotonic, warn: bool = False) -> list[Result]:
    """Evaluate; with `wait`, re-evaluate only the rules that do not hold until they all do or time
    runs out. `warn`: first print a warning per target whose role could write, looked up on the
    connection the probes then use."""
    evaluator = Evaluator(plan.targets, secrets=plan.secrets)
    try:
        for warning in role_warnings(plan.probes, evaluator.session) if warn else ():
            print(warning, file=sys.stderr)
        return _until_held(evaluator, plan, wait, every, sleep, monotonic)
    finally:
        evaluator.close()


def _until_held(evaluator: Evaluator, plan: Plan, wait: float | None, every: float, sleep: Callable[[float], None],
                monotonic: Callable[[], float]) -> list[Result]:
    results = evaluator.evaluate(plan.probes)
    if not wait:
        return results
    deadline = monotonic() + wait
    tries = 1
    while True:
        pending = [i for i, r in enumerate(results) if not r.ok]
        left = deadline - monotonic()
        if not pending:
            print(f"watchdog: all {len(results)} rules hold after {tries} tr{'y' if tries == 1 else 'ies'}", file=sys.stderr)
            return results
        if left <= 0:
            print(f"watchdog: gave up after {format_duration(wait)}: {len(pending)} rule(s) still do not hold", file=sys.stderr)
            return results
        names = ", ".join(results[i].rule for i in pending[:5]) + (" ..." if len(pending) > 5 else "")
        pause = min(every, left)
        print(f"watchdog: {len(pending)} of {len(results)} rules do not hold yet ({names}); "
              f"next try in {format_duration(round(pause))}, {format_duration(round(left))} left", file=sys.stderr)
        sleep(pause)
        rerun = evaluator.evaluate([plan.probes[i] for i in pending])
        for index, result in zip(pending, rerun):
            results[index] = result
        tries += 1


def _known_tags(plan: Plan, tags: list[str]) -> None:
    """A tag no rule carries is a typo that would select nothing and pass: refuse it (exit 2)."""
    known = sorted({tag for rule in plan.rule_file.rules for tag in rule.tags})
    unknown = [tag for tag in tags if tag not in known]
    if unknown:
        listed = ", ".join(known) if known else "none: no rule has tags"
        raise UsageError(f"no rule has tag {', '.join(repr(t) for t in unknown)} in {plan.rule_file.path} (tags: {listed})")


def handle(args: argparse.Namespace) -> int:
    if args.every is not None and not args.wait:
        raise UsageError("--every needs --wait")
    if args.every is not None and args.every <= 0:
        raise UsageError("--every must be longer than 0s")
    plan = build_plan(config_path(args.config), dsn=args.dsn, target=args.target, rules=args.rule, tags=args.tag)
    _known_tags(plan, args.tag)
    claim_output(args.output)
    results = run_until_held(plan, args.wait, EVERY if args.every is None else args.every, warn=True)
    rules = {rule.name: rule for rule in plan.rules}
    report = RENDERERS[args.format](results, rules=rules)
    write_output(report, args.output)
    if args.output:
        sys.stdout.write(text.render(results, rules=rules))
    return exit_code(results)
