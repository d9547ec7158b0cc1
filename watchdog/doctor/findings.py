"""The doctor's findings for a plan: problems (the rule cannot be trusted) and warnings.

Per target, one connection reads the catalogue (tables, columns, grants, row-level security,
column types against `time_unit`, filter values that match nothing); then every probe runs once
and every work unit is explained, through the evaluator the other commands use.
"""
from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

from watchdog.config.model import Rule, Target
from watchdog.dialects.base import Dialect
from watchdog.doctor.catalog import DESCRIBED, Table, all_null, describe, has_rows, matches, some_values
from watchdog.doctor.uses import Use, uses
from watchdog.errors import Location
from watchdog.evaluation.evaluator import Evaluator
from watchdog.evaluation.explain import Advice
from watchdog.evaluation.units import plan_units
from watchdog.plan import Plan
from watchdog.probing.connection import Connection, ProbeFailure, connect
from watchdog.probing.dsn import dialect_of, scrub

PROBLEM, WARNING = "problem", "warning"
_TIME_WORDS = ("timestamp", "datetime", "date", "time")
_NUMBER_WORDS = ("int", "numeric", "decimal", "double", "real", "float")


@dataclass(frozen=True, order=True)
class Finding:
    location: Location | None
    rule: str | None
    level: str
    message: str

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        who = f"rule '{self.rule}': " if self.rule else ""
        return f"{where}{who}{self.level}: {self.message}"


Connector = Callable[..., Connection]


def diagnose(plan: Plan, connector: Connector = connect) -> list[Finding]:
    found: list[Finding] = []
    for name, target in plan.targets.items():
        rules = [r for r in plan.rules if r.target == name]
        if rules and dialect_of(target.dsn).name in DESCRIBED:
            found += _catalogue(target, rules, connector, plan.secrets)
    found += _probes(plan, connector)
    return sorted(dict.fromkeys(found), key=lambda f: (f.location or Location("", 0, 0), f.level, f.message))


def _catalogue(target: Target, rules: list[Rule], connector: Connector, secrets: frozenset[str]) -> list[Finding]:
    try:
        conn = connector(target.dsn, target.connect_timeout, target.statement_timeout, target.tables)
    except ProbeFailure as exc:
        return [Finding(target.location, None, PROBLEM, f"target '{target.name}': {scrub(str(exc), secrets)}")]
    inspector = _Inspector(conn, dialect_of(target.dsn), target.statement_timeout)
    try:
        return [f for rule in rules for use in uses(rule) for f in inspector.findings(rule, use, secrets)]
    finally:
        conn.close()


