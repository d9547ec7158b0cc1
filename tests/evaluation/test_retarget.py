"""A reload's targets (Evaluator.retarget) on real SQLite files: a target whose settings changed gets
a new pool, the old one closing its connection only once the probe under way is done with it;
an unchanged target keeps its pool and its open connection."""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from watchdog.evaluation.evaluator import Evaluator, Outcome
from watchdog.evaluation.units import Unit
from watchdog.plan import build_plan
from watchdog.probing.connection import Connection, connect

RULES = """
version: 1
targets:
  main: {{dsn: "sqlite:///{main}"}}
  other: {{dsn: "sqlite:///{other}"}}
rules:
  - {{name: on_main, check: sql, target: main, query: "SELECT 1 WHERE 0"}}
  - {{name: on_other, check: sql, target: other, query: "SELECT 1 WHERE 0"}}
"""


class Recording:
    """The real connector; remembers each connection's DSN and whether it was closed, and holds a
    query on `main` while `hold` is set, until `release`."""

    def __init__(self) -> None:
        self.opened: list[str] = []
        self.closed: list[str] = []
        self.hold = threading.Event()
        self.holding = threading.Event()
        self.release = threading.Event()

    def __call__(self, dsn: str, connect_timeout: float, statement_timeout: float) -> Connection:
        conn = connect(dsn, connect_timeout, statement_timeout)
        real_query, real_close = conn.query, conn.close
        self.opened.append(dsn)

        def query(*args: Any, **kwargs: Any) -> Any:
            if self.hold.is_set():
                self.holding.set()
                self.release.wait(10)
            return real_query(*args, **kwargs)

        def close() -> None:
            self.closed.append(dsn)
            real_close()

        conn.query, conn.close = query, close  # type: ignore[method-assign]
        return conn


def test_a_changed_target_gets_a_new_pool_after_the_probe_under_way_and_the_others_keep_theirs(
        write_rules: Callable[[str], Path], tmp_path: Path) -> None:
    for name in ("main.db", "other.db", "moved.db"):
        sqlite3.connect(tmp_path / name).close()
    main, other, moved = (f"sqlite:///{tmp_path / name}" for name in ("main.db", "other.db", "moved.db"))
    plan = build_plan(write_rules(RULES.format(main=tmp_path / "main.db", other=tmp_path / "other.db")))
    recording = Recording()
    evaluator = Evaluator(plan.targets, connector=recording)
    try:
        assert [r.status for r in evaluator.evaluate(plan.probes)] == ["ok", "ok"]
        assert sorted(recording.opened) == sorted([main, other])

        recording.hold.set()
        [on_main, _] = plan.probes
        [under_way] = evaluator.submit([Unit(on_main)])
        assert recording.holding.wait(10)
        changed = build_plan(write_rules(RULES.format(main=tmp_path / "moved.db", other=tmp_path / "other.db")))
        assert evaluator.retarget(changed.targets) == ["main"]
        assert recording.closed == []  # the old pool's connection is still in use
        recording.hold.clear()
        recording.release.set()
        assert [r.status for r in under_way.result(10)[0].results] == ["ok"]  # the probe under way finished, on it
        assert recording.closed == [main]  # and then it was closed

        assert [r.status for r in evaluator.evaluate(changed.probes)] == ["ok", "ok"]
        assert sorted(recording.opened) == sorted([main, other, moved])  # other's connection kept
    finally:
        evaluator.close()


def test_a_unit_due_as_its_target_is_removed_is_not_run_and_says_so(write_rules: Callable[[str], Path], tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "main.db").close()
    plan = build_plan(write_rules(RULES.format(main=tmp_path / "main.db", other=tmp_path / "main.db")))
    recording = Recording()
    evaluator = Evaluator(plan.targets, connector=recording)
    try:
        evaluator.retarget({"main": plan.targets["main"]})
        seen: list[Outcome] = []
        [gone] = evaluator.submit([Unit(plan.probes[1])], seen.append)
        [outcome] = gone.result(0)
        assert seen == [outcome] and outcome.connected is None
        assert [(r.rule, r.status, r.error) for r in outcome.results] == [
            ("on_other", "error", "target 'other' is no longer in the rule file")]
        assert recording.opened == []
    finally:
        evaluator.close()
