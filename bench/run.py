"""watchdog's cost, measured in one run against hand-written SQL and against its peers, on healthy
data and on data with an incident in progress.

    python bench/run.py --quick      # the 1M-row data sets (a few minutes once peers are installed)
    python bench/run.py              # the 1M and the 10M data sets

Needs a PostgreSQL it may create schemas in: --dsn, else $WATCHDOG_BENCH_DSN, else the local
server (postgres@127.0.0.1:5432/test). Data sets are built once per scale and kind and reused
(bench/data.py); peers are installed once into bench/.venvs (bench/peers.py); the floor is
bench/floor.py; watchdog's internals are reached only through bench/adapter.py. Prints tables of
medians, bests and ratios (Markdown, for bench/README.md); the last line is
`watchdog/floor: <healthy> healthy, <incident> incident` on the 1M data.
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

import adapter  # noqa: E402 (bench modules sit beside this script)
import data  # noqa: E402
import floor  # noqa: E402
import peers  # noqa: E402
import rulesets  # noqa: E402

LOCAL = "postgresql://postgres@127.0.0.1:5432/test"
SOURCE_RULES = ROOT / "rules.yaml"
WORK = HERE / ".data"
RULES = adapter.bench_rules(SOURCE_RULES, WORK)  # less the schedule rules (bench/schedules.py measures those)
READY_TIMEOUT = 120.0  # seconds for `watchdog run` to evaluate every rule once and say it is ready
OVERHEAD_RULE = "reply_scheduler_started"  # the cheap `absent` probe of the per-probe overhead
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                     "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")


@dataclass(frozen=True)
class Budget:
    """How long to time one comparison, in seconds, and the fewest and most rounds to take: an
    incident cycle costs a hundred times a healthy one, so rounds follow the cost, within bounds."""

    seconds: float
    least: int
    most: int


@dataclass
class Report:
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)
    per_rule: dict[str, dict[str, tuple[str, str, float, float, float]]] = field(default_factory=dict)
    goals: list[tuple[str, bool | None, str]] = field(default_factory=list)  # met: None when not measured

    def note(self, what: str, text: str) -> None:
        self.rows.append((what, "", "", text))
        print(f"  {what}: {text}", flush=True)

    def add(self, what: str, median: float | None, best: float | None = None, note: str = "") -> None:
        self.rows.append((what, _ms(median), _ms(best), note))
        print(f"  {what}: {_ms(median)}" + (f" (best {_ms(best)})" if best is not None else "") + (f"  {note}" if note else ""),
              flush=True)

    def rule(self, label: str, rule: str, kind: str, form: str, low: Sequence[float], ours: Sequence[float]) -> None:
        """One rule's rounds, hand-written SQL (`low`) and watchdog (`ours`) in turn."""
        self.per_rule.setdefault(rule, {})[label] = (kind, form, statistics.median(low), statistics.median(ours), ratio(ours, low))
        print(f"    {rule:<40} {form:<7} floor {_ms(statistics.median(low)):>9}  watchdog {_ms(statistics.median(ours)):>9}  "
              f"{ratio(ours, low):5.2f}x", flush=True)

    def goal(self, name: str, value: float, limit: float, unit: str, lower_is_better: bool = True) -> None:
        met = value <= limit if lower_is_better else value >= limit
        miss = "" if met else f" (missed by {abs(value - limit) / limit:.0%})"
        shown = f"{value:.2f}" if unit == "x" else f"{value:.3g}"  # a ratio of 3.996 is not "4x"
        self.goals.append((name, met, f"{shown}{unit} vs goal {'<=' if lower_is_better else '>='} {limit:g}{unit}{miss}"))

    def unmeasured(self, name: str, why: str) -> None:
        self.goals.append((name, None, why))

    def print(self) -> None:
        print("\n| measure | median | best | note |\n|---|---|---|---|")
        for what, median, best, note in self.rows:
            print(f"| {what} | {median} | {best} | {note} |".replace("\n    ", "<br>"))
        labels = list(dict.fromkeys(label for sides in self.per_rule.values() for label in sides))
        print("\nPer rule, each alone, medians of its rounds; the ratio is the median of the rounds' ratios "
              "(watchdog: the rule's own evaluation; floor: the faster form):\n")
        print("| rule | kind | " + " | ".join(f"{label} floor form | floor | watchdog | ratio" for label in labels) + " |")
        print("|---|---|" + "---|---|---|---|" * len(labels))
        for rule, sides in self.per_rule.items():
            kind = next(iter(sides.values()))[0]
            cells = []
            for label in labels:
                if label in sides:
                    _, form, low, ours, times = sides[label]
                    cells.append(f"{form} | {_ms(low)} | {_ms(ours)} | {times:.2f}x")
                else:
                    cells.append("- | - | - | -")
            print(f"| {rule} | {kind} | " + " | ".join(cells) + " |")
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


