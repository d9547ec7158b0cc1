"""watchdog's cost, measured in one run against the raw SQL of its probes and against its peers.

    python bench/run.py --quick      # the 1M-row data set (within three minutes once peers are installed)
    python bench/run.py              # the 1M and the 10M data sets

Needs a PostgreSQL it may create schemas in: --dsn, else $WATCHDOG_BENCH_DSN, else the local
server (postgres@127.0.0.1:5432/test). Data sets are built once per scale and reused (bench/data.py);
peers are installed once into bench/.venvs (bench/peers.py). Prints a table of medians, bests and
ratios; the last line is `watchdog/raw-sql: <ratio>` on the 1M data.
"""
from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import data  # noqa: E402 (bench modules sit beside this script)
import peers  # noqa: E402
import rulesets  # noqa: E402

from watchdog.commands.explain import render as render_plan  # noqa: E402
from watchdog.plan import Plan, build_plan  # noqa: E402
from watchdog.probing.connection import PostgresConnection  # noqa: E402
from watchdog.evaluation.explain import explain_item  # noqa: E402
from watchdog.evaluation.execute import compile_work, evaluate, members, utc_now  # noqa: E402
from watchdog.runtime.watchdog import Watchdog  # noqa: E402

LOCAL = "postgresql://postgres@127.0.0.1:5432/test"
RULES = ROOT / "rules.yaml"
WORK = HERE / ".data"
READY_TIMEOUT = 120.0  # seconds for `watchdog run` to evaluate every rule once and say it is ready
WARM_RUNS = 6  # psycopg prepares a statement on its 5th execution; measure after that, on both sides
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                     "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")


@dataclass
class Report:
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)
    goals: list[tuple[str, bool | None, str]] = field(default_factory=list)  # met: None when not measured

    def note(self, what: str, text: str) -> None:
        self.rows.append((what, "", "", text))
        print(f"  {what}: {text}", flush=True)

    def add(self, what: str, median: float | None, best: float | None = None, note: str = "") -> None:
        self.rows.append((what, _ms(median), _ms(best), note))
        print(f"  {what}: {_ms(median)}" + (f" (best {_ms(best)})" if best is not None else "") + (f"  {note}" if note else ""),
              flush=True)

    def goal(self, name: str, value: float, limit: float, unit: str, lower_is_better: bool = True) -> None:
        met = value <= limit if lower_is_better else value >= limit
        miss = "" if met else f" (missed by {abs(value - limit) / limit:.0%})"
        self.goals.append((name, met, f"{value:.3g}{unit} vs goal {'<=' if lower_is_better else '>='} {limit:g}{unit}{miss}"))

    def unmeasured(self, name: str, why: str) -> None:
        self.goals.append((name, None, why))

    def print(self) -> None:
        width = max(len(r[0]) for r in self.rows)
        print(f"\n{'measure':<{width}}  {'median':>10}  {'best':>10}  note")
        for what, median, best, note in self.rows:
            print(f"{what:<{width}}  {median:>10}  {best:>10}  {note}")
        print("\ngoals:")
        for name, met, text in self.goals:
            print(f"  [{'not measured' if met is None else 'met' if met else 'MISSED'}] {name}: {text}")


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.2f} ms" if seconds < 0.01 else f"{seconds * 1000:.1f} ms"


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """(median, best) seconds of `repeat` calls."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times), min(times)


class Warm:
    """A connector handing out one open connection: in-process figures exclude connecting."""

    def __init__(self, dsn: str) -> None:
        self.conn = PostgresConnection(dsn, 5.0, 30.0)
        self.conn.close = lambda: None  # type: ignore[method-assign]

    def __call__(self, dsn: str, connect_timeout: float, statement_timeout: float) -> PostgresConnection:
        return self.conn


def floor(plan: Plan, dsn: str) -> Callable[[], Any]:
    """Every probe's compiled SQL run directly with psycopg on a warm connection, one after the
    other: the database's own time for the rule set, warmed up like `cycle`."""
    conn = psycopg.connect(dsn, autocommit=True)

    def run() -> None:
        for probe in plan.probes:
            conn.execute(probe.sql, probe.bind(utc_now())).fetchall()
    for _ in range(WARM_RUNS):
        run()
    return run


def cycle(plan: Plan, dsn: str, batched: bool = True) -> Callable[[], Any]:
    """What `watchdog run` does each cycle, warmed up: batches compiled once, probes bound, run and
    judged. `batched=False`: every rule its own query, for comparison."""
    warm, work = Warm(dsn), compile_work(plan.probes) if batched else list(plan.probes)
    for _ in range(WARM_RUNS):  # steady state, as in the daemon: caches warm, statements prepared
        evaluate(plan.probes, plan.targets, connector=warm, work=work)
    return lambda: evaluate(plan.probes, plan.targets, connector=warm, work=work)


