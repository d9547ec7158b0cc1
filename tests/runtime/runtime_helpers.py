"""Rules and results for the runtime tests, built the way the loader and the probes build them."""
from __future__ import annotations

import resource
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from watchdog.config.model import Rule
from watchdog.evaluation.execute import utc_now
from watchdog.results.model import Result
from hourly_rules import HOURLY
from jobs_rule import JOBS_STUCK


def sql(db: Path, statement: str) -> None:
    """One statement on the scheduler's SQLite database, committed."""
    with sqlite3.connect(db) as conn:
        conn.execute(statement)


def rule(name: str = "jobs_stuck", **overrides: Any) -> Rule:
    fields: dict[str, Any] = dict(name=name, check="stuck", target="main", params={}, table="jobs",
                                  severity="critical", summary="{{ violations }} jobs stuck", runbook_url="https://example.org/rb")
    fields.update(overrides)
    return Rule(**fields)


def result(status: str, rule_name: str = "jobs_stuck", violations: int | None = None, error: str | None = None,
           target: str = "main") -> Result:
    """A result evaluated now (freezegun's now, where a test freezes time)."""
    count = (1 if status == "violated" else 0) if violations is None else violations
    return Result(rule=rule_name, target=target, check="stuck", status=status, severity="critical",
                  evaluated_at=utc_now(), violations=count, value=float(count),
                  samples=({"id": 7, "age_seconds": 3600},) if status == "violated" else (),
                  error=error if status == "error" else None)


JOBS_RULES = """
version: 1
targets:
  main: {{dsn: "sqlite:///{db}"}}
  gone: {{dsn: "sqlite:///{db}.missing"}}
defaults: {{interval: 1s}}
notify:
  webhook: {{url: "{hook}"}}
rules:
""" + JOBS_STUCK + """    severity: critical
  - name: never_runs
    check: count
    target: gone
    table: jobs
"""

HOURLY_RULES = HOURLY + JOBS_STUCK


class Monotonic:
    """A monotonic clock that moves only when a test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@contextmanager
def full_disk(state: Path) -> Iterator[None]:
    """From here on no file of this process may grow past the state file's journal as it is now
    (RLIMIT_FSIZE): its next write fails in the kernel (EFBIG), as on a full disk. Other files this
    test writes are smaller; the limit is lifted on the way out."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (Path(f"{state}-wal").stat().st_size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
