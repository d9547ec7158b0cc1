"""The functions and values a check template sees.

Conditions are data: `where(...)` takes predicates (the rule's own filter, window and where_sql are
added to them) and records them on the context before rendering them, so the batch query, the
count of a row-level probe, the EXPLAIN request and the index advice all read the same values.
Templates build predicates with helpers (`before`, `since`, `is_null`, `not_in`,
`any_of`, `missing`, ...); identifiers arrive validated and quoted (`Quoted`, which still knows
its bare name); values are only ever bound. A custom kind may still pass trusted SQL text to
`where()`: it is kept as a Raw predicate, opaque but never re-parsed.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from watchdog.catalogue.kind import CheckKind
from watchdog.compiler.frames import Edge, per_frame, window_frame
from watchdog.compiler.params import Params
from watchdog.compiler.sqltext import ConditionSql
from watchdog.config.model import Rule
from watchdog.dialects import Dialect
from watchdog.model.conditions import (
    AllOf, AnyOf, Col, Compare, Cutoff, In, InIntervals, IsNull, Missing, Predicate, Raw, on_relation,
)
from watchdog.model.values import ColumnPair, Record
from watchdog.validation.fields import Field, Identifier, Identifiers, JoinOn, Obj

CHILD = "c"


class TemplateFailure(Exception):
    """A template refused its parameters (via `fail()`): reported as a rule error at load time."""


class Quoted(str):
    """An identifier as SQL text (quoted for the dialect) that still knows its bare `name`."""

    name: str

    def __new__(cls, sql: str, name: str) -> Quoted:
        made = super().__new__(cls, sql)
        made.name = name
        return made


def _col(column: Any) -> Col:
    if isinstance(column, Quoted):
        return Col(column.name)
    if isinstance(column, str):
        return Col(column)
    raise TemplateFailure(f"expected a column, got {column!r}")


class SqlContext:
    """Collects bound parameters and the conditions `where()` was given while one template renders."""

    def __init__(self, rule: Rule, kind: CheckKind, dialect: Dialect, params: dict[str, Any] | None = None) -> None:
        self.rule = rule
        self.kind = kind
        self.dialect = dialect
        self.binder = Params(params)
        self.params = self.binder.values
        self.recorded: list[Predicate] | None = None
        self.counts_itself = False
        self.sql = ConditionSql(dialect, self.binder, rule.table)

    # -- values -----------------------------------------------------------------------------
    def bind(self, value: Any) -> str:
        return self.binder.bind(value)

    def bind_list(self, values: Iterable[Any]) -> str:
        return "(" + ", ".join(self.bind(v) for v in values) + ")"

    def cutoff(self, seconds: float) -> str:
        return self.binder.cutoff(seconds, self.rule.time_unit)

    def now(self) -> str:
        return self.cutoff(0)

    def age(self, expr: str) -> str:
        return self.dialect.seconds_between(self.now(), expr, self.rule.time_unit)

    def seconds_between(self, later: str, earlier: str) -> str:
        return self.dialect.seconds_between(later, earlier, self.rule.time_unit)

    # -- predicates -------------------------------------------------------------------------
    def before(self, column: Any, seconds: float) -> Predicate:
        """`column < now - seconds`: rows older than that."""
        return Cutoff(_col(column), "<", float(seconds), self.rule.time_unit)

    def since(self, column: Any, seconds: float) -> Predicate:
        """`column >= now - seconds`: rows at most that old."""
        return Cutoff(_col(column), ">=", float(seconds), self.rule.time_unit)

    def is_null(self, column: Any) -> Predicate:
        return IsNull(_col(column))

    def not_null(self, column: Any) -> Predicate:
        return IsNull(_col(column), negated=True)

    def one_of(self, column: Any, values: Iterable[Any]) -> Predicate:
        return In(_col(column), tuple(values))

    def not_in(self, column: Any, values: Iterable[Any]) -> Predicate:
        return In(_col(column), tuple(values), negated=True)

    def equals(self, column: Any, value: Any) -> Predicate:
        return Compare(_col(column), "=", value)

    def any_of(self, *parts: Predicate) -> Predicate:
        return AnyOf(tuple(parts))

    def all_of(self, *parts: Predicate) -> Predicate:
        return AllOf(tuple(parts))

    def missing(self, table: str, on: Iterable[ColumnPair], where: Iterable[Predicate] | None = None) -> Predicate:
        """No linked row in `table` (an orphan's child), its own filter applied to it."""
        bare = table.name if isinstance(table, Quoted) else table
        return Missing(bare, CHILD, tuple(on), tuple(on_relation(p, CHILD) for p in where or ()))

    def conditions(self, conditions: Iterable[Predicate] | None, alias: str | None = None) -> list[str]:
        """Predicates as SQL text (for CASE expressions such as a ratio's `failed`)."""
        preds = [on_relation(c, alias) if alias else c for c in conditions or ()]
        return [self.sql.render(p) for p in preds]

    def rule_conditions(self, *extra: Predicate | str) -> list[Predicate]:
        """The kind's conditions, then the rule's filter, window and where_sql: one list."""
        parts: list[Predicate] = [e if isinstance(e, Predicate) else Raw(e) for e in extra if e]
        parts += self.rule.where
        rule = self.rule
        if rule.window is not None and "window" in self.kind.uses and rule.time_column:
            parts.append(Cutoff(Col(rule.time_column), ">=", float(rule.window), rule.time_unit))
        if rule.local_window is not None and "local_window" in self.kind.uses and rule.time_column and rule.window:
            frame = window_frame(rule.window, rule.local_window)
            parts.append(InIntervals(Col(rule.time_column), frame, rule.time_unit, negated=True))
        if rule.where_sql and "where_sql" in self.kind.uses:
            parts.append(Raw(rule.where_sql))
        return parts

    def per_buckets(self) -> list[str]:
        """With `per`, one condition per bucket of the window (`t >= start AND t < end`, bound at each
        evaluation): a template counts each (count_where) or names each row's bucket."""
        rule = self.rule
        if rule.per is None or rule.window is None or rule.time_column is None:
            return []
        frame, column = per_frame(rule.window, rule.per, rule.timezone), self.dialect.quote_part(rule.time_column)
        return [f"{column} >= {self.binder.bind(Edge(frame, i, 'start', rule.time_unit))} AND "
                f"{column} < {self.binder.bind(Edge(frame, i, 'end', rule.time_unit))}" for i in range(frame.slots)]

    def bucket_label(self, index: int) -> str:
        """The label of bucket `index` at this evaluation (a date, a week, an hour), bound."""
        rule = self.rule
        return self.binder.bind(Edge(per_frame(rule.window or 0, rule.per or "day", rule.timezone), index, "label", rule.time_unit))

    def count_where(self, predicate: str) -> str:
        return self.dialect.count_where(predicate)

    def where(self, *extra: Predicate | str) -> str:
        """WHERE with the kind's conditions and the rule's own; the conditions are kept as data."""
        self.recorded = self.rule_conditions(*extra)
        return self.sql.where_clause(self.recorded)

    def rule_filter(self, *extra: Predicate | str) -> str:
        """The kind's and the rule's conditions as one AND, columns qualified with the rule's table:
        for an ON clause, where another (aliased) relation is in the query too. Recorded like where()."""
        self.recorded = self.rule_conditions(*extra)
        return " AND ".join(self.sql.render(c, qualify=True) for c in self.recorded) or "1 = 1"

    def joined(self, on: Iterable[ColumnPair], alias: str) -> str:
        """`table.parent = alias.child` for each pair of a join."""
        table = self.dialect.quote(self.rule.table or "")
        return " AND ".join(f"{table}.{self.dialect.quote_part(p.parent)} = {alias}.{self.dialect.quote_part(p.child)}"
                            for p in on)

    def ident(self, name: str) -> str:
        """A bare column name (from a join's pairs) quoted for the dialect."""
        return self.dialect.quote_part(name)

    def row_total(self) -> str:
        """`COUNT(*) OVER () AS wd_count` for a rows kind's SELECT list: the query counts its own rows
        in the pass that finds them, and the compiler only adds the LIMIT (a top-N, not a full sort)."""
        self.counts_itself = True
        return "COUNT(*) OVER () AS wd_count"

    def fail(self, message: str) -> str:
        raise TemplateFailure(message)

    def raw(self, fragment: str) -> str:
        return fragment

    def variables(self) -> dict[str, Any]:
        rule, quote = self.rule, self.dialect
        helpers = ("bind", "bind_list", "cutoff", "now", "age", "seconds_between", "before", "since",
                   "is_null", "not_null", "one_of", "not_in", "equals", "any_of", "all_of", "missing",
                   "conditions", "where", "rule_filter", "joined", "ident", "per_buckets", "bucket_label", "count_where", "row_total",
                   "raw", "fail")
        params = quote_params(self.kind.params, rule.params, self.dialect)
        clash = sorted(set(params) & set(helpers))
        if clash:
            raise TemplateFailure(f"check '{self.kind.name}': parameter '{clash[0]}' has the name of a template helper")
        return {
            "dialect": self.dialect.name,
            "table": Quoted(quote.quote(rule.table), rule.table) if rule.table else None,
            "time_column": Quoted(quote.quote_part(rule.time_column), rule.time_column) if rule.time_column else None,
            "time_unit": rule.time_unit,
            "window": rule.window,
            "timezone": rule.timezone,
            "group_by": [Quoted(quote.quote_part(c), c) for c in rule.group_by],
            **params,
            **{name: getattr(self, name) for name in helpers},
        }


def quote_params(fields: Mapping[str, Field], values: Mapping[str, Any], dialect: Dialect) -> dict[str, Any]:
    """Parameter values for the template, identifiers quoted according to their declared type."""
    return {name: _quoted(fields[name], values.get(name), dialect) for name in fields}


def _quoted(spec: Field, value: Any, dialect: Dialect) -> Any:
    if value is None:
        return None
    if isinstance(spec, Identifier):
        return Quoted(dialect.quote(value), value)
    if isinstance(spec, Identifiers):
        return [Quoted(dialect.quote_part(v), v) for v in value]
    if isinstance(spec, JoinOn):
        return tuple(value)
    if isinstance(spec, Obj):
        return Record(quote_params(spec.fields, value, dialect))
    return value
