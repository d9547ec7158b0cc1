"""One scan per table: rules of batchable kinds on the same target and table share one query.

A batchable kind's violations are the rows of its table matching the conditions its template
passes to `where()`. Rendering the template in capture mode yields that predicate; the batch
query counts each rule's predicate in one pass (`SUM(CASE ...)`, which both dialects run), and
only rules found violated go on to fetch their sample rows with their own probe.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from watchdog.compiler.compiler import finish, render
from watchdog.compiler.context import SqlContext
from watchdog.compiler.dialect import Dialect
from watchdog.compiler.probe import Probe


@dataclass(frozen=True)
class Batch:
    """The members' counts come back as columns wd_b0, wd_b1, ... of a single row."""

    members: tuple[Probe, ...]
    dialect: Dialect
    sql: str
    params: dict[str, Any]


def compile_batch(members: Sequence[Probe]) -> Batch:
    dialect = members[0].dialect
    params: dict[str, Any] = {}
    predicates = []
    for probe in members:
        ctx = SqlContext(probe.rule, probe.kind, dialect, params=params, capture=True)
        render(ctx)
        predicates.append(ctx.predicate or "1 = 1")
    counts = ",\n       ".join(f"COALESCE(SUM(CASE WHEN {p} THEN 1 ELSE 0 END), 0) AS wd_b{i}" for i, p in enumerate(predicates))
    anyone = "\n   OR ".join(f"({p})" for p in predicates)
    body = f"SELECT {counts}\nFROM {dialect.quote(members[0].rule.table or '')} p\nWHERE {anyone}"
    return Batch(tuple(members), dialect, finish(dialect, body), params)


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
