"""Run-history files as tables through a real DuckDB over real JSONL, CSV and Parquet files: rows,
time columns of every shape, read-only, time-limited, and the errors an operator can act on.

The SQL below is what the check kinds render through the DuckDB dialect, written out by hand.
"""
from __future__ import annotations

import csv
import json
import os
import re
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import pytest

from watchdog.config.model import TableSource
from watchdog.dialects import DUCKDB
from watchdog.probing.connection import Connection, ProbeFailure, connect
from watchdog.probing.duckdb import directory_of

NOW = datetime(2026, 2, 4, 17, 6, tzinfo=timezone.utc)
AT_1705 = NOW - timedelta(minutes=1)


def run(job: str, env: str, slot: datetime, delay: float = 0.0) -> dict[str, Any]:
    """A run-history line as seed 000's scheduler writes it: the slot in epoch ms, the start as ISO text."""
    started = slot + timedelta(seconds=delay)
    return {"jobId": job, "runAtMs": int(slot.timestamp() * 1000), "env": env, "status": "started",
            "startedAt": started.isoformat(timespec="milliseconds").replace("+00:00", "Z")}


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_parquet(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Written by a DuckDB of the test's own, from the same rows as JSON."""
    source = write_jsonl(path.with_suffix(".src.json"), rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as writer:
        writer.execute(f"COPY (SELECT * FROM read_json_auto('{source}')) TO '{path}' (FORMAT parquet)")
    source.unlink()
    return path


WRITERS = {"jsonl": write_jsonl, "csv": write_csv, "parquet": write_parquet}
PROD = [run("job-1", "production", AT_1705 - timedelta(minutes=10)), run("job-1", "production", AT_1705 - timedelta(minutes=5)),
        run("job-1", "production", AT_1705)]
STAGING = [run("job-1", "staging", AT_1705, delay=1.5)]


def open_files(tables: dict[str, TableSource], timeout: float = 5.0) -> Connection:
    return connect("duckdb://", 5.0, timeout, tables=tables)


@pytest.fixture
def runlog(tmp_path: Path) -> Iterator[Connection]:
    """Seed 000: production and staging each wrote the 17:05 run of job-1 to their own file."""
    write_jsonl(tmp_path / "runs" / "production.jsonl", PROD)
    write_jsonl(tmp_path / "runs" / "staging.jsonl", STAGING)
    conn = open_files({"automation_runs": TableSource(str(tmp_path / "runs" / "*.jsonl"), "jsonl")})
    yield conn
    conn.close()


DUPLICATES = ('SELECT "jobId", "runAtMs", COUNT(*) AS copies, list(DISTINCT filename ORDER BY filename) AS files '
              'FROM "automation_runs" GROUP BY "jobId", "runAtMs" HAVING COUNT(*) > 1')


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_each_format_is_a_table_that_names_its_files(tmp_path: Path, fmt: str):
    prod = WRITERS[fmt](tmp_path / "runs" / f"production.{fmt}", PROD)
    staging = WRITERS[fmt](tmp_path / "runs" / f"staging.{fmt}", PROD[-1:])
    conn = open_files({"automation_runs": TableSource(str(tmp_path / "runs" / f"*.{fmt}"), fmt)})
    rows = conn.query(DUPLICATES, {}, 5)
    assert rows == [{"jobId": "job-1", "runAtMs": PROD[-1]["runAtMs"], "copies": 2, "files": [str(prod), str(staging)]}]
    conn.close()


def test_seed_000_duplicate_caught_across_files_with_the_window(runlog: Connection, tmp_path: Path):
    sql = DUPLICATES.replace("GROUP BY", f'WHERE "runAtMs" >= {DUCKDB.placeholder("p0")} GROUP BY')
    rows = runlog.query(sql, {"p0": DUCKDB.time_value(NOW - timedelta(minutes=3), "ms")}, 5)
    assert [(r["copies"], [Path(f).name for f in r["files"]]) for r in rows] == [(2, ["production.jsonl", "staging.jsonl"])]


# ISO text with an offset (TIMESTAMPTZ), without (TIMESTAMP), in a column DuckDB keeps as text
# (VARCHAR: one value is not a time), and epochs in ms and s.
TIME_SHAPES = {
    "iso_z": ("timestamp", lambda at: at.isoformat(timespec="milliseconds").replace("+00:00", "Z"), "TIMESTAMP WITH TIME ZONE"),
    "iso_naive": ("timestamp", lambda at: at.strftime("%Y-%m-%d %H:%M:%S.%f"), "TIMESTAMP"),
    "iso_text": ("timestamp", lambda at: at.isoformat(timespec="milliseconds").replace("+00:00", "Z"), "VARCHAR"),
    "epoch_ms": ("ms", lambda at: int(at.timestamp() * 1000), "BIGINT"),
    "epoch_s": ("s", lambda at: int(at.timestamp()), "BIGINT"),
}


@pytest.fixture
def times(tmp_path: Path) -> Iterator[Connection]:
    """Runs at 16:55, 17:00, 17:05 and 17:05:01.5 with the time written in each shape."""
    ats = [AT_1705 - timedelta(minutes=10), AT_1705 - timedelta(minutes=5), AT_1705, AT_1705 + timedelta(seconds=1.5)]
    rows = [{"id": i, **{name: shape[1](at) for name, shape in TIME_SHAPES.items()}} for i, at in enumerate(ats, 1)]
    rows.append({"id": 5, **{name: None for name in TIME_SHAPES}, "iso_text": "not yet"})
    write_jsonl(tmp_path / "t" / "times.jsonl", rows)
    conn = open_files({"runs": TableSource(str(tmp_path / "t" / "*.jsonl"))})
    yield conn
    conn.close()


def test_time_shapes_are_read_as_expected(times: Connection):
    types = {r["column_name"]: r["column_type"] for r in times.query('SELECT * FROM (DESCRIBE "runs")', {}, 5)}
    assert {name: types[name] for name in TIME_SHAPES} == {name: shape[2] for name, shape in TIME_SHAPES.items()}


@pytest.mark.parametrize("column", sorted(TIME_SHAPES))
def test_window_cutoff_compares_the_bare_column(times: Connection, column: str):
    """A 2-minute window from NOW holds the two runs of 17:05 whatever the column's type."""
    unit = TIME_SHAPES[column][0]
    sql = f'SELECT id FROM "runs" WHERE {DUCKDB.quote(column)} >= $p0 AND {DUCKDB.quote(column)} < $p1 ORDER BY id'
    params = {"p0": DUCKDB.time_value(NOW - timedelta(minutes=2), unit), "p1": DUCKDB.time_value(NOW, unit)}
    assert times.query(sql, params, 5) == [{"id": 3}, {"id": 4}]


@pytest.mark.parametrize("column", sorted(TIME_SHAPES))
def test_gaps_and_ages(times: Connection, column: str):
    """The duplicate kind's tolerance gap (LAG) and the stuck kinds' age against the bound NOW."""
    unit, col = TIME_SHAPES[column][0], DUCKDB.quote(column)
    gap = DUCKDB.seconds_between(col, f"LAG({col}) OVER (ORDER BY id)", unit)
    age = DUCKDB.seconds_between("$now", col, unit)
    rows = times.query(f'SELECT {gap} AS gap, {age} AS age FROM "runs" WHERE id <= 4 ORDER BY id',
                       {"now": DUCKDB.time_value(NOW, unit)}, 5)
    tail = 1 if unit == "s" else 1.5
    assert [r["gap"] for r in rows] == [None, 300, 300, tail]
    assert [r["age"] for r in rows] == [660, 360, 60, 60 - tail]


def test_batch_counts_and_unused_parameters(runlog: Connection):
    counts = ", ".join(f"{DUCKDB.count_where(p)} AS c{i}" for i, p in enumerate(["env = $p0", "env = $p1"]))
    # `p2` is bound but not named by the SQL (DuckDB would refuse it): it is left out.
    rows = runlog.query(f'SELECT {counts} FROM "automation_runs"', {"p0": "production", "p1": "none", "p2": 1}, 5)
    assert rows == [{"c0": 3, "c1": 0}]


def test_percent_is_literal(runlog: Connection):
    assert DUCKDB.escape_text("LIKE 'job%'") == "LIKE 'job%'"
    assert runlog.query('SELECT COUNT(*) AS n FROM "automation_runs" WHERE "jobId" LIKE \'job%\'', {}, 5) == [{"n": 4}]


@pytest.mark.parametrize("sql, kind", [
    ("COPY (SELECT 1) TO '{dir}/stolen.csv'", "COPY"),
    ("EXPLAIN ANALYZE COPY (SELECT 1) TO '{dir}/stolen.csv'", "EXPLAIN"),
    ("CREATE TABLE stolen AS SELECT 1", "CREATE"),
    ("INSERT INTO automation_runs VALUES (1)", "INSERT"),
    ("ATTACH '{dir}/stolen.db'", "ATTACH"),
    ("SET enable_external_access = true", "SET"),
    ("SELECT 1; COPY (SELECT 1) TO '{dir}/stolen.csv'", "SELECT, COPY"),
])
def test_only_a_select_runs_and_nothing_is_written(runlog: Connection, tmp_path: Path, sql: str, kind: str):
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(ProbeFailure, match=rf"^read-only target: only a single SELECT may run on DuckDB \(got {kind}\)$"):
        runlog.query(sql.format(dir=tmp_path / "runs"), {}, 5)
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.parametrize("reader", ["read_csv_auto", "read_json_auto", "read_text", "sniff_csv", "glob"])
def test_files_outside_the_globs_directories_cannot_be_read(runlog: Connection, tmp_path: Path, reader: str):
    secret = write_jsonl(tmp_path / "elsewhere" / "secret.jsonl", [{"token": "hunter2"}])
    for path in (secret, Path("/etc/hostname")):
        with pytest.raises(ProbeFailure, match="Permission Error: Cannot access file"):
            runlog.query(f"SELECT * FROM {reader}('{path}')", {}, 5)


def test_the_plan_request_is_allowed(runlog: Connection):
    [row] = runlog.query(DUCKDB.plan_request('SELECT COUNT(*) FROM "automation_runs"'), {}, 5)
    assert "READ_JSON" in json.dumps(json.loads(row["explain_value"]))


def test_timeout_interrupts_a_slow_query_and_the_connection_goes_on(runlog: Connection):
    slow = "SELECT COUNT(*) AS n FROM range(100000000) a, range(100000000) b WHERE a.range + b.range = -1"
    with pytest.raises(ProbeFailure, match=r"^timeout: the probe ran longer than its statement_timeout \(0.2s\)$"):
        runlog.query(slow, {}, 0.2)
    assert not runlog.broken
    assert runlog.query('SELECT COUNT(*) AS n FROM "automation_runs"', {}, 5) == [{"n": 4}]


def test_a_glob_that_matches_nothing_is_named_until_files_appear(tmp_path: Path):
    glob = tmp_path / "runs" / "*.jsonl"
    (tmp_path / "runs").mkdir()
    conn = open_files({"automation_runs": TableSource(str(glob))})
    for _ in range(2):
        with pytest.raises(ProbeFailure, match=rf"^no file matches {re.escape(str(glob))} \(table automation_runs\)$"):
            conn.query('SELECT COUNT(*) AS n FROM "automation_runs"', {}, 5)
    write_jsonl(tmp_path / "runs" / "a.jsonl", PROD)
    assert conn.query('SELECT COUNT(*) AS n FROM "automation_runs"', {}, 5) == [{"n": 3}]
    (tmp_path / "runs" / "a.jsonl").unlink()  # all rotated away later: the view exists, the glob is named again
    with pytest.raises(ProbeFailure, match=rf"^no file matches {re.escape(str(glob))} \(table automation_runs\)$"):
        conn.query('SELECT COUNT(*) AS n FROM "automation_runs"', {}, 5)
    conn.close()


def test_a_malformed_line_names_its_file_and_line(tmp_path: Path):
    bad = tmp_path / "runs" / "b.jsonl"
    write_jsonl(tmp_path / "runs" / "a.jsonl", PROD)
    bad.write_text(json.dumps(PROD[0]) + "\n" + '{"jobId": "job-1", "runAtMs": 17\n' + json.dumps(PROD[1]) + "\n")
    conn = open_files({"automation_runs": TableSource(str(tmp_path / "runs" / "*.jsonl"))})
    with pytest.raises(ProbeFailure, match=rf"^malformed JSON in {bad} line 2: unexpected character$"):
        conn.query('SELECT COUNT(*) AS n FROM "automation_runs"', {}, 5)
    conn.close()


def test_a_file_that_disappears_mid_read_is_named(tmp_path: Path):
    """Rotation between DuckDB listing the files and opening one of them: as soon as DuckDB holds
    one of the files open (so it has listed them), the others are removed."""
    runs = tmp_path / "runs"
    files = [write_jsonl(runs / f"{n:03d}.jsonl", PROD * 200) for n in range(200)]
    conn = open_files({"automation_runs": TableSource(str(runs / "*.jsonl"))})
    reading, done = threading.Event(), threading.Event()

    def rotate() -> None:
        while not done.is_set():
            if any(_points_into(fd, runs) for fd in os.listdir("/proc/self/fd")):
                reading.set()
                for path in reversed(files):
                    path.unlink()
                return

    watcher = threading.Thread(target=rotate, daemon=True)
    watcher.start()
    try:
        with pytest.raises(ProbeFailure) as caught:
            conn.query('SELECT COUNT(*) AS n FROM "automation_runs"', {}, 30)
    finally:
        done.set()
        watcher.join(5)
        conn.close()
    assert reading.is_set()
    assert re.fullmatch(rf"file {re.escape(str(runs))}/\d+\.jsonl disappeared while it was read \(rotated or deleted\?\); "
                        "the next evaluation reads the files present then", str(caught.value)), str(caught.value)


def _points_into(fd: str, directory: Path) -> bool:
    try:
        return os.readlink(f"/proc/self/fd/{fd}").startswith(f"{directory}/")
    except OSError:
        return False


def test_without_tables_or_with_a_path_the_target_is_refused():
    with pytest.raises(ProbeFailure, match="^a duckdb:// target needs 'tables:' naming its files$"):
        connect("duckdb://", 5, 5)
    with pytest.raises(ProbeFailure, match=r"^a DuckDB target is written dsn: duckdb://"):
        connect("duckdb:///var/db.duckdb", 5, 5, tables={"t": TableSource("/x/*.jsonl")})


@pytest.mark.parametrize("glob, directory", [
    ("/var/log/automation-runs/*.jsonl", "/var/log/automation-runs/"),
    ("/var/log/**/runs-*.jsonl", "/var/log/"),
    ("/var/log/runs/2026-0[12]/x.csv", "/var/log/runs/"),
    ("/var/log/runs/one.parquet", "/var/log/runs/"),
])
def test_access_is_limited_to_the_directory_above_the_first_wildcard(glob: str, directory: str):
    assert directory_of(glob) == directory
