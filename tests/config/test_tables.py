"""`tables:` of a duckdb:// target: each a glob and a format; errors at their FILE:LINE:COL."""
from __future__ import annotations

import pytest

from watchdog.cli import main
from watchdog.config.loader import load
from watchdog.config.model import TableSource
from watchdog.errors import ConfigError
from watchdog.plan import build_plan


def test_tables_become_table_sources(write_rules):
    path = write_rules("""
        version: 1
        targets:
          runlog:
            dsn: duckdb://
            tables:
              automation_runs: {path: /var/log/automation-runs/*.jsonl, format: jsonl}
              exports: {path: /srv/exports/*.parquet, format: parquet}
              legacy: {path: /srv/legacy/*.csv}
        rules: []
    """)
    target = load(path, {}).rule_file.targets["runlog"]
    assert target.tables == {
        "automation_runs": TableSource("/var/log/automation-runs/*.jsonl", "jsonl"),
        "exports": TableSource("/srv/exports/*.parquet", "parquet"),
        "legacy": TableSource("/srv/legacy/*.csv", "jsonl"),
    }


def test_a_relative_glob_is_read_from_the_rule_files_folder(write_rules, tmp_path, monkeypatch):
    path = write_rules("version: 1\ntargets:\n  runlog: {dsn: 'duckdb://', tables: {runs: {path: logs/*.jsonl}}}\nrules: []\n")
    monkeypatch.chdir("/")
    assert load(path.relative_to("/"), {}).rule_file.targets["runlog"].tables["runs"].path == f"{tmp_path}/logs/*.jsonl"


def test_a_database_target_has_no_tables(write_rules):
    path = write_rules("version: 1\ntargets:\n  main: {dsn: 'sqlite:///x.db'}\nrules: []\n")
    assert load(path, {}).rule_file.targets["main"].tables == {}


@pytest.mark.parametrize("target, message", [
    ("{dsn: 'duckdb://', tables: {runs: {path: /x/*.jsonl, format: xml}}}", "3:70: 'xml' is not one of jsonl, csv, parquet"),
    ("{dsn: 'duckdb://', tables: {runs: {format: csv}}}", "3:43: missing required key 'path'"),
    ("{dsn: 'duckdb://', tables: {runs: {path: 3}}}", "3:50: expected a string, got an integer"),
    ("{dsn: 'duckdb://', tables: {runs: {path: /x/*.jsonl, glob: y}}}", "3:62: unknown key 'glob'"),
    ("{dsn: 'duckdb://'}", "3:9: a duckdb:// target needs 'tables:' (name: {path: GLOB, format: jsonl|csv|parquet})"),
    ("{dsn: 'sqlite:///x.db', tables: {runs: {path: /x/*.jsonl}}}", "3:33: 'tables:' is for duckdb:// targets only (a database has its own tables)"),
    ("{dsn: 'duckdb:///var/x.duckdb', tables: {runs: {path: /x/*.jsonl}}}",
     "3:15: target 'main': a DuckDB target is written dsn: duckdb:// (in memory; its files go under 'tables:')"),
])
def test_table_errors_point_at_the_key(write_rules, target: str, message: str):
    path = write_rules(f"version: 1\ntargets:\n  main: {target}\nrules: []\n")
    assert main(["validate", "-c", str(path)]) == 2
    with pytest.raises(ConfigError) as caught:
        build_plan(path, env={})
    assert [str(p).replace(str(path), "rules.yaml") for p in caught.value.problems] == [f"rules.yaml:{message}"]