def rounds(fns: Sequence[Callable[[], Any]], repeat: int) -> list[list[float]]:
    """Seconds of each of `fns`, called in turn `repeat` times (one list per fn, one entry per round):
    figures of a few milliseconds taken in turn are not skewed by the machine being busier while
    one of them ran."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, spent in zip(fns, times):
            began = time.perf_counter()
            fn()
            spent.append(time.perf_counter() - began)
    return times


def summary(times: Sequence[float]) -> tuple[float, float]:
    """(median, best)."""
    return statistics.median(times), min(times)


def timed_together(fns: Sequence[Callable[[], Any]], repeat: int) -> list[tuple[float, float]]:
    """(median, best) of each of `fns`, called in turn `repeat` times."""
    return [summary(spent) for spent in rounds(fns, repeat)]


def in_turn(fns: Sequence[Callable[[], Any]], budget: Budget) -> list[list[float]]:
    """rounds() of `fns`, as many as `budget` allows from the cost of one round (warm)."""
    began = time.perf_counter()
    for fn in fns:
        fn()
    count = int(budget.seconds / max(time.perf_counter() - began, 1e-6))
    return rounds(fns, min(budget.most, max(budget.least, count)))


def ratio(ours: Sequence[float], theirs: Sequence[float]) -> float:
    """The median of the rounds' ratios: each round's two figures were taken a moment apart, under
    the same load, so a load swing between rounds moves neither side alone (on a 2-core machine
    shared with others, a ratio of bests or of medians swung by 50% from run to run)."""
    return statistics.median(a / b for a, b in zip(ours, theirs))


class Command:
    """A command run as a process, wall time from start to exit; remembers the last line it printed."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
        self.argv, self.env, self.cwd, self.last = argv, env, cwd, ""

    def __call__(self) -> None:
        done = subprocess.run(self.argv, env=self.env, cwd=self.cwd, capture_output=True, text=True, timeout=600, check=False)
        if done.returncode not in (0, 1, 2):
            raise RuntimeError(f"{' '.join(self.argv[:3])} exited {done.returncode}: {(done.stderr or done.stdout)[-400:]}")
        self.last = (done.stdout.strip().splitlines() or [""])[-1].strip()


@dataclass(frozen=True)
class FloorRule:
    """One rule's hand-written SQL in its chosen form, ready to run."""

    rule: str
    form: str
    run: Callable[[], floor.Answer]


def choose_forms(conn: psycopg.Connection[Any], names: Sequence[str], samples: int) -> list[FloorRule]:
    """Every rule's natural forms warmed up, then timed in turn once (best of 5): the faster one is
    that rule's floor on this data set."""
    chosen = []
    for name in names:
        forms = {form: floor.runner(conn, fn) for form, fn in floor.entry(name).forms(samples).items()}
        for run in forms.values():
            for _ in range(adapter.WARM_RUNS):  # prepared, as watchdog's statements are
                run()
        bests = dict(zip(forms, (best for _, best in timed_together(list(forms.values()), 5))))
        form = min(bests, key=bests.__getitem__)
        chosen.append(FloorRule(name, form, forms[form]))
    return chosen


def probe_section(report: Report, ds: data.Dataset, quick: bool) -> float:
    """watchdog in-process against the floor on one data set: EXPLAIN, agreement, per rule, in total.
    Returns watchdog/floor of the whole rule set (bests)."""
    plan = adapter.load(RULES, ds.dsn)
    names = adapter.rule_names(plan)
    label = ds.label
    print(f"\n== {label}: {len(names)} rules of rules.yaml on {ds.rows:,} rows "
          f"({f'built in {ds.built_seconds:.0f} s' if ds.built_seconds else 'reused'})", flush=True)
    warnings = adapter.explain_warnings(plan, ds.dsn)
    report.note(f"{label} EXPLAIN: probes that would scan a large table in full", str(len(warnings)) + "".join(f"\n    {w}" for w in warnings))
    session = adapter.Session(plan, ds.dsn)
    conn = psycopg.connect(ds.dsn, autocommit=True)
    try:
        chosen = choose_forms(conn, names, samples=5)
        agreement(report, label, session, chosen)
        per_rule = Budget(0.8 if quick else 2.0, 7, 300 if quick else 1000)
        for rule in chosen:
            low, ours = in_turn([rule.run, session.cycle([rule.rule])], per_rule)
            report.rule(label, rule.rule, adapter.rule_kind(plan, rule.rule), rule.form, low, ours)
        for group in adapter.batches(plan):
            members = [r.run for r in chosen if r.rule in group]
            low, ours = in_turn([lambda: [run() for run in members], session.cycle(group)], per_rule)
            report.rule(label, f"batch of {len(group)}: {', '.join(group)}", "batched", "sum", low, ours)
        total = Budget(8.0 if quick else 20.0, 9, 400 if quick else 1000)
        low, ours = in_turn([lambda: [rule.run() for rule in chosen], session.cycle()], total)
    finally:
        conn.close()
        session.close()
    (low_median, low_best), (ours_median, ours_best) = summary(low), summary(ours)
    forms = ", ".join(f"{form} {sum(r.form == form for r in chosen)}" for form in ("split", "window", "plain"))
    report.add(f"{label} floor: every rule's hand-written SQL in turn ({forms}), {len(low)} rounds", low_median, low_best)
    times = ratio(ours, low)
    report.add(f"{label} watchdog in-process evaluation", ours_median, ours_best,
               f"watchdog/floor {times:.2f} (median of the rounds' ratios; bests {ours_best / low_best:.2f}, "
               f"medians {ours_median / low_median:.2f})")
    return times


