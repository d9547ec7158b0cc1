"""What the database says of a table the rules read: its columns and their types, whether the
role may read them, and whether row-level security hides rows from it. Our own catalogue queries,
every name and value bound as a parameter (names the rules gave were validated and are quoted)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from watchdog.dialects.base import Dialect
from watchdog.probing.connection import Connection

#: Dialects whose catalogue doctor reads; elsewhere only the probes are run.
DESCRIBED = ("postgresql", "sqlite")

_PG_TABLE = """
SELECT has_table_privilege(c.oid, 'SELECT') AS readable, c.relrowsecurity AS rls,
       c.relforcerowsecurity AS forced, pg_get_userbyid(c.relowner) = current_user AS owner,
       (SELECT rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = current_user) AS bypass,
       current_user AS role
FROM pg_class c WHERE c.oid = to_regclass({t})"""
_PG_COLUMNS = """
SELECT attname AS name, format_type(atttypid, atttypmod) AS type,
       has_column_privilege(attrelid, attnum, 'SELECT') AS readable
FROM pg_attribute WHERE attrelid = to_regclass({t}) AND attnum > 0 AND NOT attisdropped ORDER BY attnum"""


@dataclass(frozen=True)
class Table:
    """A table as the connecting role sees it."""

    name: str
    columns: dict[str, str]  # name -> type as the database writes it
    unreadable_columns: frozenset[str] = frozenset()
    readable: bool = True
    role: str | None = None
    rls_applies: bool = False  # row-level security filters what this role reads
    meta: dict[str, Any] = field(default_factory=dict)


def describe(conn: Connection, dialect: Dialect, table: str, timeout: float) -> Table | None:
    """The table, or None when it does not exist (or is not on the search path)."""
    if dialect.name == "postgresql":
        return _postgresql(conn, dialect, table, timeout)
    schema, _, name = table.rpartition(".")
    rows = conn.query(f"SELECT name, type FROM pragma_table_info({dialect.placeholder('t')}"
                      + (f", {dialect.placeholder('s')})" if schema else ")"), {"t": name, "s": schema}, timeout, False)
    return Table(table, {r["name"]: str(r["type"] or "") for r in rows}) if rows else None


def _postgresql(conn: Connection, dialect: Dialect, table: str, timeout: float) -> Table | None:
    params = {"t": dialect.quote(table)}
    found = conn.query(_PG_TABLE.format(t=dialect.placeholder("t")), params, timeout, False)
    if not found:
        return None
    [info] = found
    columns = conn.query(_PG_COLUMNS.format(t=dialect.placeholder("t")), params, timeout, False)
    return Table(
        table, {c["name"]: c["type"] for c in columns}, frozenset(c["name"] for c in columns if not c["readable"]),
        readable=bool(info["readable"]), role=info["role"],
        rls_applies=bool(info["rls"]) and not info["bypass"] and (not info["owner"] or bool(info["forced"])),
    )


def has_rows(conn: Connection, dialect: Dialect, table: str, timeout: float) -> bool:
    """Whether the role sees any row of the table."""
    [row] = conn.query(f"SELECT EXISTS (SELECT 1 FROM {dialect.quote(table)}) AS seen", {}, timeout, False)
    return bool(row["seen"])


def matches(conn: Connection, dialect: Dialect, table: str, column: str, value: Any, timeout: float) -> bool:
    """Whether some row has `column` = `value`."""
    sql = f"SELECT EXISTS (SELECT 1 FROM {dialect.quote(table)} WHERE {dialect.quote_part(column)} = {dialect.placeholder('v')}) AS hit"
    [row] = conn.query(sql, {"v": value}, timeout, False)
    return bool(row["hit"])


def some_values(conn: Connection, dialect: Dialect, table: str, column: str, timeout: float, limit: int = 200) -> list[Any]:
    """Up to `limit` distinct values of the column, for a did-you-mean."""
    col = dialect.quote_part(column)
    rows = conn.query(f"SELECT DISTINCT {col} AS v FROM {dialect.quote(table)} WHERE {col} IS NOT NULL LIMIT {int(limit)}",
                      {}, timeout, False)
    return [r["v"] for r in rows]


def all_null(conn: Connection, dialect: Dialect, table: str, column: str, timeout: float) -> bool:
    """Whether no row the role sees has a value in the column."""
    col = dialect.quote_part(column)
    [row] = conn.query(f"SELECT NOT EXISTS (SELECT 1 FROM {dialect.quote(table)} WHERE {col} IS NOT NULL) AS empty",
                       {}, timeout, False)
    return bool(row["empty"])
