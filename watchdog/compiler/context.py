"""The functions and values a check template sees.

Templates never format a value into SQL: `bind`, `bind_list` and `cutoff` return placeholders and
record the value; identifiers arrive already validated and quoted. Placeholders are written as
sentinels first and turned into the dialect's own markers after rendering, so a literal `%` in a
template or a raw fragment cannot be mistaken for one.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from watchdog.catalogue.kind import CheckKind
from watchdog.dialects import Dialect
from watchdog.compiler.probe import TimeRef
from watchdog.validation.fields import Condition, Field, Identifier, Identifiers, JoinOn, Obj
from watchdog.config.model import Rule

SENTINEL = "\x00"
_SQL_OPS = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class TemplateFailure(Exception):
    """A template refused its parameters (via `fail()`): reported as a rule error at load time."""


class SqlContext:
    """Collects bound parameters while one template renders."""

    def __init__(self, rule: Rule, kind: CheckKind, dialect: Dialect, params: dict[str, Any] | None = None,
                 capture: bool = False) -> None:
        self.rule = rule
        self.kind = kind
        self.dialect = dialect
        self.params: dict[str, Any] = {} if params is None else params
        self.capture = capture
        self.predicate: str | None = None
        self.conjuncts: list[str] = []

    def bind(self, value: Any) -> str:
        """A placeholder for `value`; an equal value of the same type already bound shares its
        placeholder, so the twenty rules of a batch that all say status = 'pending' send it once."""
        key = next((k for k, bound in self.params.items() if type(bound) is type(value) and bound == value), None)
        if key is None:
            key = f"p{len(self.params)}"
            self.params[key] = value
        return f"{SENTINEL}{key}{SENTINEL}"

    def bind_list(self, values: Iterable[Any]) -> str:
        return "(" + ", ".join(self.bind(v) for v in values) + ")"

    def cutoff(self, seconds: float) -> str:
        return self.bind(TimeRef(float(seconds), self.rule.time_unit))

    def now(self) -> str:
        return self.cutoff(0)

    def age(self, expr: str) -> str:
        return self.dialect.seconds_between(self.now(), expr, self.rule.time_unit)

    def seconds_between(self, later: str, earlier: str) -> str:
        return self.dialect.seconds_between(later, earlier, self.rule.time_unit)

    def raw(self, fragment: str) -> str:
        return fragment

    def conditions(self, conditions: Iterable[Condition] | None, alias: str | None = None) -> list[str]:
        return [self._condition(c, alias) for c in conditions or ()]

    def _condition(self, cond: Condition, alias: str | None) -> str:
        column = (f"{alias}." if alias else "") + self.dialect.quote(cond.column)
        if cond.op == "is_null":
            return f"{column} IS {'' if cond.value else 'NOT '}NULL"
        if cond.op in ("in", "not_in"):
            if not cond.value:
                return "1 = 0" if cond.op == "in" else "1 = 1"
            return f"{column} {'NOT IN' if cond.op == 'not_in' else 'IN'} {self.bind_list(cond.value)}"
        return f"{column} {_SQL_OPS[cond.op]} {self.bind(cond.value)}"

    def where(self, *extra: str, alias: str | None = None) -> str:
        """WHERE with the rule's own filters (where, where_sql, window) and the kind's extra conditions."""
        parts = [e for e in extra if e]
        parts += self.conditions(self.rule.where, alias)
        if self.rule.window is not None and "window" in self.kind.uses and self.rule.time_column:
            column = (f"{alias}." if alias else "") + self.dialect.quote(self.rule.time_column)
            parts.append(f"{column} >= {self.cutoff(self.rule.window)}")
        if self.rule.where_sql and "where_sql" in self.kind.uses:
            parts.append(f"({self.rule.where_sql})")
        if self.capture:
            self.conjuncts = parts
            self.predicate = " AND ".join(parts) or "1 = 1"
            return ""
        return ("WHERE " + "\n  AND ".join(parts)) if parts else ""

    def fail(self, message: str) -> str:
        raise TemplateFailure(message)

    def variables(self) -> dict[str, Any]:
        rule = self.rule
        return {
            "dialect": self.dialect.name,
            "table": self.dialect.quote(rule.table) if rule.table else None,
            "time_column": self.dialect.quote(rule.time_column) if rule.time_column else None,
            "time_unit": rule.time_unit,
            "window": rule.window,
            **quote_params(self.kind.params, rule.params, self.dialect),
            "bind": self.bind, "bind_list": self.bind_list, "cutoff": self.cutoff, "now": self.now,
            "age": self.age, "seconds_between": self.seconds_between, "conditions": self.conditions,
            "where": self.where, "raw": self.raw, "fail": self.fail,
        }


def quote_params(fields: Mapping[str, Field], values: Mapping[str, Any], dialect: Dialect) -> dict[str, Any]:
    """Parameter values for the template, identifiers quoted according to their declared type."""
    return {name: _quoted(fields[name], values.get(name), dialect) for name in fields}


def _quoted(spec: Field, value: Any, dialect: Dialect) -> Any:
    if value is None:
        return None
    if isinstance(spec, Identifier):
        return dialect.quote(value)
    if isinstance(spec, Identifiers):
        return [dialect.quote(v) for v in value]
    if isinstance(spec, JoinOn):
        return [(dialect.quote(a), dialect.quote(b)) for a, b in value]
    if isinstance(spec, Obj):
        return _Namespace(quote_params(spec.fields, value, dialect))
    return value


class _Namespace(dict[str, Any]):
    """Lets templates write `child.table` for nested parameters."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None
