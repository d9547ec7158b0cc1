"""One scan per table: rules of batchable kinds on the same target and table share one query.

A batchable kind's violations are the rows of its table matching the conditions its template gave
`where()` (`Probe.conditions`, data). The batch query counts each member's conditions in one pass
(`COUNT(*) FILTER`, or `SUM(CASE ...)` on SQLite) over the rows that any member could count, and
only members found violated go on to fetch their sample rows. A member's `where_sql` stays its own
condition (the table is never aliased, so `jobs.id > 0` means in the batch what it means alone).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from watchdog.compiler.compiler import finish
from watchdog.compiler.params import Params
from watchdog.compiler.probe import Probe
from watchdog.compiler.sqltext import ConditionSql
from watchdog.dialects import Dialect
from watchdog.model.conditions import AnyOf, Bound, Cutoff, IsNull, Predicate, time_bound


@dataclass(frozen=True)
class Batch:
    """The members' counts come back as columns wd_b0, wd_b1, ... (`columns`) of a single row.
    `shared`: the conditions every scanned row meets (hoisted into the WHERE)."""

    members: tuple[Probe, ...]
    dialect: Dialect
    sql: str
    params: dict[str, Any]
    columns: tuple[str, ...]
    shared: tuple[Predicate, ...] = ()


def compile_batch(members: Sequence[Probe]) -> Batch:
    dialect, table = members[0].dialect, members[0].rule.table
    binder = Params()
    sql = ConditionSql(dialect, binder, table)
    hoisted = prefilter([p.conditions for p in members])
    predicates = [sql.conjunction(c for c in p.conditions if c not in hoisted) for p in members]
    columns = tuple(f"wd_b{index}" for index in range(len(members)))
    counts = ",\n       ".join(f"{dialect.count_where(p)} AS {column}" for p, column in zip(predicates, columns))
    rows = sql.conjunction(hoisted) if hoisted else "\n   OR ".join(f"({p})" for p in predicates)
    body = f"SELECT {counts}\nFROM {dialect.quote(table or '')}\nWHERE {rows}"
    return Batch(tuple(members), dialect, finish(dialect, body), binder.values, columns, tuple(hoisted))


def prefilter(conditions: Sequence[Sequence[Predicate]]) -> list[Predicate]:
    """One range for the whole batch instead of one OR arm per member, where the members allow it.

    The rows any member counts meet the conditions all members share and lie within the loosest of
    their time bounds on a common column: the newest-rows bound of windows, or the oldest-rows
    bound of ages (`older_than`, a stale heartbeat "or none at all") when shared conditions narrow
    it (alone, `older than 5 minutes` is most of a table). That range is planned and scanned once;
    each member still counts exactly its own rows. Where no such range exists the OR of the
    members stays, each arm able to use an index.
    """
    shared = [c for c in conditions[0] if all(c in others for others in conditions[1:])]
    for op in (">=", "<="):
        bounds = [{b.column: b for b in map(time_bound, parts) if b and b.op == op} for parts in conditions]
        common = [column for column in bounds[0] if all(column in b for b in bounds[1:])]
        if not common or len({b[common[0]].unit for b in bounds}) != 1:
            continue
        column = common[0]
        pick = max if op == ">=" else min  # the loosest: the oldest newest-bound, the youngest oldest-bound
        loosest: Bound = pick((b[column] for b in bounds), key=lambda bound: bound.age)
        narrowed = [c for c in shared if time_bound(c) is None]
        hoisted: Predicate = Cutoff(column, ">=" if op == ">=" else "<", loosest.age, loosest.unit)
        if any(b[column].or_null for b in bounds):
            hoisted = AnyOf((hoisted, IsNull(column)))
        if op == ">=" or narrowed:
            return [*narrowed, hoisted]
    return []


def split(probes: Iterable[Probe]) -> tuple[list[Batch], list[Probe]]:
    """Batches for every (target, table) with two or more batchable probes; the rest run alone."""
    groups: dict[tuple[str, str], list[Probe]] = {}
    alone: list[Probe] = []
    for probe in probes:
        if probe.batchable:
            groups.setdefault((probe.rule.target, probe.rule.table or ""), []).append(probe)
        else:
            alone.append(probe)
    batches = []
    for members in groups.values():
        if len(members) > 1:
            batches.append(compile_batch(members))
        else:
            alone.extend(members)
    return batches, alone
