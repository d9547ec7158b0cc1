"""Which tables a rule reads, and what it assumes of them: the columns it names, the ones it reads
as time (in which unit), and the values its filters compare columns with."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from watchdog.config.model import Rule
from watchdog.model.conditions import Compare, In, IsNull, Predicate


@dataclass(frozen=True)
class Use:
    table: str
    columns: tuple[str, ...]
    times: tuple[tuple[str, str], ...]  # (column, time_unit)
    filters: tuple[tuple[str, Any], ...]  # (column, value) an equality filter expects to find
    telling: tuple[str, ...] = ()  # columns the rule tells rows apart or ages them by: all NULL is suspect


def uses(rule: Rule) -> list[Use]:
    """The rule's table, and a schedule's jobs table or an orphan's child table."""
    if rule.table is None:
        return []  # a `sql` rule: its query is run, not read
    params = rule.params
    time_columns = [rule.time_column, params.get("finished_column"), params.get("tolerance_column"), params.get("heartbeat_column")]
    named = [c for c in time_columns if c] + [c for c in (params.get("column"),) if c]
    named += list(params.get("key") or ()) + list(rule.group_by)
    conditions = [*rule.where, *(params.get("failed") or ())]
    out: list[Use] = []
    jobs, child = params.get("jobs"), params.get("child")
    if jobs is not None:
        named += [pair.parent for pair in jobs["on"]]
        out.append(Use(jobs["table"], _names([pair.child for pair in jobs["on"]], [jobs["schedule_column"], jobs["name_column"],
                                              jobs["timezone_column"], jobs["created_column"]], _columns(jobs["where"] or ())),
                       tuple((c, "timestamp") for c in (jobs["created_column"],) if c), _filters(jobs["where"] or ())))
    if child is not None:
        named += [pair.parent for pair in child["on"]]
        out.append(Use(child["table"], _names([pair.child for pair in child["on"]], _columns(child["where"] or ())),
                       (), _filters(child["where"] or ())))
    telling = _names([rule.time_column], params.get("key") or (), rule.group_by)
    main = Use(rule.table, _names(named, _columns(conditions)), tuple((c, rule.time_unit) for c in time_columns if c),
               _filters(conditions), telling)
    return [main, *out]


def _names(*groups: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c for group in groups for c in group if c))


def _columns(conditions: Iterable[Predicate]) -> list[str]:
    return [p.column.name for cond in conditions for p in cond.walk()
            if isinstance(p, (Compare, In, IsNull)) and p.column.relation is None]


def _filters(conditions: Iterable[Predicate]) -> tuple[tuple[str, Any], ...]:
    """Top-level `column: value` and `column: [values]` filters: each value should match a row."""
    out: list[tuple[str, Any]] = []
    for cond in conditions:
        if isinstance(cond, Compare) and cond.op == "=" and cond.column.relation is None:
            out.append((cond.column.name, cond.value))
        elif isinstance(cond, In) and not cond.negated and cond.column.relation is None:
            out += [(cond.column.name, value) for value in cond.values]
    return tuple(out)
