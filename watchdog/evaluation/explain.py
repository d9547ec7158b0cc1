"""What the database plans to do for each probe, without running it: scans, estimated rows, cost.

PostgreSQL: `EXPLAIN (FORMAT JSON, VERBOSE)`, never ANALYZE, so nothing executes; SQLite:
`EXPLAIN QUERY PLAN`. Both through the probes' own read-only connections with their bound
parameters. A sequential scan of a table larger than `large` rows is a warning, with the CREATE
INDEX that would let the probe read only the rows it needs.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from watchdog.compiler.batch import Batch
from watchdog.compiler.probe import Probe, bind_params
from watchdog.config.model import Rule
from watchdog.dialects import Dialect
from watchdog.evaluation.units import members
from watchdog.model.conditions import Missing, equality_columns, range_column
from watchdog.probing.connection import Connection

LARGE_TABLE = 10_000
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
    def qualified(self) -> str:
        return f"{self.schema}.{self.relation}" if self.schema else self.relation

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
    notes: tuple[str, ...] = ()


def explain_item(conn: Connection, item: Batch | Probe, now: datetime, timeout: float, large: int = LARGE_TABLE) -> Explanation:
    """The plan of a probe or a batch, and advice for each large table it would read in full."""
    probes = members(item)
    dialect = probes[0].dialect
    params = bind_params(item.params, dialect, now)
    guarded = any(p.guarded for p in probes)
    relations = {alias: table for p in probes for alias, table in p.relations.items()}
    notes: tuple[str, ...] = ()
    if dialect.name == "postgresql":
        [row] = conn.query(dialect.plan_request(item.sql), params, timeout, guarded)
        root = row["QUERY PLAN"][0]["Plan"]
        scans, total = tuple(_pg_scans(root)), float(root["Total Cost"])
    elif dialect.name == "mysql":
        [row] = conn.query(dialect.plan_request(item.sql), params, timeout, guarded)
        plan = json.loads(str(next(iter(row.values()))))
        cost = plan.get("query_block", {}).get("cost_info", {}).get("query_cost")
        scans, total = tuple(_mysql_scans(plan)), float(cost) if cost is not None else None
    elif dialect.name == "duckdb":
        conn.query(dialect.plan_request(item.sql), params, timeout, guarded)  # the probe's SQL parses and binds
        scans, total = (), None
        notes = ("DuckDB reads every file the table's glob matches on each evaluation; no index applies",)
    else:
        rows = conn.query(dialect.plan_request(item.sql), params, timeout, guarded)
        tables = {r["name"] for r in conn.query("SELECT name FROM sqlite_master WHERE type = 'table'", {}, timeout, False)}
        found = (_sqlite_scan(str(r["detail"]), relations) for r in rows if _SQLITE_SCAN.match(str(r["detail"])))
        scans, total = tuple(scan for scan in found if scan.relation in tables), None  # not CTEs or subqueries
    advice: dict[str, Advice] = {}
    for scan in scans:
        if not scan.sequential or scan.qualified in advice:
            continue
        size = _table_rows(conn, dialect.name, scan, timeout)
        if size >= large:
            advice[scan.qualified] = Advice(scan.relation, size, suggest_index(scan, [p for p in probes], dialect))
    return Explanation(tuple(p.rule for p in probes), dialect.name, scans, total, tuple(advice.values()),
                       batch_notes(item) + notes)


def _mysql_scans(node: Any) -> Iterator[Scan]:
    """Every table access of MySQL's / MariaDB's JSON plan; access type ALL is a full scan."""
    if isinstance(node, dict):
        table = node.get("table")
        if isinstance(table, dict) and "table_name" in table:
            access = str(table.get("access_type", ""))
            rows = table.get("rows_examined_per_scan", table.get("rows"))
            yield Scan("SCAN" if access == "ALL" else access, str(table["table_name"]), table.get("key"),
                       float(rows) if rows is not None else None)
        for value in node.values():
            yield from _mysql_scans(value)
    elif isinstance(node, list):
        for value in node:
            yield from _mysql_scans(value)


def batch_notes(item: Batch | Probe) -> tuple[str, ...]:
    """What a batch decided at compile time: one scan, which conditions it shares, and that each
    member's where_sql stays that member's own filter."""
    if not isinstance(item, Batch):
        return ()
    notes = [f"one scan of {item.members[0].rule.table} for {len(item.members)} rules"]
    for probe in item.members:
        if probe.rule.where_sql:
            notes.append(f"{probe.rule.name}: where_sql kept as this rule's own filter in the batch")
    return tuple(notes)


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


def _sqlite_scan(detail: str, relations: Mapping[str, str]) -> Scan:
    """A plan line as a Scan; an alias the probe gave a table (`SCAN c`) is read as that table."""
    match = _SQLITE_SCAN.match(detail)
    assert match is not None  # filtered by the caller
    index = match[3] if "INDEX" in detail or "PRIMARY KEY" in detail else None
    name = relations.get(match[2], match[2])
    schema, _, relation = name.rpartition(".")
    return Scan(match[1], relation, index, schema=schema or None)


def _table_rows(conn: Connection, dialect: str, scan: Scan, timeout: float) -> float:
    """The planner's row count for PostgreSQL and MySQL (no scan); SQLite's largest rowid (an index lookup)."""
    if dialect == "postgresql":
        name = f'"{scan.schema}"."{scan.relation}"' if scan.schema else f'"{scan.relation}"'
        [row] = conn.query("SELECT GREATEST(reltuples, 0) AS n FROM pg_class WHERE oid = to_regclass(%(name)s)",
                           {"name": name}, timeout, False)
        return max(float(row["n"] or 0), float(scan.rows or 0))
    if dialect == "mysql":
        [row] = conn.query("SELECT TABLE_ROWS AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                           "AND TABLE_NAME = %(name)s", {"name": scan.relation}, timeout, False)
        return max(float(row["n"] or 0), float(scan.rows or 0))
    [row] = conn.query(f'SELECT MAX(rowid) AS n FROM "{scan.relation}"', {}, timeout, False)
    return float(row["n"] or 0)


def suggest_index(scan: Scan, probes: Iterable[Probe], dialect: Dialect) -> str | None:
    """Equality columns first, then the column compared with a cutoff: the shape a B-tree range scan
    wants, read from the probes' conditions (data, never SQL text)."""
    for probe in probes:
        table, columns = _index_columns(scan, probe)
        columns = list(dict.fromkeys(columns))
        if columns:
            return dialect.create_index(f"{table.rpartition('.')[2]}_{'_'.join(columns)}_idx", table, columns)
    return None


def _same_table(scan: Scan, table: str) -> bool:
    schema, _, name = table.rpartition(".")
    return name == scan.relation and (not schema or scan.schema in (None, schema))


def _index_columns(scan: Scan, probe: Probe) -> tuple[str, list[str]]:
    """(table, columns) an index on the scanned relation should have for this probe."""
    rule, conditions = probe.rule, probe.conditions
    for cond in (p for c in conditions for p in c.walk()):
        if isinstance(cond, Missing) and _same_table(scan, cond.table) and cond.table != rule.table:
            return cond.table, [pair.child for pair in cond.on] + equality_columns(cond.where, cond.alias)
    if rule.table is None or not _same_table(scan, rule.table):
        return "", []
    time = range_column(conditions)
    return rule.table, [*equality_columns(conditions), *([time] if time else [])]