class _Inspector:
    """Catalogue facts per table, read once for all the rules that use it."""

    def __init__(self, conn: Connection, dialect: Dialect, timeout: float) -> None:
        self.conn, self.dialect, self.timeout = conn, dialect, timeout
        self._tables: dict[str, tuple[Table | None, bool]] = {}

    def table(self, name: str) -> tuple[Table | None, bool]:
        """The table (None if missing) and whether the role sees any of its rows."""
        if name not in self._tables:
            table = describe(self.conn, self.dialect, name, self.timeout)
            seen = table is not None and table.readable and has_rows(self.conn, self.dialect, name, self.timeout)
            self._tables[name] = (table, seen)
        return self._tables[name]

    def findings(self, rule: Rule, use: Use, secrets: frozenset[str]) -> list[Finding]:
        def finding(level: str, message: str) -> Finding:
            return Finding(rule.location, rule.name, level, message)

        try:
            table, seen = self.table(use.table)
        except ProbeFailure as exc:
            return [finding(PROBLEM, f"cannot read the catalogue for {use.table}: {scrub(str(exc), secrets)}")]
        if table is None:
            return [finding(PROBLEM, f"table {use.table} does not exist (or is not on the search_path of the target's role)")]
        if not table.readable:
            return [finding(PROBLEM, f"role '{table.role}' cannot read {use.table}: GRANT SELECT ON {use.table} TO {table.role}")]
        out = [finding(PROBLEM, m) for m in _column_problems(table, use)]
        if table.rls_applies:
            out.append(finding(PROBLEM, f"row-level security on {use.table} hides every row from role '{table.role}', so rules "
                                        f"over it would hold on nothing: ALTER ROLE {table.role} BYPASSRLS, or read it through a "
                                        f"view whose owner sees the rows") if not seen else
                       finding(WARNING, f"row-level security on {use.table} filters the rows role '{table.role}' reads: "
                                        f"rules judge only those"))
        out += [finding(PROBLEM, m) for m in _unit_problems(table, use)]
        expect = rule.params.get("expect")
        if seen and not out and not (expect is not None and expect.holds(0)):  # `== 0`: no match is the point
            out += [finding(WARNING, m) for m in self._unmatched(use, secrets)]
        if seen and not out:
            out += [finding(WARNING, m) for m in self._blank(use, secrets)]
        return out

    def _blank(self, use: Use, secrets: frozenset[str]) -> list[str]:
        """Columns the rule groups, keys or ages rows by that are NULL in every row: one group, no
        age (Celery writes task_name and date_started only with result_extended and task_track_started)."""
        out = []
        for column in use.telling:
            try:
                if all_null(self.conn, self.dialect, use.table, column, self.timeout):
                    out.append(f"{column} is NULL in every row of {use.table}: the rule cannot tell rows apart or age them by it")
            except ProbeFailure as exc:
                out.append(f"cannot read {column} of {use.table}: {scrub(str(exc), secrets)}")
        return out

    def _unmatched(self, use: Use, secrets: frozenset[str]) -> list[str]:
        """Filter values no row has (a typo such as `status: runing`), with the closest real one."""
        out = []
        for column, value in use.filters:
            try:
                if matches(self.conn, self.dialect, use.table, column, value, self.timeout):
                    continue
                known = [str(v) for v in some_values(self.conn, self.dialect, use.table, column, self.timeout)]
            except ProbeFailure as exc:
                out.append(f"cannot compare {column} with {value!r}: {scrub(str(exc), secrets)}")
                continue
            close = difflib.get_close_matches(str(value), known, n=1, cutoff=0.6)
            out.append(f"where {column}: {value!r} matches no row of {use.table}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        return out


def _column_problems(table: Table, use: Use) -> list[str]:
    out = []
    for column in use.columns:
        if column not in table.columns:
            close = difflib.get_close_matches(column, list(table.columns), n=1, cutoff=0.6)
            out.append(f"column {column} does not exist in {use.table}" + (f" (did you mean {close[0]}?)" if close else ""))
        elif column in table.unreadable_columns:
            out.append(f"role '{table.role}' cannot read column {column} of {use.table}")
    return out


def _unit_problems(table: Table, use: Use) -> list[str]:
    """A time column's type against the unit the rule reads it in."""
    out = []
    for column, unit in use.times:
        kind = table.columns.get(column, "").lower()
        if unit in ("s", "ms") and any(w in kind for w in _TIME_WORDS):
            out.append(f"time_unit: {unit} reads {column} as epoch numbers, but it is {kind}: remove time_unit "
                       f"(a timestamp is compared as it is)")
        elif unit == "timestamp" and any(w in kind for w in _NUMBER_WORDS):
            out.append(f"{column} is {kind}, not a timestamp: if it holds epoch seconds or milliseconds, set time_unit: s or ms")
    return out


def _probes(plan: Plan, connector: Connector) -> list[Finding]:
    """Every probe run once (an error is a problem) and every unit explained (a full scan of a
    large table is a warning with its index)."""
    evaluator = Evaluator(plan.targets, connector=connector, secrets=plan.secrets)
    out: list[Finding] = []
    try:
        for result, probe in zip(evaluator.evaluate(plan.probes), plan.probes):
            if result.status == "error":
                out.append(Finding(probe.rule.location, probe.rule.name, PROBLEM, f"its probe fails: {result.error}"))
        for unit in plan_units(plan.probes):
            first = unit.probes[0].rule
            try:
                explanation = evaluator.explain(unit)
            except ProbeFailure:
                continue  # the probe's own error is reported above
            out += [Finding(first.location, first.name, WARNING, _advice(a)) for a in explanation.advice]
    finally:
        evaluator.close()
    return out


def _advice(advice: Advice) -> str:
    fix = f": {advice.create_index}" if advice.create_index else ""
    return f"reads all of {advice.relation} (~{advice.table_rows:,.0f} rows) on every evaluation{fix}"
