"""A target's units are handed to its connections in shrinking chunks: few round trips while much is
left, and no connection left alone with the slow units while another idles."""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from watchdog.evaluation.chunks import Chunks
from watchdog.evaluation.evaluator import Evaluator
from watchdog.evaluation.units import Unit, plan_units
from watchdog.plan import build_plan
from watchdog.probing.connection import connect


def _units(n: int) -> list[Unit]:
    return [Unit.__new__(Unit) for _ in range(n)]  # only counted here, never run


def test_chunks_shrink_as_the_queue_empties_and_one_connection_takes_all() -> None:
    queue = Chunks(_units(17), connections=2)
    sizes = []
    while chunk := queue.take():
        sizes.append(len(chunk))
    assert sizes == [5, 3, 3, 2, 1, 1, 1, 1]
    units = _units(14)
    first = Chunks(units, connections=2).take()  # across the queue: rules of one table and kind sit together
    assert [units.index(u) for u in first] == [0, 3, 6, 9]
    assert [len(Chunks(_units(17), connections=1).take())] == [17]
    assert Chunks(_units(1), connections=4).connections == 1


RULES = """
version: 1
targets: {{main: {{dsn: "{dsn}", pool_size: 2}}}}
rules:
  - {{name: slow_a, check: sql, query: "SELECT 1 AS x FROM pg_sleep(0.3) WHERE random() < 0"}}
  - {{name: quick_a, check: sql, query: "SELECT 1 AS x WHERE false"}}
  - {{name: slow_b, check: sql, query: "SELECT 2 AS x FROM pg_sleep(0.3) WHERE random() < 0"}}
  - {{name: quick_b, check: sql, query: "SELECT 2 AS x WHERE false"}}
"""


@pytest.mark.postgres
def test_the_slow_units_run_on_different_connections(write_rules: Callable[[str], Path], postgres_dsn: str) -> None:
    """Dealt out in fixed shares (every other unit), both slow units would share one connection."""
    plan = build_plan(write_rules(RULES.format(dsn=postgres_dsn)), env={})
    ran_on: dict[str, int] = {}

    class Noting:
        def __init__(self, dsn: str, *args: Any, **kwargs: Any) -> None:
            self.conn, self.broken = connect(dsn, *args, **kwargs), False

        def query(self, sql: str, *args: Any) -> Any:
            ran_on[sql] = id(self)
            return self.conn.query(sql, *args)

        def close(self) -> None:
            self.conn.close()
    evaluator = Evaluator(plan.targets, connector=Noting)
    try:
        assert [r.status for r in evaluator.evaluate(plan.probes)] == ["ok"] * 4
    finally:
        evaluator.close()
    slow = {ran_on[p.sql] for p in plan.probes if "pg_sleep" in p.sql}
    assert len(slow) == 2 and len(set(ran_on.values())) == 2


def test_a_closed_evaluator_starts_no_more_chunks(write_rules: Callable[[str], Path], tmp_path: Path) -> None:
    """Closing (a daemon stopping) cancels what runs; the units still queued are never started."""
    sqlite3.connect(tmp_path / "x.db").close()
    rules = "".join(f"  - {{name: r{i}, check: sql, query: 'SELECT {i} AS x WHERE 0'}}\n" for i in range(6))
    plan = build_plan(write_rules("version: 1\ntargets: {main: {dsn: 'sqlite:///" + str(tmp_path / "x.db") +
                                  "', pool_size: 2}}\nrules:\n" + rules), env={})
    started, holding, release = [], threading.Event(), threading.Event()

    class Gated:
        def __init__(self, dsn: str, *args: Any, **kwargs: Any) -> None:
            self.conn, self.broken = connect(dsn, *args, **kwargs), False

        def query(self, sql: str, *args: Any) -> Any:
            started.append(sql)
            holding.set()
            release.wait(10)
            return self.conn.query(sql, *args)

        def cancel(self) -> None:
            release.set()

        def abort(self) -> None:
            release.set()

        def close(self) -> None:
            self.conn.close()
    evaluator = Evaluator(plan.targets, connector=Gated)
    futures = evaluator.submit(list(plan_units(plan.probes)))
    assert holding.wait(10)
    evaluator.close()  # cancels the statements under way (here: lets them finish)
    ran = [o for f in futures for o in f.result(10)]
    assert 1 <= len(started) == len(ran) < 6
