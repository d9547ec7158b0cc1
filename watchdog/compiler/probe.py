"""A compiled probe: SQL text plus parameters, some of which are resolved against `now` at run time."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from watchdog.catalogue.kind import CheckKind
from watchdog.compiler.frames import Edge
from watchdog.config.model import Rule
from watchdog.dialects import Dialect
from watchdog.model.conditions import Predicate
from watchdog.model.durations import format_duration


@dataclass(frozen=True)
class TimeRef:
    """`now - offset` in the column's time unit: compiled once, bound fresh on every evaluation."""

    offset: float
    unit: str
    delta: timedelta = field(init=False, repr=False, compare=False)  # made once: binding is on every cycle's path

    def __post_init__(self) -> None:
        object.__setattr__(self, "delta", timedelta(seconds=self.offset))

    def __str__(self) -> str:
        shown = "now" if self.offset == 0 else f"now - {format_duration(self.offset)}"
        return f"{shown} ({'timestamp' if self.unit == 'timestamp' else 'epoch ' + self.unit})"


@dataclass(frozen=True)
class Probe:
    """What the executor runs for one rule; `shape` tells the judge how to read the rows.

    `conditions` are the predicates the template gave `where()` (the rule's filter, window,
    where_sql and the kind's own cutoffs): the batch query and the index advice are made from
    them. `samples_sql` fetches only the sample rows, for a batch member found violated (its count
    is known already). `relations` maps the aliases the SQL uses to their tables, so a plan that
    names an alias is read right. `population_sql` counts the rows the rule's own filter matches
    (with `min_population`): fewer is an error, not a pass."""

    rule: Rule
    kind: CheckKind
    dialect: Dialect
    sql: str
    params: Mapping[str, Any]
    shape: str
    sampled: bool
    guarded: bool = True
    conditions: tuple[Predicate, ...] = ()
    samples_sql: str | None = None
    relations: Mapping[str, str] = field(default_factory=dict)
    population_sql: str | None = None
    count_sql: str | None = None
    counted_here: bool = False  # the query runs as written: every row it returns is a violation

    @property
    def batchable(self) -> bool:
        """Its violations are the rows of its table matching its conditions: it can share a scan."""
        rule = self.rule
        return self.kind.batch and rule.table is not None and not rule.group_by and rule.per is None

    def bind(self, now: datetime) -> dict[str, Any]:
        """Concrete parameter values for an evaluation at `now`."""
        return bind_params(self.params, self.dialect, now)


def bind_params(params: Mapping[str, Any], dialect: Dialect, now: datetime) -> dict[str, Any]:
    """Time cutoffs bound to now - offset, frame edges (per buckets, local windows) to now's intervals."""
    out = {}
    for key, value in params.items():
        kind = type(value)
        if kind is TimeRef:
            out[key] = dialect.time_value(now - value.delta, value.unit)
        elif kind is Edge:
            out[key] = value.resolve(now, dialect.time_value)
        else:
            out[key] = value
    return out
