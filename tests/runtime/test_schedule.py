"""Units and slots: rules batched per (target, table, interval), stable spread offsets, skipped slots."""
from __future__ import annotations

from pathlib import Path
from collections.abc import Callable

from watchdog.plan import build_plan
from watchdog.evaluation.units import plan_units
from watchdog.runtime.schedule import next_slot

RULES = """
version: 1
targets:
  main: {dsn: "sqlite:///x.db"}
  other: {dsn: "sqlite:///y.db"}
rules:
  - {name: a, check: stuck, table: jobs, where: {status: pending}, time_column: created_at, older_than: 5m}
  - {name: b, check: stuck, table: jobs, where: {status: running}, time_column: created_at, older_than: 1h}
  - {name: c, check: stuck, table: jobs, where: {status: queued}, time_column: created_at, older_than: 1h, interval: 5m}
  - {name: d, check: stuck, table: jobs, where: {status: pending}, time_column: created_at, older_than: 5m, target: other}
  - {name: e, check: sql, query: "SELECT 1 WHERE 0"}
"""


def test_rules_of_one_target_table_and_interval_share_a_unit(write_rules: Callable[[str], Path]) -> None:
    units = plan_units(build_plan(write_rules(RULES)).probes)
    assert sorted(unit.name for unit in units) == ["a,b", "c", "d", "e"]


def test_offsets_are_stable_spread_and_within_the_interval(write_rules: Callable[[str], Path]) -> None:
    rules = "\n".join(f"  - {{name: r{i}, check: sql, query: 'SELECT 1 WHERE 0'}}" for i in range(200))
    path = write_rules('version: 1\ntargets: {main: {dsn: "sqlite:///x.db"}}\nrules:\n' + rules)
    first = [unit.offset() for unit in plan_units(build_plan(path).probes)]
    again = [unit.offset() for unit in plan_units(build_plan(path).probes)]
    assert first == again
    assert all(0 <= offset < 60 for offset in first)
    assert len({int(offset // 6) for offset in first}) == 10  # every tenth of the minute gets some


def test_the_next_slot_is_one_interval_on_and_a_late_loop_skips_rather_than_bursts() -> None:
    assert next_slot(base=100.0, interval=60.0, now=100.0) == 160.0
    assert next_slot(base=100.0, interval=60.0, now=50.0) == 160.0
    assert next_slot(base=100.0, interval=60.0, now=161.0) == 220.0
    assert next_slot(base=100.0, interval=60.0, now=400.0) == 460.0
