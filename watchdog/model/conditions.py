"""Conditions as data: a rule's filter, window, age cutoffs and `where_sql` as one list of predicates.

The single-rule probe, the batched probe, the EXPLAIN request and the index advice are all made
from these values; nothing reads SQL text back. Equal predicates are equal values (a value keeps
its type: `1` and `True` differ), which is how a batch finds the conditions its members share.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from watchdog.model.values import ColumnPair

COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
CUTOFF_OPS = ("<", "<=", ">", ">=")


@dataclass(frozen=True)
class Col:
    """A column of the rule's table (`relation` None) or of a joined relation by its alias."""

    name: str
    relation: str | None = None


class Predicate:
    """Base of every condition; subclasses are frozen dataclasses."""

    def walk(self) -> Iterator[Predicate]:
        """This predicate and every one nested in it."""
        yield self


@dataclass(frozen=True)
class Compare(Predicate):
    """`column op value`, the value bound as a parameter."""

    column: Col
    op: str
    value: Any
    kind: type = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", type(self.value))


@dataclass(frozen=True)
class In(Predicate):
    """`column [NOT] IN (values)`; an empty list is false (IN) or true (NOT IN)."""

    column: Col
    values: tuple[Any, ...]
    negated: bool = False
    kinds: tuple[type, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kinds", tuple(type(v) for v in self.values))


@dataclass(frozen=True)
class IsNull(Predicate):
    column: Col
    negated: bool = False


@dataclass(frozen=True)
class Cutoff(Predicate):
    """`column op (now - age)`: a time bound, in the rule's time unit, bound afresh at each evaluation."""

    column: Col
    op: str
    age: float
    unit: str


@dataclass(frozen=True)
class InIntervals(Predicate):
    """`column` within one of a frame's intervals (bound at each evaluation); `negated`: outside all."""

    column: Col
    frame: Any
    unit: str
    negated: bool = False


@dataclass(frozen=True)
class Raw(Predicate):
    """Trusted SQL text from the rule file's `where_sql` or a kind's template, pasted as written."""

    sql: str


@dataclass(frozen=True)
class _Compound(Predicate):
    parts: tuple[Predicate, ...]

    def walk(self) -> Iterator[Predicate]:
        yield self
        for part in self.parts:
            yield from part.walk()


@dataclass(frozen=True)
class AnyOf(_Compound):
    """At least one of `parts` holds."""


@dataclass(frozen=True)
class AllOf(_Compound):
    """Every one of `parts` holds."""


@dataclass(frozen=True)
class Missing(Predicate):
    """No row of `table` (aliased `alias`) linked by `on` and matching `where` exists (orphans)."""

    table: str
    alias: str
    on: tuple[ColumnPair, ...]
    where: tuple[Predicate, ...] = ()

    def walk(self) -> Iterator[Predicate]:
        yield self
        for part in self.where:
            yield from part.walk()


def equality_columns(conditions: tuple[Predicate, ...] | list[Predicate], relation: str | None = None) -> list[str]:
    """Columns of `relation` a top-level condition pins to values: an index's leading columns."""
    out = []
    for cond in conditions:
        if isinstance(cond, Compare) and cond.op == "=" or isinstance(cond, In) and not cond.negated \
                or isinstance(cond, IsNull):
            if cond.column.relation == relation:
                out.append(cond.column.name)
    return out


def range_column(conditions: tuple[Predicate, ...] | list[Predicate]) -> str | None:
    """The column a top-level time bound ranges over (`t < now - 5m`, or `t < cutoff OR t IS NULL`)."""
    for cond in conditions:
        bound = time_bound(cond)
        if bound is not None and bound.column.relation is None:
            return bound.column.name
    return None


@dataclass(frozen=True)
class Bound:
    """A condition read as a range on one time column: `column op now - age`, maybe `OR column IS NULL`."""

    column: Col
    op: str
    age: float
    unit: str
    or_null: bool


def time_bound(cond: Predicate) -> Bound | None:
    """`cond` as a range on a time column, or None: a Cutoff, or a Cutoff OR'ed with that column's
    being NULL (alone, or with more conditions: a stale heartbeat that never beat)."""
    if isinstance(cond, Cutoff):
        return Bound(cond.column, ">=" if cond.op.startswith(">") else "<=", cond.age, cond.unit, False)
    if isinstance(cond, AnyOf) and len(cond.parts) == 2 and isinstance(cond.parts[0], Cutoff):
        cutoff, other = cond.parts
        nulls = other.parts if isinstance(other, AllOf) else (other,)
        if any(isinstance(n, IsNull) and not n.negated and n.column == cutoff.column for n in nulls):
            return Bound(cutoff.column, ">=" if cutoff.op.startswith(">") else "<=", cutoff.age, cutoff.unit, True)
    return None


def on_relation(cond: Predicate, alias: str) -> Predicate:
    """`cond` with its columns of the rule's table moved to the relation `alias` (a child's filter)."""
    if isinstance(cond, (Compare, In, IsNull, Cutoff)):
        column = cond.column if cond.column.relation else Col(cond.column.name, alias)
        return replace(cond, column=column)
    if isinstance(cond, (AnyOf, AllOf)):
        return type(cond)(tuple(on_relation(p, alias) for p in cond.parts))
    return cond
