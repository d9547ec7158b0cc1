"""Rule files for the benchmarks, over the bench data (the demo schema, see data.py).

- `scaled(n)`: n rules of every kind over every table, as a large deployment would have them,
  for the daemon at scale (compile time, cycle time, /metrics, memory);
- `per_table(k)`: k batchable rules on each of five tables, for one-scan-per-table (5 vs 100).
"""
from __future__ import annotations

from collections.abc import Callable

HEADER = """version: 1
targets:
  main: {{dsn: "{dsn}", statement_timeout: 30s, pool_size: 2}}
defaults: {{interval: 1m}}
rules:
"""

# One batchable rule per table, varied by i so that no two rules are the same.
BATCHABLE: tuple[Callable[[int], str], ...] = (
    lambda i: f"{{name: r{i}, check: stuck, table: jobs, where: {{status: pending}}, time_column: created_at, older_than: {5 + i % 50}m}}",
    lambda i: f"{{name: r{i}, check: stale_heartbeat, table: batch_jobs, where: {{status: running}}, heartbeat_column: last_heartbeat, "
              f"max_age: {2 + i % 30}m}}",
    lambda i: f"{{name: r{i}, check: allowlist, table: post_attempts, where: {{decision_type: reply}}, column: pipeline_source, "
              f"allowed: [reply_v2_scheduler, src_{i}], time_column: created_at, window: {1 + i % 24}h}}",
    lambda i: f"{{name: r{i}, check: count, table: system_events, where: {{event_type: reply_v2_scheduler_job_started}}, "
              f"time_column: created_at, window: {30 + i % 60}m, expect: '> 0'}}",
    lambda i: f"{{name: r{i}, check: count, table: notifications, where: {{kind: followup}}, time_column: sent_at, "
              f"window: {1 + i % 24}h, expect: '> 0'}}",
)

# The kinds that run alone (a GROUP BY, an aggregate over a window, or the newest row).
ALONE: tuple[Callable[[int], str], ...] = (
    lambda i: f"{{name: r{i}, check: duplicate, table: automation_runs, key: [job_id, run_at_ms], time_column: run_at_ms, "
              f"time_unit: ms, window: {1 + i % 24}h}}",
    lambda i: f"{{name: r{i}, check: absent, table: system_events, where: {{event_type: event_{i % 19}}}, time_column: created_at, "
              f"within: {30 + i % 60}m}}",
    lambda i: f"{{name: r{i}, check: ratio, table: batch_jobs, where: {{status: [completed, failed]}}, failed: {{status: failed}}, "
              f"time_column: started_at, window: {1 + i % 24}h, max: 0.5}}",
)


def _file(dsn: str, rules: list[str]) -> str:
    return HEADER.format(dsn=dsn) + "".join(f"  - {rule}\n" for rule in rules)


def scaled(dsn: str, n: int) -> str:
    """n rules, five in eight of them batchable, like a real rule set."""
    kinds = BATCHABLE + ALONE
    return _file(dsn, [kinds[i % len(kinds)](i) for i in range(n)])


def per_table(dsn: str, k: int) -> str:
    """k batchable rules on each of the five tables (5 * k rules)."""
    return _file(dsn, [BATCHABLE[t](t * k + j) for t in range(len(BATCHABLE)) for j in range(k)])
