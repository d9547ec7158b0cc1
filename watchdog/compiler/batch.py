"""One scan per table: rules of batchable kinds on the same target and table share one query.

A batchable kind's violations are the rows of its table matching the conditions its template
passes to `where()`. Rendering the template in capture mode yields that predicate; the batch
query counts each rule's predicate in one pass (`COUNT(*) FILTER`, or `SUM(CASE ...)` on SQLite), and
only rules found violated go on to fetch their sample rows with their own probe.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from watchdog.compiler.compiler import finish, render
from watchdog.compiler.context import SENTINEL, SqlContext
from watchdog.dialects import Dialect
from watchdog.compiler.probe import Probe, TimeRef

_COMPARE = f"(?P<col>\\S+) (?P<op>[<>]=?) {SENTINEL}(?P<key>p\\d+){SENTINEL}"
_BOUND = re.compile(f"^{_COMPARE}$")
_BOUND_OR_NULL = re.compile(f"^\\({_COMPARE} OR \\((?P=col) IS NULL\\)\\)$")


@dataclass(frozen=True)
class Batch:
    """The members' counts come back as columns wd_b0, wd_b1, ... (`columns`) of a single row."""

    members: tuple[Probe, ...]
    dialect: Dialect
    sql: str
    params: dict[str, Any]
    columns: tuple[str, ...]


def compile_batch(members: Sequence[Probe]) -> Batch:
    dialect = members[0].dialect
    params: dict[str, Any] = {}
    predicates, conjuncts = [], []
    for probe in members:
        ctx = SqlContext(probe.rule, probe.kind, dialect, params=params, capture=True)
        render(ctx)
        predicates.append(ctx.predicate or "1 = 1")
        conjuncts.append(ctx.conjuncts)
    hoisted = prefilter(conjuncts, params)
    if hoisted:  # every scanned row meets the hoisted conditions: the members need not test them again
        predicates = [" AND ".join(c for c in parts if c not in hoisted) or "1 = 1" for parts in conjuncts]
    columns = tuple(f"wd_b{index}" for index in range(len(members)))
    counts = ",\n       ".join(f"{dialect.count_where(p)} AS {column}" for p, column in zip(predicates, columns))
    rows = " AND ".join(hoisted) or "\n   OR ".join(f"({p})" for p in predicates)
    body = f"SELECT {counts}\nFROM {dialect.quote(members[0].rule.table or '')} p\nWHERE {rows}"
    return Batch(tuple(members), dialect, finish(dialect, body), params, columns)


def prefilter(conjuncts: Sequence[Sequence[str]], params: dict[str, Any]) -> list[str]:
    """One range for the whole batch instead of one OR arm per rule, where the rules allow it.

    The rows any member counts match the conditions all members share (equal values share a
    placeholder, so they are equal text) and lie within the loosest of their cutoffs on a common
    time column: the newest-rows bound of windows, or the oldest-rows bound of ages (`older_than`,
    a stale heartbeat "or none at all") when shared conditions narrow it (alone, `older than 5
    minutes` is most of a table). That range is planned and scanned once; each member still
    counts exactly its own rows in its CASE. Where no such range exists the OR of the members
    stays, each arm able to use an index.
    """
    shared = [part for part in conjuncts[0] if all(part in others for others in conjuncts[1:])]
    for op, loosest in ((">=", max), ("<=", min)):
        bounds = [{b.column: b for b in map(_bound, parts) if b and b.op == op and isinstance(params.get(b.key), TimeRef)}
                  for parts in conjuncts]
        columns = sorted(set(bounds[0]).intersection(*bounds[1:]))
        if not columns or len({params[b[columns[0]].key].unit for b in bounds}) != 1:
            continue
        column = columns[0]
        key = loosest((b[column].key for b in bounds), key=lambda k: params[k].offset)
        narrowed = [part for part in shared if _bound(part) is None]
        hoisted = f"{column} {op} {SENTINEL}{key}{SENTINEL}"
        if any(b[column].or_null for b in bounds):
            hoisted = f"({hoisted} OR {column} IS NULL)"
        if op == ">=" or narrowed:
            return [*narrowed, hoisted]
    return []


@dataclass(frozen=True)
class _Bound:
    column: str
    op: str
    key: str
    or_null: bool


def _bound(part: str) -> _Bound | None:
    """`col >= cutoff`, `col < cutoff`, or `(col < cutoff OR (col IS NULL))` as a bound; else None."""
    match = _BOUND.match(part) or _BOUND_OR_NULL.match(part)
    if match is None:
        return None
    return _Bound(match["col"], ">=" if match["op"].startswith(">") else "<=", match["key"], match.re is _BOUND_OR_NULL)


def split(probes: Iterable[Probe]) -> tuple[list[Batch], list[Probe]]:
    """Batches for every (target, table) with two or more batchable probes; the rest run alone."""
    groups: dict[tuple[str, str], list[Probe]] = {}
    alone: list[Probe] = []
    for probe in probes:
        if probe.kind.batch and probe.rule.table:
            groups.setdefault((probe.rule.target, probe.rule.table), []).append(probe)
        else:
            alone.append(probe)
    batches = []
    for members in groups.values():
        if len(members) > 1:
            batches.append(compile_batch(members))
        else:
            alone.extend(members)
    return batches, alone
