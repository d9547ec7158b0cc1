"""The bench's one door into watchdog's internals: everything it calls below the command line is here.

watchdog's evaluator (`watchdog.evaluation`) is the one every command uses; this module is the only
one of the bench that knows its API. The rest of the bench sees
a loaded rule set, rule names, an evaluation it can call again and again on one open connection,
and each result as (rule, status, what the floor must match).
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dataclasses import replace

from watchdog.commands.explain import render as render_plan
from watchdog.demo.schema import TABLES, create_statements
from watchdog.dialects import DIALECTS
from watchdog.evaluation.evaluator import Evaluator
from watchdog.evaluation.execute import utc_now
from watchdog.evaluation.explain import explain_item
from watchdog.evaluation.units import Unit, plan_units
from watchdog.plan import Plan, build_plan
from watchdog.probing.connection import PostgresConnection
from watchdog.runtime.watchdog import Watchdog

WARM_RUNS = 6  # the floor's psycopg prepares on the 5th execution (watchdog on the 2nd): measure after that


@dataclass(frozen=True)
class Outcome:
    """One rule's result as the floor can match it: the violation count of a row-level rule, the
    value of an aggregate one (a count, a ratio, an age in seconds)."""

    rule: str
    status: str
    measure: float | None


def load(path: Path, dsn: str | None = None) -> Plan:
    """The rule file compiled, its targets pointed at `dsn` (else $DATABASE_URL as the file says)."""
    return build_plan(path, env={**os.environ, **({"DATABASE_URL": dsn} if dsn else {})})


def bench_rules(source: Path, work: Path) -> Path:
    """rules.yaml less its `schedule` rules, which bench/schedules.py measures on a pg_cron-shaped data
    set of their own (and Soda and dbt have nothing to compare them with)."""
    import yaml

    document = yaml.safe_load(source.read_text(encoding="utf-8"))
    document["rules"] = [rule for rule in document["rules"] if rule.get("check") != "schedule"]
    work.mkdir(parents=True, exist_ok=True)
    path = work / "rules.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def rule_names(plan: Plan) -> list[str]:
    return [p.rule.name for p in plan.probes]


def rule_kind(plan: Plan, name: str) -> str:
    return next(p.rule.check for p in plan.probes if p.rule.name == name)


def batches(plan: Plan) -> list[list[str]]:
    """The rules that share one query, as the evaluator groups them (groups of two or more)."""
    return [[p.rule.name for p in unit.probes] for unit in plan_units(plan.probes) if len(unit.probes) > 1]


def demo_ddl() -> list[str]:
    """CREATE TABLE and CREATE INDEX of the demo schema, for PostgreSQL."""
    return create_statements(DIALECTS["postgresql"])


def demo_tables() -> list[str]:
    return [table.name for table in TABLES]


class Session:
    """One open watchdog connection to the bench's target; evaluations of the plan, or of some of
    its rules, run on it as `watchdog run` runs a cycle: work compiled once, cutoffs bound, probes
    run, results judged. The connection's setup is outside every figure."""

    def __init__(self, plan: Plan, dsn: str) -> None:
        self.plan = plan
        # Opened as the evaluator's pool opens a target's connections: with the target's
        # statement_timeout as the session's, so no probe needs a SET first (one round trip a
        # cycle that `watchdog run` never pays, once the session was reset after a `sql` rule).
        [timeout] = {t.statement_timeout for t in plan.targets.values()}
        self._conn = PostgresConnection(dsn, 5.0, timeout)
        self.close = self._conn.close  # the evaluator closes what its connector gave: keep it open
        self._conn.close = lambda: None  # type: ignore[method-assign]

    def _connector(self, dsn: str, connect_timeout: float, statement_timeout: float, **_: Any) -> PostgresConnection:
        return self._conn

    def cycle(self, rules: Sequence[str] | None = None, batched: bool = True, warm: bool = True) -> Callable[[], list[Any]]:
        """An evaluation of `rules` (all by default), warmed up unless `warm` is false;
        `batched=False`: one query per rule."""
        probes = [p for p in self.plan.probes if rules is None or p.rule.name in rules]
        units = plan_units(probes) if batched else [Unit(p) for p in probes]
        # One connection, as the floor has: the pool holds at most one, so units run one after another.
        targets = {name: replace(target, pool_size=1) for name, target in self.plan.targets.items()}
        evaluator = Evaluator(targets, connector=self._connector)

        def run() -> list[Any]:
            return evaluator.evaluate(probes, units)
        for _ in range(WARM_RUNS if warm else 0):  # steady state, as in the daemon: caches warm, statements prepared
            run()
        return run

    def outcomes(self, rules: Sequence[str] | None = None) -> dict[str, Outcome]:
        shapes = {p.rule.name: p.shape for p in self.plan.probes}
        return {r.rule: Outcome(r.rule, r.status, float(r.violations) if shapes[r.rule] == "rows" else r.value)
                for r in self.cycle(rules, warm=False)()}

    def intercept(self, around: Callable[[Callable[[str, dict[str, Any]], Any], str, dict[str, Any]], Any]) -> None:
        """Every statement of this session goes through `around(run, sql, params)`, which may change
        what runs or not run it at all (bench/gap.py's experiments; the measured figures never do).
        Statements the evaluator hands over together then run one by one."""
        conn = self._conn
        plain = conn.query
        conn.query = lambda sql, params, timeout, guarded=True: around(  # type: ignore[method-assign]
            lambda s, p: plain(s, p, timeout, guarded), sql, params)
        conn.query_many = lambda statements: [  # type: ignore[method-assign]
            conn.query(s.sql, s.params, s.timeout, s.guarded) for s in statements]

    def time_resets(self) -> Callable[[], float]:
        """From now on, the seconds spent resetting the session after user SQL (one round trip each)."""
        conn, spent = self._conn, [0.0]
        plain = conn._reset

        def reset() -> None:
            started = time.perf_counter()
            try:
                plain()
            finally:
                spent[0] += time.perf_counter() - started
        conn._reset = reset  # type: ignore[method-assign]
        return lambda: spent[0]

    @property
    def raw(self) -> Any:
        """The psycopg connection under watchdog's: hand-written SQL on the very same session."""
        return self._conn._conn


def explain_warnings(plan: Plan, dsn: str) -> list[str]:
    """`watchdog explain`'s warnings for the plan: sequential scans of large tables, per query."""
    conn = PostgresConnection(dsn, 5.0, 30.0)
    warnings = []
    try:
        for unit in plan_units(plan.probes):
            explanation = explain_item(conn, unit.batch or unit.probes[0], utc_now(), 30.0)
            title = unit.name
            warnings += [f"{title}: {line.strip()}" for line in render_plan(title, explanation).splitlines() if "WARNING" in line]
    finally:
        conn.close()
    return warnings


@contextmanager
def runtime(path: Path, state: Path) -> Iterator[Callable[[], Any]]:
    """One evaluation cycle of the daemon's runtime (its pool and state), callable again and again."""
    watchdog = Watchdog(build_plan(path), state=state, notifiers={})
    try:
        yield watchdog.check
    finally:
        watchdog.close()
