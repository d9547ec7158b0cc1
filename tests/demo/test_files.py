"""The demo tables as JSONL files, read back through a real DuckDB with the types the probes expect."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from watchdog.demo.files import write_tables
from watchdog.demo.incidents import SEEDS, dataset
from watchdog.probing.connection import connect

NOW = datetime(2026, 2, 4, 17, 6, tzinfo=timezone.utc)


def test_every_demo_table_reads_back_with_its_rows_and_time_types(tmp_path: Path):
    rows = dataset(NOW, [seed.id for seed in SEEDS])
    tables = write_tables(tmp_path, rows)
    assert sorted(tables) == sorted(rows)
    conn = connect("duckdb://", 5, 5, tables=tables)
    try:
        for name, table_rows in rows.items():
            assert conn.query(f'SELECT COUNT(*) AS n FROM "{name}"', {}, 5) == [{"n": len(table_rows)}], name
        types = {r["column_name"]: r["column_type"] for r in conn.query('SELECT * FROM (DESCRIBE "automation_runs")', {}, 5)}
        [latest] = conn.query('SELECT MAX(started_at) AS t FROM "automation_runs"', {}, 5)
    finally:
        conn.close()
    assert types["started_at"] == "TIMESTAMP WITH TIME ZONE" and types["run_at_ms"] == "BIGINT"
    assert latest["t"] == datetime(2026, 2, 4, 17, 5, 3, tzinfo=timezone.utc)  # staging's 17:05 run
