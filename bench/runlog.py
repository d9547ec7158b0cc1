"""watchdog over 1 GB of JSONL run-history files (a duckdb:// target) against DuckDB's own query.

    python bench/runlog.py              # builds bench/.data/runlog once (about 1 GB), then measures
    python bench/runlog.py --rebuild    # builds the files again

The files are seed 000's run history at scale: 600 jobs every minute for 7 days, written by
production into one file per day (`production-YYYY-MM-DD.jsonl`, as a daily log rotation leaves
them), and the incident: staging's scheduler ran 22 of the jobs again for the last 23 hours, into
`staging-YYYY-MM-DD.jsonl` (30,360 duplicated `(jobId, runAtMs)`, 30,360 runs outside production).
The rules are examples/runlog.yaml's, pointed at these files, their 24h windows widened by the
hours since the files were built, so every run looks at the same day of data.

watchdog (the rules evaluated in-process through the evaluator, and `watchdog check` as a process)
is timed in turn with the floor: the SQL a DBA would write in DuckDB for the same answers, over
the same files, in the same DuckDB (in-process on one open connection, and as a Python process
that imports only DuckDB and runs them). Ratios are medians of the rounds' ratios. Prints Markdown rows
for bench/README.md.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from run import Command, ratio, rounds, summary, _ms  # noqa: E402 (bench modules sit beside this script)

from watchdog.evaluation.evaluator import Evaluator  # noqa: E402
from watchdog.plan import build_plan  # noqa: E402

DATA = HERE / ".data" / "runlog"
FILES = DATA / "automation-runs"
MANIFEST = DATA / "manifest.json"
DAYS, JOBS, STEP_MS = 7, 600, 60_000
INCIDENT_JOBS, INCIDENT_HOURS = 22, 23
FORMAT_VERSION = 1  # bump when the files' shape changes: older builds are rebuilt

# One file's runs: every job at every slot of [first, last), started 2 s (+10 ms a job) after its
# slot by `env`, 1% of them failed.
_RUNS = """COPY (
  SELECT 'job-' || lpad(j::VARCHAR, 4, '0') AS "jobId", s AS "runAtMs", '{env}' AS env,
         CASE WHEN (j * 7 + s // 60000) % 100 = 0 THEN 'error' ELSE 'success' END AS status,
         strftime(make_timestamp((s + {lag} + j * 10) * 1000), '%Y-%m-%dT%H:%M:%S.%gZ') AS "startedAt",
         strftime(make_timestamp((s + {lag} + 30000 + j * 10) * 1000), '%Y-%m-%dT%H:%M:%S.%gZ') AS "finishedAt",
         CASE WHEN (j * 7 + s // 60000) % 100 = 0 THEN 'exit code 1' END AS error
  FROM range({first}, {last}, {step}) slots(s), range({jobs}) jobs(j)
  ORDER BY s, j
) TO '{path}' (FORMAT JSON)"""


def build() -> dict[str, Any]:
    """The files, per environment and UTC day, ending at the current minute; what was built."""
    shutil.rmtree(DATA, ignore_errors=True)
    FILES.mkdir(parents=True)
    began = time.perf_counter()
    end = int(time.time() // 60 * 60 * 1000)
    conn = duckdb.connect()
    spans = [("production", end - DAYS * 86_400_000, JOBS, 2000),
             ("staging", end - INCIDENT_HOURS * 3_600_000, INCIDENT_JOBS, 3000)]
    for env, start, jobs, lag in spans:
        day = start - start % 86_400_000
        while day < end:
            first, last = max(start, day), min(end, day + 86_400_000)
            name = datetime.fromtimestamp(day / 1000, timezone.utc).strftime(f"{env}-%Y-%m-%d.jsonl")
            conn.execute(_RUNS.format(env=env, lag=lag, first=first, last=last, step=STEP_MS, jobs=jobs,
                                      path=FILES / name))
            day += 86_400_000
    conn.close()
    files = sorted(FILES.iterdir())
    built = {"version": FORMAT_VERSION, "end_ms": end, "seconds": round(time.perf_counter() - began, 1),
             "files": len(files), "bytes": sum(f.stat().st_size for f in files)}
    MANIFEST.write_text(json.dumps(built), encoding="utf-8")
    return built


def built_files(rebuild: bool) -> dict[str, Any]:
    """The manifest of the files in place, built first when missing, outdated or asked for."""
    if not rebuild and MANIFEST.exists():
        built = json.loads(MANIFEST.read_text(encoding="utf-8"))
        if built.get("version") == FORMAT_VERSION:
            return built
    return build()


def window_hours(built: dict[str, Any]) -> int:
    """The rules' 24h, widened by the whole hours since the files end: the same day of data on every run."""
    return 24 + math.ceil((time.time() * 1000 - built["end_ms"]) / 3_600_000)


def bench_rules(hours: int) -> Path:
    """examples/runlog.yaml pointed at the bench's files, its windows `hours` long."""
    document = yaml.safe_load((ROOT / "examples" / "runlog.yaml").read_text(encoding="utf-8"))
    document["targets"]["runlog"]["tables"]["automation_runs"]["path"] = str(FILES / "*.jsonl")
    for rule in document["rules"]:
        if "window" in rule:
            rule["window"] = f"{hours}h"
        if "query" in rule:
            assert "INTERVAL 1 DAY" in rule["query"], "examples/runlog.yaml's sql rule changed: update the bench"
            rule["query"] = rule["query"].replace("INTERVAL 1 DAY", f"INTERVAL {hours} HOUR")
    path = DATA / "runlog.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def floor_queries(hours: int) -> dict[str, str]:
    """What a DBA writes in DuckDB for the rules' answers: each rule's violations counted, with the
    first 5 in watchdog's order, straight over the files."""
    files = "'" + str(FILES / "*.jsonl").replace("'", "''") + "'"
    since = f"now() - INTERVAL {hours} HOUR"
    return {
        "duplicate_runs": f"""
            SELECT "jobId", "runAtMs", count(*) AS copies, count(*) OVER () AS violations
            FROM read_json_auto({files}) WHERE "runAtMs" >= epoch_ms({since})
            GROUP BY "jobId", "runAtMs" HAVING count(*) > 1
            ORDER BY copies DESC, "jobId", "runAtMs" LIMIT 5""",
        "duplicate_runs_by_file": f"""
            SELECT "jobId", "runAtMs", count(*) AS copies, string_agg(DISTINCT filename, ', ' ORDER BY filename) AS files,
                   count(*) OVER () AS violations
            FROM read_json_auto({files}, filename = true) WHERE "runAtMs" >= epoch_ms({since})
            GROUP BY "jobId", "runAtMs" HAVING count(DISTINCT filename) > 1
            ORDER BY "runAtMs" LIMIT 5""",
        "scheduler_outside_production": f"""
            SELECT *, count(*) OVER () AS violations
            FROM read_json_auto({files}) WHERE "startedAt" >= {since} AND env IS DISTINCT FROM 'production'
            ORDER BY "startedAt" DESC LIMIT 5""",
    }


# The floor as a process: Python started, DuckDB imported and connected, the queries (argv[1]) run.
FLOOR_PROGRAM = ("import duckdb, json, sys\nconn = duckdb.connect()\nconn.execute('SET enable_progress_bar = false')\n"
                 "for sql in json.loads(sys.argv[1]):\n    conn.execute(sql).fetchall()\nprint('floor: done')\n")


def floor(conn: duckdb.DuckDBPyConnection, queries: dict[str, str]) -> dict[str, int]:
    """Every floor query once: each rule's violation count."""
    counts = {}
    for rule, sql in queries.items():
        cursor = conn.execute(sql)
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
        counts[rule] = rows[0][names.index("violations")] if rows else 0
    return counts


def watchdog_cycle(rules: Path, only: str | None = None,
                   pool_size: int | None = None) -> tuple[Callable[[], dict[str, int]], Callable[[], None]]:
    """One evaluation of the rule file (or of its rule `only`) as `watchdog check` does it (the plan's
    targets and pools, or pools of `pool_size`), callable again and again on the evaluator's open
    connections; and its close."""
    plan = build_plan(rules)
    probes = [p for p in plan.probes if only in (None, p.rule.name)]
    targets = plan.targets if pool_size is None else {
        name: replace(target, pool_size=pool_size) for name, target in plan.targets.items()}
    evaluator = Evaluator(targets)

    def cycle() -> dict[str, int]:
        results = evaluator.evaluate(probes)
        errors = [f"{r.rule}: {r.error}" for r in results if r.status == "error"]
        if errors:
            raise RuntimeError("; ".join(errors))
        return {r.rule: r.violations for r in results}
    return cycle, evaluator.close


def row(measure: str, times: list[float], note: str = "") -> str:
    median, best = summary(times)
    return f"| {measure} | {_ms(median)} | {_ms(best)} | {note} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="build the files again")
    parser.add_argument("--rounds", type=int, default=7, help="rounds in turn, in-process (default 7)")
    parser.add_argument("--process-rounds", type=int, default=5, help="rounds in turn, as processes (default 5)")
    parser.add_argument("--rule-rounds", type=int, default=3, help="rounds in turn, each rule alone (default 3)")
    args = parser.parse_args(argv)

    built = built_files(args.rebuild)
    hours = window_hours(built)
    rules = bench_rules(hours)
    queries = floor_queries(hours)
    print(f"files: {built['files']} in {FILES}, {built['bytes'] / 1e9:.2f} GB, built in {built['seconds']} s; "
          f"DuckDB {duckdb.__version__}; windows {hours}h")

    conn = duckdb.connect()
    conn.execute("SET enable_progress_bar = false")  # as watchdog's: nothing printed
    cycle, close = watchdog_cycle(rules)
    serial, close_serial = watchdog_cycle(rules, pool_size=1)
    try:
        expected, got = floor(conn, queries), cycle()  # also the warm-up: files in the OS cache
        serial()
        if expected != got:
            print(f"floor and watchdog DIFFER: floor {expected}, watchdog {got}")
            return 1
        print(f"floor and watchdog agree: {expected}")
        low, ours, ours_serial = rounds([lambda: floor(conn, queries), cycle, serial], args.rounds)
    finally:
        close()
        close_serial()
    per_rule: dict[str, list[list[float]]] = {}
    try:
        for rule, sql in queries.items():
            alone, close = watchdog_cycle(rules, rule)
            try:
                alone()
                per_rule[rule] = rounds([lambda: floor(conn, {rule: sql}), alone], args.rule_rounds)
            finally:
                close()
    finally:
        conn.close()

    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    check = Command(["watchdog", "check", "-c", str(rules)], env)
    floor_process = Command([sys.executable, "-c", FLOOR_PROGRAM, json.dumps(list(queries.values()))], env)
    low_process, ours_process = rounds([floor_process, check], args.process_rounds)
    if floor_process.last != "floor: done":  # Command takes exit codes 1 and 2 (watchdog's verdicts)
        raise RuntimeError(f"the floor process failed: {floor_process.last}")

    print("\n| measure | median | best | note |\n|---|---|---|---|")
    print(row(f"floor: DuckDB's own 3 queries over the files, one connection, {args.rounds} rounds", low))
    print(row("watchdog in-process evaluation (Evaluator, the plan's pool)", ours,
              f"watchdog/floor {ratio(ours, low):.2f} (median of the rounds' ratios)"))
    print(row("watchdog in-process evaluation, one connection (pool_size 1)", ours_serial,
              f"watchdog/floor {ratio(ours_serial, low):.2f}"))
    print(row(f"floor as a process (python, import duckdb, the 3 queries), {args.process_rounds} rounds", low_process))
    print(row("`watchdog check`, whole process", ours_process,
              f"watchdog/floor {ratio(ours_process, low_process):.2f}; watchdog said: {check.last}"))
    print(f"\n| rule, alone, {args.rule_rounds} rounds | floor | watchdog | ratio |\n|---|---|---|---|")
    for rule, (low_rule, ours_rule) in per_rule.items():
        print(f"| {rule} | {_ms(statistics.median(low_rule))} | {_ms(statistics.median(ours_rule))} "
              f"| {ratio(ours_rule, low_rule):.2f}x |")
    worst = max(ratio(ours, low), ratio(ours_serial, low), ratio(ours_process, low_process))
    print(f"\ngoal: watchdog within 2x DuckDB's own query: {'met' if worst <= 2 else 'MISSED'} ({worst:.2f}x at worst)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
