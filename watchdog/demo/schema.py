"""The demo schema: one definition, rendered as DDL for PostgreSQL, SQLite and MySQL/MariaDB.

SQLite has no timestamp type: timestamps are TEXT in UTC as 'YYYY-MM-DD HH:MM:SS', the format
the probes' cutoffs use, so text comparison orders them correctly. MySQL keeps them as DATETIME in
UTC (the probes' session time zone); its texts are VARCHAR, which an index can cover whole.
"""
from __future__ import annotations

from dataclasses import dataclass

from watchdog.dialects import Dialect

# Logical column type -> its type in each dialect.
DIALECT_COLUMNS = ("postgresql", "sqlite", "mysql")
TYPES = {
    "serial": ("bigserial PRIMARY KEY", "INTEGER PRIMARY KEY", "BIGINT AUTO_INCREMENT PRIMARY KEY"),
    "key": ("text PRIMARY KEY", "TEXT PRIMARY KEY", "VARCHAR(191) PRIMARY KEY"),
    "text": ("text", "TEXT", "VARCHAR(255)"),
    "bigint": ("bigint", "INTEGER", "BIGINT"),
    "int": ("integer", "INTEGER", "INT"),
    "timestamp": ("timestamptz", "TEXT", "DATETIME(6)"),
    "boolean": ("boolean NOT NULL DEFAULT true", "INTEGER NOT NULL DEFAULT 1", "BOOLEAN NOT NULL DEFAULT true"),
}


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[tuple[str, str], ...]
    indexes: tuple[tuple[str, ...], ...] = ()

    @property
    def serial(self) -> str | None:
        """The auto-numbered key column, if the table has one."""
        return next((c for c, kind in self.columns if kind == "serial"), None)


def table(name: str, columns: str, *indexes: str) -> Table:
    """`columns` as 'name type, ...' (types from TYPES), each index as 'column, column'."""
    pairs = tuple((column, kind) for column, kind in (spec.split() for spec in columns.split(",")))
    return Table(name, pairs, tuple(tuple(c.strip() for c in index.split(",")) for index in indexes))


TABLES = (
    table("automation_runs", "id serial, job_id text, run_at_ms bigint, env text, status text, started_at timestamp, "
          "finished_at timestamp, error text", "job_id, run_at_ms", "run_at_ms", "started_at"),
    table("notifications", "id serial, job_id bigint, kind text, recipient text, sent_at timestamp",
          "job_id, kind, sent_at", "sent_at"),
    table("system_events", "id serial, event_type text, severity text, message text, created_at timestamp",
          "event_type, created_at", "created_at"),
    table("post_attempts", "permit_id key, decision_id text, decision_type text, pipeline_source text, status text, "
          "reason_code text, actual_tweet_id text, created_at timestamp", "decision_type, created_at", "created_at"),
    table("batch_jobs", "id serial, org_id text, status text, started_at timestamp, last_heartbeat timestamp, "
          "completed_at timestamp, tasks_total int, tasks_done int", "status, last_heartbeat", "started_at", "last_heartbeat"),
    table("cron_jobs", "jobid serial, jobname text, schedule text, command text, active boolean", "command"),
    table("scheduler_runs", "id serial, function_name text, status text, started_at timestamp, completed_at timestamp",
          "function_name, started_at", "started_at"),
    table("jobs", "id serial, job_type text, status text, domain_id bigint, created_at timestamp, updated_at timestamp",
          "status, created_at", "created_at"),
    table("domains", "id serial, domain text, sitemap_analysis_status text, updated_at timestamp",
          "sitemap_analysis_status, updated_at"),
    table("sitemap_files", "id serial, domain_id bigint, url text, created_at timestamp", "domain_id", "created_at"),
)

BY_NAME = {table.name: table for table in TABLES}


def create_statements(dialect: Dialect) -> list[str]:
    """CREATE TABLE and CREATE INDEX for every demo table, in `dialect`."""
    column = DIALECT_COLUMNS.index(dialect.name)
    quote = dialect.quote
    statements = []
    for table in TABLES:
        body = ",\n  ".join(f"{quote(name)} {TYPES[kind][column]}" for name, kind in table.columns)
        statements.append(f"CREATE TABLE {quote(table.name)} (\n  {body}\n)")
        for columns in table.indexes:
            index = quote(f"{table.name}_{'_'.join(columns)}_idx")
            statements.append(f"CREATE INDEX {index} ON {quote(table.name)} "
                              f"({', '.join(quote(c) for c in columns)})")
    return statements


def drop_statements(dialect: Dialect) -> list[str]:
    """Drops the demo tables only (nothing else in the database is touched)."""
    return [f"DROP TABLE IF EXISTS {dialect.quote(table.name)}" for table in TABLES]