def agreement(report: Report, label: str, session: adapter.Session, chosen: Sequence[FloorRule]) -> None:
    """The floor answers what watchdog answers (violation count or value) for every rule, or the
    comparison would be of different work: any rule where they differ is named."""
    ours = session.outcomes()
    differ = [f"{r.rule}: floor {answer.measure}, watchdog {ours[r.rule].measure}"
              for r in chosen for answer in [r.run()] if not floor.agrees(r.rule, answer.measure, ours[r.rule].measure)]
    violated = sum(o.status == "violated" for o in ours.values())
    report.note(f"{label}: floor and watchdog agree", f"{len(chosen) - len(differ)} of {len(chosen)} rules "
                f"({violated} violated)" + "".join(f"\n    DIFFERS {d}" for d in differ))


def overhead_section(report: Report, ds: data.Dataset, quick: bool) -> None:
    """A cheap `absent` probe evaluated in-process, against its hand-written SQL on the very same
    connection: what watchdog adds per probe (binding, the query it compiles, judging, the result)."""
    plan = adapter.load(RULES, ds.dsn)
    session = adapter.Session(plan, ds.dsn)
    try:
        [form] = floor.entry(OVERHEAD_RULE).forms(5).values()
        sql = floor.runner(session.raw, form)
        for _ in range(adapter.WARM_RUNS):
            sql()
        low, ours = in_turn([sql, session.cycle([OVERHEAD_RULE])], Budget(2.0 if quick else 5.0, 200, 2000 if quick else 5000))
    finally:
        session.close()
    (sql_median, sql_best), (ours_median, ours_best) = summary(low), summary(ours)
    report.add(f"{ds.label} `{OVERHEAD_RULE}` (absent): hand-written SQL on watchdog's connection, {len(low)} rounds",
               sql_median, sql_best)
    over = statistics.median(a - b for a, b in zip(ours, low))  # per round, as the ratios are
    report.add(f"{ds.label} `{OVERHEAD_RULE}` (absent): watchdog in-process", ours_median, ours_best,
               f"per-probe overhead {over * 1000:.3f} ms (median of the rounds' differences; "
               f"medians {(ours_median - sql_median) * 1000:.3f} ms, bests {(ours_best - sql_best) * 1000:.3f} ms)")
    report.goal(f"per-probe overhead, cheap absent probe ({ds.label})", over * 1000, 0.3, " ms")


