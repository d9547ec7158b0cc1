"""The demo tables as files, for a duckdb:// target: one folder of JSONL per table.

Times are written as the DuckDB dialect binds them, ISO-8601 UTC text with milliseconds (which
DuckDB reads as TIMESTAMP WITH TIME ZONE), other values as they are; the returned mapping is the
target's `tables:`, so the per-kind integration tests can run on DuckDB as on a loaded database.
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from watchdog.model.values import TableSource
from watchdog.demo.incidents import Rows
from watchdog.dialects import DUCKDB


def write_tables(directory: Path, rows: Rows) -> dict[str, TableSource]:
    """DIR/<table>/rows.jsonl for every table of `rows`; the tables: mapping that reads them."""
    tables = {}
    for name, table_rows in rows.items():
        folder = directory / name
        folder.mkdir(parents=True, exist_ok=True)
        lines = (json.dumps({key: _value(value) for key, value in row.items()}) + "\n" for row in table_rows)
        (folder / "rows.jsonl").write_text("".join(lines), encoding="utf-8")
        tables[name] = TableSource(str(folder / "*.jsonl"), "jsonl")
    return tables


def _value(value: Any) -> Any:
    return DUCKDB.timestamp_value(value) if isinstance(value, datetime) else value