def timed_together(fns: Sequence[Callable[[], Any]], repeat: int) -> list[tuple[float, float]]:
    """(median, best) of each of `fns`, called in turn `repeat` times: a ratio of two figures of a
    few milliseconds is then not skewed by the machine being busier while one of them ran."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, spent in zip(fns, times):
            began = time.perf_counter()
            fn()
            spent.append(time.perf_counter() - began)
    return [(statistics.median(spent), min(spent)) for spent in times]


def whole_process(argv: list[str], repeat: int, env: dict[str, str], cwd: Path | None = None) -> tuple[float, float]:
    def run() -> None:
        done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
        if done.returncode not in (0, 1, 2):
            raise RuntimeError(f"{' '.join(argv[:3])} exited {done.returncode}: {(done.stderr or done.stdout)[-400:]}")
    return timed(run, repeat)


def explain_all(plan: Plan, dsn: str) -> list[str]:
    """Plans of every probe; returns the warnings (sequential scans of large tables)."""
    conn = PostgresConnection(dsn, 5.0, 30.0)
    warnings = []
    try:
        for item in compile_work(plan.probes):
            explanation = explain_item(conn, item, utc_now(), 30.0)
            title = ", ".join(p.rule.name for p in members(item))
            warnings += [f"{title}: {line.strip()}" for line in render_plan(title, explanation).splitlines() if "WARNING" in line]
    finally:
        conn.close()
    return warnings


def scale_section(report: Report, ds: data.Dataset, repeat: int, label: str, with_peers: bool) -> float:
    env = {**os.environ, "DATABASE_URL": ds.dsn}
    plan = build_plan(RULES, env=env)
    print(f"\n== {label}: {len(plan.probes)} rules of rules.yaml on {ds.rows:,} rows "
          f"({f'built in {ds.built_seconds:.0f} s' if ds.built_seconds else 'reused'})", flush=True)
    warnings = explain_all(plan, ds.dsn)
    report.note(f"{label} EXPLAIN: probes that would scan a large table in full", str(len(warnings)) + "".join(f"\n    {w}" for w in warnings))
    (raw_median, raw_best), (wd_median, wd_best) = timed_together([floor(plan, ds.dsn), cycle(plan, ds.dsn)], repeat * 10)
    report.add(f"{label} raw SQL floor (every probe's SQL in turn)", raw_median, raw_best)
    ratio = wd_best / raw_best
    report.add(f"{label} watchdog in-process evaluation", wd_median, wd_best,
               f"watchdog/raw-sql {ratio:.2f} (bests; medians {wd_median / raw_median:.2f})")
    check = [shutil.which("watchdog") or "watchdog", "check", "-c", str(RULES)]
    wall_median, wall_best = whole_process(check, max(3, repeat // 2), env)
    report.add(f"{label} watchdog check, whole process", wall_median, wall_best)
    if with_peers:
        peer_section(report, ds, repeat, label, env, wall_median)
    return ratio


def peer_section(report: Report, ds: data.Dataset, repeat: int, label: str, env: dict[str, str], watchdog_wall: float) -> None:
    runs = max(3, repeat // 2)
    for name, make in (("soda", peers.soda), ("dbt", peers.dbt)):
        installed = peers.install(name)
        if isinstance(installed, str):
            report.note(f"{label} {name}", f"not measured: {installed}")
            continue
        peer = make(installed, ds.dsn, ds.schema)
        median, best = whole_process(peer.argv, runs, peers.environment(peer), peer.cwd)
        if name == "soda":
            report.add(f"{label} soda scan, same {peer.checks} checks, whole process", median, best,
                       f"soda/watchdog {median / watchdog_wall:.1f}x")
            if label.startswith("1M"):
                report.goal("watchdog check at least 3x faster than soda scan (1M)", median / watchdog_wall, 3.0, "x", lower_is_better=False)
        else:
            same = [shutil.which("watchdog") or "watchdog", "check", "-c", str(RULES),
                    "--rule", "scheduler_outside_production", "--rule", "reply_permit_pipeline_source"]
            ours, _ = whole_process(same, runs, env)
            report.add(f"{label} dbt test, {peer.checks} accepted_values tests, whole process", median, best,
                       f"dbt/watchdog {median / ours:.1f}x (watchdog check on the same 2 rules: {_ms(ours)})")


def rules_file(name: str, text: str) -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / name
    path.write_text(text)
    return path


def daemon_section(report: Report, ds: data.Dataset, repeat: int, scrapes: int) -> None:
    path = rules_file("rules-1000.yaml", rulesets.scaled(ds.dsn, 1000))
    print(f"\n== daemon at scale: 1,000 rules on {ds.rows:,} rows", flush=True)
    compile_median, compile_best = timed(lambda: build_plan(path), 3)
    report.add("1,000 rules: load and compile", compile_median, compile_best)
    report.goal("1,000 rules compile", compile_median, 0.5, " s")
    with tempfile.TemporaryDirectory() as tmp:
        watchdog = Watchdog(build_plan(path), state=Path(tmp) / "state.db", notifiers={})
        try:
            cycle_median, cycle_best = timed(watchdog.check, max(2, repeat // 3))
        finally:
            watchdog.close()
        report.add("1,000 rules: one evaluation cycle (pool of 2)", cycle_median, cycle_best)
        try:
            p50, p99, rss, ready = serve(path, Path(tmp), scrapes)
        except (RuntimeError, OSError) as exc:  # the other figures of the run still count
            report.note("1,000 rules: watchdog run", f"not measured: {exc}")
            report.unmeasured("1,000 rules /metrics p99", str(exc))
            report.unmeasured("1,000 rules resident memory", str(exc))
            return
    report.add(f"1,000 rules: /metrics latency over {scrapes} scrapes (p50)", p50, note=f"p99 {_ms(p99)}")
    report.add("1,000 rules: watchdog run from start to every rule evaluated", ready)
    report.note("1,000 rules: resident memory of watchdog run", f"{rss:.1f} MB")
    report.goal("1,000 rules /metrics p99", p99 * 1000, 20, " ms")
    report.goal("1,000 rules resident memory", rss, 100, " MB")


def serve(path: Path, tmp: Path, scrapes: int) -> tuple[float, float, float, float]:
    """`watchdog run` as a process: time to ready, scrape latencies (keep-alive, as Prometheus does), RSS."""
    port, log = free_port(), tmp / "daemon.log"
    began = time.perf_counter()
    with log.open("wb") as sink:
        process = subprocess.Popen([shutil.which("watchdog") or "watchdog", "run", "-c", str(path), "--listen", f"127.0.0.1:{port}",
                                    "--state", str(tmp / "daemon.db")], stdout=subprocess.DEVNULL, stderr=sink)
    try:
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        ready = _wait_ready(client, process, log) - began
        latencies = []
        for _ in range(scrapes):
            started = time.perf_counter()
            client.request("GET", "/metrics", headers={"Accept": PROMETHEUS_ACCEPT, "Accept-Encoding": "gzip"})
            client.getresponse().read()
            latencies.append(time.perf_counter() - started)
        latencies.sort()
        rss = _rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1], rss, ready


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(client: http.client.HTTPConnection, process: subprocess.Popen[bytes], log: Path) -> float:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            last = " | ".join(line.strip() for line in log.read_text(errors="replace").strip().splitlines()[-2:])
            raise RuntimeError(f"watchdog run exited {process.returncode}: {last[-300:] or 'no output'}")
        try:
            client.request("GET", "/-/ready")
            response = client.getresponse()
            response.read()
            if response.status == 200:
                return time.perf_counter()
        except OSError:
            client.close()
        time.sleep(0.05)
    raise RuntimeError(f"watchdog run not ready after {READY_TIMEOUT:.0f} s")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def tables_section(report: Report, ds: data.Dataset, repeat: int) -> None:
    print(f"\n== one scan per table on {ds.rows:,} rows", flush=True)
    few = build_plan(rules_file("rules-5.yaml", rulesets.per_table(ds.dsn, 1)))
    many = build_plan(rules_file("rules-100.yaml", rulesets.per_table(ds.dsn, 20)))
    # cycles of a few milliseconds: many of them, taken in turn
    (few_median, few_best), (many_median, many_best), (alone_median, alone_best) = timed_together(
        [cycle(few, ds.dsn), cycle(many, ds.dsn), cycle(many, ds.dsn, batched=False)], repeat * 30)
    report.add("5 rules over 5 tables: one cycle", few_median, few_best)
    report.add("100 rules over 5 tables: one cycle", many_median, many_best, f"100/5 {many_median / few_median:.2f}x")
    report.add("100 rules over 5 tables, one query per rule (no batching)", alone_median, alone_best,
               f"batching saves {1 - many_median / alone_median:.0%}")
    report.goal("100 rules over 5 tables vs 5 rules", many_median / few_median, 2.0, "x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="only the 1M-row data set, fewer repetitions")
    parser.add_argument("--dsn", default=os.environ.get("WATCHDOG_BENCH_DSN", LOCAL))
    parser.add_argument("--rebuild", action="store_true", help="rebuild the data sets even if they exist")
    parser.add_argument("--no-peers", action="store_true", help="skip Soda Core and dbt")
    args = parser.parse_args()
    repeat, scrapes = (7, 1000) if args.quick else (15, 1000)
    began = time.perf_counter()
    # what `pip install` does for an installed package; an editable install under
    # PYTHONDONTWRITEBYTECODE would otherwise compile watchdog's source on every start
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "watchdog"), str(ROOT / "checks")], check=True)
    report = Report()
    print(f"watchdog bench on {os.uname().nodename}: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"{'--quick' if args.quick else 'full'}", flush=True)
    one = data.ensure(args.dsn, 1_000_000, args.rebuild)
    ratio = scale_section(report, one, repeat, "1M", not args.no_peers)
    report.goal("watchdog/raw-sql (1M)", ratio, 1.15, "")
    tables_section(report, one, repeat)
    daemon_section(report, one, repeat, scrapes)
    if not args.quick:
        ten = data.ensure(args.dsn, 10_000_000, args.rebuild)
        scale_section(report, ten, repeat, "10M", not args.no_peers)
    report.print()
    print(f"\n(total {time.perf_counter() - began:.0f} s)")
    print(f"watchdog/raw-sql: {ratio:.2f}")


if __name__ == "__main__":
    main()
