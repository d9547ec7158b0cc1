"""Predicates to SQL text: the one place a condition becomes SQL, for probes, batches and plans.

Values never enter the text: `Binder.bind` records them and returns a placeholder sentinel that
the dialect's marker replaces at the end (so a literal `%` or `:` in trusted text stays itself).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from watchdog.dialects import Dialect
from watchdog.compiler.frames import Edge
from watchdog.model.conditions import AllOf, AnyOf, Col, Compare, Cutoff, In, InIntervals, IsNull, Missing, Predicate, Raw

_SQL_OPS = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class Binder(Protocol):
    def bind(self, value: Any) -> str: ...

    def cutoff(self, seconds: float, unit: str) -> str: ...


class ConditionSql:
    """Renders predicates for one query. The rule's table is never aliased, so a trusted fragment
    such as `jobs.id > 0` means the same in the rule's own probe and in its batch; a joined
    relation (an orphan's child) has an alias, and inside it the rule's columns are qualified
    with the table's name."""

    def __init__(self, dialect: Dialect, binder: Binder, table: str | None) -> None:
        self.dialect = dialect
        self.binder = binder
        self.table = table

    def column(self, col: Col, qualify: bool = False) -> str:
        name = self.dialect.quote_part(col.name)
        if col.relation is not None:
            return f"{col.relation}.{name}"
        return f"{self.dialect.quote(self.table)}.{name}" if qualify and self.table else name

    def render(self, cond: Predicate, qualify: bool = False) -> str:
        if isinstance(cond, Compare):
            return f"{self.column(cond.column, qualify)} {_SQL_OPS[cond.op]} {self.binder.bind(cond.value)}"
        if isinstance(cond, In):
            if not cond.values:
                return "1 = 1" if cond.negated else "1 = 0"
            marks = ", ".join(self.binder.bind(v) for v in cond.values)
            return f"{self.column(cond.column, qualify)} {'NOT IN' if cond.negated else 'IN'} ({marks})"
        if isinstance(cond, IsNull):
            return f"{self.column(cond.column, qualify)} IS {'NOT ' if cond.negated else ''}NULL"
        if isinstance(cond, Cutoff):
            return f"{self.column(cond.column, qualify)} {cond.op} {self.binder.cutoff(cond.age, cond.unit)}"
        if isinstance(cond, InIntervals):
            # A CASE, not an OR of ranges: PostgreSQL's planner normalizes a negated OR of ANDs at a
            # cost that grows with the arms (1.8 ms to plan 18 of them, for 0.15 ms of execution).
            column = self.column(cond.column, qualify)
            arms = " ".join(f"WHEN {column} >= {self.binder.bind(Edge(cond.frame, i, 'start', cond.unit))} AND "
                            f"{column} < {self.binder.bind(Edge(cond.frame, i, 'end', cond.unit))} THEN 1"
                            for i in range(cond.frame.slots))
            return f"(CASE {arms} ELSE 0 END) = {0 if cond.negated else 1}"
        if isinstance(cond, Raw):
            return f"({cond.sql})"
        if isinstance(cond, AnyOf):
            return "(" + " OR ".join(self.render(p, qualify) for p in cond.parts) + ")"
        if isinstance(cond, AllOf):
            return "(" + " AND ".join(self.render(p, qualify) for p in cond.parts) + ")" if cond.parts else "1 = 1"
        if isinstance(cond, Missing):
            link = [f"{cond.alias}.{self.dialect.quote_part(pair.child)} = {self.dialect.quote(self.table or '')}."
                    f"{self.dialect.quote_part(pair.parent)}" for pair in cond.on]
            inner = link + [self.render(p, qualify=True) for p in cond.where]
            return (f"NOT EXISTS (SELECT 1 FROM {self.dialect.quote(cond.table)} {cond.alias} "
                    f"WHERE {' AND '.join(inner)})")
        raise TypeError(f"no SQL for {cond!r}")

    def conjunction(self, conditions: Iterable[Predicate], joiner: str = " AND ") -> str:
        parts = [self.render(c) for c in conditions]
        return joiner.join(parts) if parts else "1 = 1"

    def where_clause(self, conditions: Iterable[Predicate]) -> str:
        parts = [self.render(c) for c in conditions]
        return ("WHERE " + "\n  AND ".join(parts)) if parts else ""
