"""Create the demo tables in a database and fill them, with bound parameters, in one transaction.

Only the demo tables (see schema.TABLES) are dropped and recreated; nothing else is touched.
"""
from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from watchdog.dialects import MYSQL, POSTGRESQL, SQLITE, Dialect
from watchdog.demo.incidents import Rows
from watchdog.demo.schema import BY_NAME, create_statements, drop_statements
from watchdog.probing.dsn import DsnError, dialect_of, mysql_params, redact, scrub, secrets_of, sqlite_path


class LoadError(Exception):
    """The demo database could not be built; the message is one line without secrets."""


def load(dsn: str, rows: Rows) -> None:
    """Drop and recreate the demo tables at `dsn`, then insert `rows`."""
    try:
        dialect = dialect_of(dsn)
        if dialect.name == "postgresql":
            _load_postgres(dsn, rows)
        elif dialect.name == "mysql":
            _load_mysql(dsn, rows)
        elif dialect.name == "sqlite":
            _load_sqlite(sqlite_path(dsn), rows)
        else:
            raise DsnError(f"the demo database cannot be a {dialect.name} target (use watchdog demo --runlog DIR for files)")
    except (DsnError, sqlite3.Error, OSError) as exc:
        raise LoadError(_message(dsn, exc)) from None


def _message(dsn: str, exc: BaseException | str) -> str:
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return scrub(f"cannot build the demo database {redact(dsn)}: {first}", secrets_of(dsn))


def _load_sqlite(path: str, rows: Rows) -> None:
    conn = sqlite3.connect(path)
    try:
        _fill(conn, SQLITE, rows)
        conn.commit()
    finally:
        conn.close()


def _load_postgres(dsn: str, rows: Rows) -> None:
    import psycopg

    try:
        with psycopg.connect(dsn, application_name="watchdog-demo") as conn:
            _fill(conn, POSTGRESQL, rows)
            cursor = conn.cursor()
            for name, table_rows in rows.items():
                serial = BY_NAME[name].serial
                if serial and any(serial in row for row in table_rows):
                    # Explicit ids do not advance a bigserial's sequence: move it past them.
                    cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, %s), MAX({POSTGRESQL.quote(serial)})) "
                                   f"FROM {POSTGRESQL.quote(name)}", [name, serial])
    except psycopg.Error as exc:
        raise LoadError(_message(dsn, exc)) from None


def _load_mysql(dsn: str, rows: Rows) -> None:
    """In one transaction, except the DDL, which MySQL commits on its own."""
    try:
        import pymysql
    except ImportError:
        raise LoadError("a MySQL demo database needs PyMySQL: pip install 'scheduler-watchdog[mysql]'") from None

    try:
        with pymysql.connect(**mysql_params(dsn), charset="utf8mb4", program_name="watchdog-demo") as conn:
            _fill(conn, MYSQL, rows)
            conn.commit()
    except pymysql.Error as exc:
        raise LoadError(_message(dsn, exc.args[1] if len(exc.args) > 1 else exc)) from None


def _fill(conn: Any, dialect: Dialect, rows: Rows) -> None:
    cursor = conn.cursor()
    for statement in drop_statements(dialect) + create_statements(dialect):
        cursor.execute(statement)
    for name, table_rows in rows.items():
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in table_rows:
            by_columns.setdefault(tuple(row), []).append({k: _value(dialect, v) for k, v in row.items()})
        for columns, batch in by_columns.items():
            names = ", ".join(dialect.quote(c) for c in columns)
            marks = ", ".join(dialect.placeholder(c) for c in columns)
            cursor.executemany(f"INSERT INTO {dialect.quote(name)} ({names}) VALUES ({marks})", batch)


def _value(dialect: Dialect, value: Any) -> Any:
    """Timestamps as the dialect stores them (SQLite: UTC text 'YYYY-MM-DD HH:MM:SS')."""
    return dialect.time_value(value, "timestamp") if isinstance(value, datetime) else value
