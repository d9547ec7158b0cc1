"""Fixtures for replaying the seed incidents on both dialects: a demo database, `watchdog check` on it.

Time is frozen at NOW (the minute after seed 000's 17:05 duplicate run) so every age is exact;
the probes bind `now` from Python, never from the database.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time

from watchdog.cli import main
from watchdog.demo.incidents import dataset
from watchdog.demo.files import write_tables

from integration.files_target import on_files
from watchdog.demo.load import load

NOW = datetime(2026, 2, 4, 17, 6, tzinfo=timezone.utc)
RULES = Path(__file__).resolve().parents[2] / "rules.yaml"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres),
                        pytest.param("mysql", marks=pytest.mark.mysql), "duckdb"])
def dsn(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on SQLite, a fresh PostgreSQL schema, a fresh MariaDB database, and DuckDB over
    JSONL files (the demo tables written as run-history files: see `replay` and `check`)."""
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_dsn")
    if request.param == "mysql":
        return request.getfixturevalue("mysql_dsn")
    if request.param == "duckdb":
        return "duckdb://"
    return f"sqlite:///{tmp_path / 'demo.db'}"


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """Where a duckdb:// test's tables live as JSONL files."""
    return tmp_path / "files"




@pytest.fixture
def frozen() -> Iterator[datetime]:
    with freeze_time(NOW):
        yield NOW


@pytest.fixture
def tables() -> dict[str, Any]:
    """A duckdb:// test's tables (filled by `replay`)."""
    return {}


@pytest.fixture
def replay(dsn: str, frozen: datetime, files: Path, tables: dict[str, Any]) -> Callable[[Iterable[str]], None]:
    """Rebuild the demo tables with the given seeds' incidents (none: the healthy scheduler)."""

    def build(incidents: Iterable[str] = ()) -> None:
        if dsn.startswith("duckdb"):
            tables.update(write_tables(files, dataset(frozen, incidents)))
        else:
            load(dsn, dataset(frozen, incidents))

    return build


@pytest.fixture
def check(dsn: str, capsys: pytest.CaptureFixture[str], files: Path,
          tables: dict[str, Any]) -> Callable[..., tuple[int, dict[str, dict[str, Any]]]]:
    """`watchdog check --format json` against the test database: (exit code, results by rule)."""

    def run(*args: str, path: Path = RULES) -> tuple[int, dict[str, dict[str, Any]]]:
        if dsn.startswith("duckdb"):
            path = on_files(path, files, tables)
        code = main(["check", "-c", str(path), "--dsn", dsn, "--format", "json", *args])
        captured = capsys.readouterr()
        assert captured.out, captured.err
        report = json.loads(captured.out)
        return code, {result["rule"]: result for result in report["results"]}

    return run


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, float) and isinstance(actual, (int, float)):
        return math.isclose(actual, expected, rel_tol=1e-9)
    return actual == expected


@pytest.fixture
def verify() -> Callable[[dict[str, dict[str, Any]], dict[str, dict[str, Any]]], None]:
    """Each expected rule's status, violations, value and samples (only the sample keys given)."""

    def compare(results: dict[str, dict[str, Any]], expected: dict[str, dict[str, Any]]) -> None:
        for rule, want in expected.items():
            got = results[rule]
            assert got["error"] is None, (rule, got["error"])
            for key in ("status", "violations", "value"):
                if key in want:
                    assert _same(got[key], want[key]), (rule, key, got[key], want[key])
            if "samples" in want:
                shown = [{k: sample.get(k) for k in wanted} for sample, wanted in zip(got["samples"], want["samples"])]
                assert len(got["samples"]) == len(want["samples"]), (rule, got["samples"])
                assert all(_same(s[k], w[k]) for s, w in zip(shown, want["samples"]) for k in w), (rule, shown)

    return compare
