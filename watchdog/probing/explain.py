"""What the database plans to do for each probe, without running it: scans, estimated rows, cost.

PostgreSQL: `EXPLAIN (FORMAT JSON, VERBOSE)`, never ANALYZE, so nothing executes; SQLite:
`EXPLAIN QUERY PLAN`. Both through the probes' own read-only connections with their bound
parameters. A sequential scan of a table larger than `large` rows is a warning, with the CREATE
INDEX that would let the probe read only the rows it needs.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from watchdog.compiler.batch import Batch
from watchdog.dialects import Dialect
from watchdog.compiler.probe import Probe, bind_params
from watchdog.config.model import Rule
from watchdog.probing.connection import Connection
from watchdog.probing.runner import members

LARGE_TABLE = 10_000
INDEXABLE_OPS = ("=", "in", "is_null")
_SQLITE_SCAN = re.compile(r"^(SCAN|SEARCH) (?:TABLE )?(\S+)(?: AS \S+)?(?: USING (?:COVERING |INTEGER PRIMARY KEY )?(?:INDEX )?(\S+)?)?")


@dataclass(frozen=True)
class Scan:
    """One node of the plan that reads a table."""

    method: str
    relation: str
    index: str | None = None
    rows: float | None = None
    cost: float | None = None
    schema: str | None = None

    @property
    def sequential(self) -> bool:
        return self.method in ("Seq Scan", "SCAN") and self.index is None


@dataclass(frozen=True)
class Advice:
    relation: str
    table_rows: float
    create_index: str | None


@dataclass(frozen=True)
class Explanation:
    rules: tuple[Rule, ...]
    dialect: str
    scans: tuple[Scan, ...]
    total_cost: float | None
    advice: tuple[Advice, ...]


def explain_item(conn: Connection, item: Batch | Probe, now: datetime, timeout: float, large: int = LARGE_TABLE) -> Explanation:
    """The plan of a probe or a batch, and advice for each large table it would read in full."""
    probes = members(item)
    dialect = probes[0].dialect
    params = bind_params(item.params, dialect, now)
    guarded = any(p.guarded for p in probes)
    if dialect.name == "postgresql":
        [row] = conn.query(f"EXPLAIN (FORMAT JSON, VERBOSE) {item.sql}", params, timeout, guarded)
        root = row["QUERY PLAN"][0]["Plan"]
        scans, total = tuple(_pg_scans(root)), float(root["Total Cost"])
    else:
        rows = conn.query(f"EXPLAIN QUERY PLAN {item.sql}", params, timeout, guarded)
        tables = {r["name"] for r in conn.query("SELECT name FROM sqlite_master WHERE type = 'table'", {}, timeout, False)}
        found = (_sqlite_scan(str(r["detail"])) for r in rows if _SQLITE_SCAN.match(str(r["detail"])))
        scans, total = tuple(scan for scan in found if scan.relation in tables), None  # not CTEs or subqueries
    advice = []
    for scan in scans:
        if not scan.sequential:
            continue
        size = _table_rows(conn, dialect.name, scan, timeout)
        if size >= large:
            advice.append(Advice(scan.relation, size, suggest_index(scan.relation, [p.rule for p in probes], dialect)))
    return Explanation(tuple(p.rule for p in probes), dialect.name, scans, total, tuple(advice))


def _pg_scans(node: Mapping[str, Any]) -> Iterator[Scan]:
    if "Relation Name" in node:
        index = node.get("Index Name") or ", ".join(_bitmap_indexes(node)) or None
        yield Scan(node["Node Type"], node["Relation Name"], index, node.get("Plan Rows"), node.get("Total Cost"), node.get("Schema"))
    for child in node.get("Plans", ()):
        yield from _pg_scans(child)


def _bitmap_indexes(node: Mapping[str, Any]) -> Iterator[str]:
    """The indexes a Bitmap Heap Scan reads through (its Bitmap Index Scan children, under BitmapOr/And)."""
    for child in node.get("Plans", ()):
        if "Relation Name" not in child:
            if "Index Name" in child:
                yield child["Index Name"]
            yield from _bitmap_indexes(child)


def _sqlite_scan(detail: str) -> Scan:
    match = _SQLITE_SCAN.match(detail)
    assert match is not None  # filtered by the caller
    index = match[3] if "INDEX" in detail or "PRIMARY KEY" in detail else None
    return Scan(match[1], match[2], index)


def _table_rows(conn: Connection, dialect: str, scan: Scan, timeout: float) -> float:
    """The planner's row count for PostgreSQL (no scan); SQLite's largest rowid (an index lookup)."""
    if dialect == "postgresql":
        name = f'"{scan.schema}"."{scan.relation}"' if scan.schema else f'"{scan.relation}"'
        [row] = conn.query("SELECT GREATEST(reltuples, 0) AS n FROM pg_class WHERE oid = to_regclass(%(name)s)",
                           {"name": name}, timeout, False)
        return max(float(row["n"] or 0), float(scan.rows or 0))
    [row] = conn.query(f'SELECT MAX(rowid) AS n FROM "{scan.relation}"', {}, timeout, False)
    return float(row["n"] or 0)


def suggest_index(relation: str, rules: Iterable[Rule], dialect: Dialect) -> str | None:
    """Equality columns first, then the column compared with a cutoff: the shape a B-tree range scan
    wants. CONCURRENTLY on PostgreSQL, so building it does not block the scheduler's writes."""
    for rule in rules:
        columns = list(dict.fromkeys(_index_columns(relation, rule)))
        if columns:
            return dialect.create_index(f"{relation}_{'_'.join(columns)}_idx", relation, columns)
    return None


def _index_columns(relation: str, rule: Rule) -> list[str]:
    child = rule.params.get("child")
    if isinstance(child, Mapping) and child.get("table") == relation and relation != rule.table:
        on = child.get("on")
        return list(on.values()) if isinstance(on, Mapping) else [str(on)] if on else []
    if rule.table != relation:
        return []
    equal = [c.column for c in rule.where if c.op in INDEXABLE_OPS]
    time = rule.params.get("heartbeat_column") or rule.time_column
    return [*equal, *([time] if time else [])]
