"""Where watchdog's time goes beside the floor's on one data set: its Python, the reset after user SQL.

    python bench/gap.py                      # the 1M healthy data set (python bench/run.py builds it)
    python bench/gap.py --schema wd_bench_1m_incident

Three figures, each a median over rounds taken in turn (run.py's method):
- watchdog's evaluation of rules.yaml against the floor, as run.py measures it;
- the seconds per evaluation spent resetting the session after the `sql` rule (one round trip);
- the seconds per evaluation spent in watchdog's own Python: the evaluation again, each statement
  answered with the rows it returned last time, without the database.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import adapter  # noqa: E402 (bench modules sit beside this script)
import run as bench  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=os.environ.get("WATCHDOG_BENCH_DSN", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--schema", default="wd_bench_1m")
    parser.add_argument("--seconds", type=float, default=12.0)
    args = parser.parse_args()
    dsn = f"{args.dsn}{'&' if '?' in args.dsn else '?'}options=-csearch_path%3D{args.schema}"
    plan = adapter.load(bench.RULES, dsn)
    conn = psycopg.connect(dsn, autocommit=True)
    chosen = bench.choose_forms(conn, adapter.rule_names(plan), samples=5)
    bound, canned = (adapter.Session(plan, dsn) for _ in range(2))
    resets = bound.time_resets()
    floor_runs, ours = bench.in_turn(
        [lambda: [rule.run() for rule in chosen], bound.cycle()], bench.Budget(args.seconds, 9, 1000))
    reset_per_cycle = resets() / (len(ours) + 1 + adapter.WARM_RUNS)  # its warm-up and sizing round included

    answers: dict[str, Any] = {}
    canned.intercept(lambda run, text, params: answers.setdefault(text, run(text, params)))
    cycle = canned.cycle()  # warmed up on the database: every answer recorded
    canned.intercept(lambda run, text, params: answers[text])
    count = 2000
    started = time.perf_counter()
    for _ in range(count):
        cycle()
    python = (time.perf_counter() - started) / count

    low = statistics.median(floor_runs)
    print(f"{args.schema}: {len(plan.probes)} rules, {len(ours)} rounds; floor {low * 1000:.2f} ms a cycle")
    print(f"  watchdog                      {statistics.median(ours) * 1000:6.2f} ms  {bench.ratio(ours, floor_runs):.3f}x the floor")
    print(f"  reset after user SQL          {reset_per_cycle * 1000:6.2f} ms a cycle")
    print(f"  watchdog's Python, no database {python * 1000:5.2f} ms a cycle ({len(answers)} statements answered from memory)")
    for session in (bound, canned):
        session.close()
    conn.close()


if __name__ == "__main__":
    main()
