"""Run probes once, target by target; a failure of one probe or target never stops the others."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone

from watchdog.compiler.batch import Batch, split
from watchdog.compiler.probe import Probe, bind_params
from watchdog.config.model import Target
from watchdog.probing.connection import Connection, ProbeFailure, connect
from watchdog.probing.dsn import scrub
from watchdog.results.judge import ShapeError, Verdict, judge, judge_count
from watchdog.results.model import Result

Clock = Callable[[], datetime]
Connector = Callable[[str, float, float], Connection]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def error_result(probe: Probe, message: str, now: datetime, duration: float = 0.0) -> Result:
    rule = probe.rule
    return Result(rule=rule.name, target=rule.target, check=rule.check, status="error", severity=rule.severity,
                  evaluated_at=now, duration_seconds=duration, error=message)


def verdict_result(probe: Probe, verdict: Verdict, now: datetime, duration: float) -> Result:
    rule = probe.rule
    return Result(
        rule=rule.name, target=rule.target, check=rule.check,
        status="violated" if verdict.violated else "ok", severity=rule.severity, evaluated_at=now,
        violations=verdict.violations, value=verdict.value, samples=verdict.samples, duration_seconds=duration,
    )


def run_probe(conn: Connection, probe: Probe, target: Target, clock: Clock, secrets: Iterable[str] = ()) -> Result:
    """One evaluation: bind the time cutoffs to now, run, judge. Never raises for a database problem."""
    now = clock()
    timeout = probe.rule.statement_timeout or target.statement_timeout
    started = time.perf_counter()
    try:
        verdict = judge(probe, conn.query(probe.sql, probe.bind(now), timeout, probe.guarded))
    except (ProbeFailure, ShapeError) as exc:
        return error_result(probe, scrub(str(exc), secrets), now, time.perf_counter() - started)
    return verdict_result(probe, verdict, now, time.perf_counter() - started)


def run_batch(conn: Connection, batch: Batch, target: Target, clock: Clock, secrets: Iterable[str] = ()) -> dict[int, Result]:
    """Counts for all members in one scan; samples only for the violated ones.

    If the shared query fails, each member runs on its own so the error lands on the right rule.
    """
    now = clock()
    timeout = min(p.rule.statement_timeout or target.statement_timeout for p in batch.members)
    started = time.perf_counter()
    try:
        row = conn.query(batch.sql, bind_params(batch.params, batch.dialect, now), timeout, any(p.guarded for p in batch.members))[0]
    except ProbeFailure:
        return {id(p): run_probe(conn, p, target, clock, secrets) for p in batch.members}
    elapsed = time.perf_counter() - started
    results = {}
    for probe, column in zip(batch.members, batch.columns):
        verdict = judge_count(probe, int(row[column] or 0))
        if verdict.violated and probe.sampled:
            results[id(probe)] = run_probe(conn, probe, target, clock, secrets)
        else:
            results[id(probe)] = verdict_result(probe, verdict, now, elapsed)
    return results


def members(item: Batch | Probe) -> tuple[Probe, ...]:
    return item.members if isinstance(item, Batch) else (item,)


def run_item(conn: Connection, item: Batch | Probe, target: Target, clock: Clock, secrets: Iterable[str] = ()) -> dict[int, Result]:
    """Results of a batch or a lone probe, keyed by id(probe)."""
    if isinstance(item, Batch):
        return run_batch(conn, item, target, clock, secrets)
    return {id(item): run_probe(conn, item, target, clock, secrets)}


def compile_work(probes: Iterable[Probe]) -> list[Batch | Probe]:
    """What evaluating `probes` runs: one batch per table where rules share one, the rest alone.
    Compile it once to evaluate the same probes again and again (the batches are rendered here)."""
    batches, alone = split(probes)
    return [*batches, *alone]


def evaluate(probes: Iterable[Probe], targets: Mapping[str, Target], clock: Clock = utc_now,
             connector: Connector = connect, secrets: Iterable[str] = (),
             work: Iterable[Batch | Probe] | None = None) -> list[Result]:
    """Every probe once, one connection per target (re-opened if it breaks), one scan per table.
    `work`: compile_work(probes), when the caller keeps it from one evaluation to the next."""
    probes = list(probes)
    secrets = set(secrets)
    by_target: dict[str, list[Batch | Probe]] = {}
    for item in compile_work(probes) if work is None else work:
        by_target.setdefault(members(item)[0].rule.target, []).append(item)
    results: dict[int, Result] = {}
    for name, items in by_target.items():
        target = targets[name]
        conn: Connection | None = None
        for position, item in enumerate(items):
            if conn is None or conn.broken:
                try:
                    conn = connector(target.dsn, target.connect_timeout, target.statement_timeout)
                except ProbeFailure as exc:
                    reason = scrub(f"target '{name}' unreachable: {exc}", secrets)
                    for rest in items[position:]:
                        for probe in members(rest):
                            results[id(probe)] = error_result(probe, reason, clock())
                    break
            results.update(run_item(conn, item, target, clock, secrets))
        if conn is not None:
            conn.close()
    return [results[id(p)] for p in probes]
