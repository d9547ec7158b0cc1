"""Seed 000 as the scheduler's run-history files: one JSONL file per environment, a line per run.

The postmortem confirmed the duplicates from /var/log/automation-runs/*.jsonl; these files hold the
same runs as the demo's automation_runs table, named the way the scheduler (Node) writes them:
camelCase keys, the slot as epoch milliseconds, times as ISO-8601 UTC text (JavaScript's
toISOString(), which is also how the DuckDB dialect binds a time).
"""
from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from watchdog.demo.incidents import dataset
from watchdog.dialects import DUCKDB

# The example rule file over these files, installed with the package (a link to examples/runlog.yaml).
RULES = Path(__file__).resolve().parent / "runlog.yaml"
FOLDER = "automation-runs"  # where the example rule file looks, beside itself


def run_line(row: dict[str, Any]) -> dict[str, Any]:
    """A demo row as the scheduler's run-history line."""
    return {"jobId": row["job_id"], "runAtMs": row["run_at_ms"], "env": row["env"], "status": row["status"],
            "startedAt": DUCKDB.timestamp_value(row["started_at"]), "finishedAt": DUCKDB.timestamp_value(row["finished_at"]),
            "error": row["error"]}


def write_runlog(directory: Path, now: datetime) -> list[Path]:
    """DIR/automation-runs/<env>.jsonl with seed 000's incident at `now`, and DIR/runlog.yaml, the
    rule file that reads them; the paths written, rule file last."""
    folder = directory / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    by_env: dict[str, list[str]] = {}
    for row in sorted(dataset(now, ["000"])["automation_runs"], key=lambda r: r["started_at"]):
        by_env.setdefault(row["env"], []).append(json.dumps(run_line(row)) + "\n")
    written = []
    for env, lines in sorted(by_env.items()):
        path = folder / f"{env}.jsonl"
        path.write_text("".join(lines), encoding="utf-8")
        written.append(path)
    rules = directory / RULES.name
    shutil.copyfile(RULES, rules)
    return [*written, rules]