def process_section(report: Report, ds: data.Dataset, repeat: int, with_peers: bool) -> None:
    """`watchdog check` as a process against `soda scan` (and, on healthy data, `dbt test` against
    `watchdog check` on its two rules), all taken in turn, so the machine's load swings stay out of
    the ratios."""
    # the goal is on the incident data: more rounds there (healthy rounds include dbt's 4-6 s)
    label, count = ds.label, max(5 if ds.incident else 3, repeat // 2)
    env = {**os.environ, "DATABASE_URL": ds.dsn}
    check = [shutil.which("watchdog") or "watchdog", "check", "-c", str(RULES)]
    commands = {"watchdog": Command(check, env)}
    for name, make in (("soda", peers.soda), ("dbt", peers.dbt)) if with_peers else ():
        if name == "dbt" and ds.incident:
            continue  # dbt expresses two of the rules only: the healthy data set shows it
        installed = peers.install(name)
        if isinstance(installed, str):
            report.note(f"{label} {name}", f"not measured: {installed}")
            continue
        peer = make(installed, ds.dsn, ds.schema)
        commands[name] = Command(peer.argv, peers.environment(peer), peer.cwd)
        if name == "dbt":
            commands["watchdog, dbt's 2 rules"] = Command(
                [*check, "--rule", "scheduler_outside_production", "--rule", "reply_permit_pipeline_source"], env)
    times = dict(zip(commands, rounds(list(commands.values()), count)))
    report.add(f"{label} `watchdog check`, whole process, {count} rounds", *summary(times["watchdog"]),
               f"watchdog said: {commands['watchdog'].last}")
    if "soda" in times:
        soda = ratio(times["soda"], times["watchdog"])
        report.add(f"{label} `soda scan`, same 15 checks, whole process", *summary(times["soda"]),
                   f"soda/watchdog {soda:.1f}x (median of the rounds' ratios); soda said: {commands['soda'].last.split('] ')[-1]}")
        goal = 4.0 if ds.incident else 3.0
        report.goal(f"`watchdog check` at least {goal:g}x faster than `soda scan` ({label})", soda, goal, "x", lower_is_better=False)
    if "dbt" in times:
        two = times["watchdog, dbt's 2 rules"]
        report.add(f"{label} `dbt test`, 2 accepted_values tests, whole process", *summary(times["dbt"]),
                   f"dbt/watchdog {ratio(times['dbt'], two):.1f}x (`watchdog check` on the same 2 rules: {_ms(statistics.median(two))})")


def rules_file(name: str, text: str) -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / name
    path.write_text(text)
    return path


def daemon_section(report: Report, ds: data.Dataset, repeat: int, scrapes: int) -> None:
    path = rules_file("rules-1000.yaml", rulesets.scaled(ds.dsn, 1000))
    print(f"\n== daemon at scale: 1,000 rules on {ds.rows:,} rows", flush=True)
    compile_median, compile_best = timed(lambda: adapter.load(path), 3)
    report.add("1,000 rules: load and compile", compile_median, compile_best)
    report.goal("1,000 rules compile", compile_median, 0.5, " s")
    with tempfile.TemporaryDirectory() as tmp:
        with adapter.runtime(path, Path(tmp) / "state.db") as check:
            cycle_median, cycle_best = timed(check, max(2, repeat // 3))
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
    few = adapter.load(rules_file("rules-5.yaml", rulesets.per_table(ds.dsn, 1)))
    many = adapter.load(rules_file("rules-100.yaml", rulesets.per_table(ds.dsn, 20)))
    sessions = [adapter.Session(few, ds.dsn), adapter.Session(many, ds.dsn), adapter.Session(many, ds.dsn)]
    try:  # cycles of a few milliseconds: many of them, taken in turn
        (few_median, few_best), (many_median, many_best), (alone_median, alone_best) = timed_together(
            [sessions[0].cycle(), sessions[1].cycle(), sessions[2].cycle(batched=False)], repeat * 30)
    finally:
        for session in sessions:
            session.close()
    report.add("5 rules over 5 tables: one cycle", few_median, few_best)
    report.add("100 rules over 5 tables: one cycle", many_median, many_best, f"100/5 {many_median / few_median:.2f}x")
    report.add("100 rules over 5 tables, one query per rule (no batching)", alone_median, alone_best,
               f"batching saves {1 - many_median / alone_median:.0%}")
    report.goal("100 rules over 5 tables vs 5 rules", many_median / few_median, 2.0, "x")


def scale(report: Report, dsn: str, rows: int, quick: bool, rebuild: bool, with_peers: bool) -> list[float]:
    """Both data sets of one scale, side by side: probes against the floor, then whole processes.
    Each is brought up to now before each use (else a healthy set's running batch jobs would have
    stale heartbeats a minute and a half later)."""
    kinds = (False, True)
    ratios = []
    for incident in kinds:
        ds = data.ensure(dsn, rows, rebuild, incident)
        ratio = probe_section(report, ds, quick)
        report.goal(f"watchdog/floor, total probe time ({ds.label})", ratio, 1.10, "x")
        ratios.append(ratio)
    print(f"\n== whole processes on {rows:,} rows", flush=True)
    for incident in kinds:
        process_section(report, data.ensure(dsn, rows, incident=incident), 7 if quick else 15, with_peers)
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="only the 1M-row data sets, fewer repetitions")
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
    ratios = scale(report, args.dsn, 1_000_000, args.quick, args.rebuild, not args.no_peers)
    healthy = data.ensure(args.dsn, 1_000_000)
    overhead_section(report, healthy, args.quick)
    tables_section(report, healthy, repeat)
    daemon_section(report, healthy, repeat, scrapes)
    if not args.quick:
        scale(report, args.dsn, 10_000_000, args.quick, args.rebuild, not args.no_peers)
    report.print()
    print(f"\n(total {time.perf_counter() - began:.0f} s)")
    print(f"watchdog/floor: {ratios[0]:.2f} healthy, {ratios[1]:.2f} incident")


if __name__ == "__main__":
    main()
