"""Running a unit on one connection: bind the cutoffs to now, run, judge; never raise for the database.

A batch returns every member's count in one scan; members found violated then fetch their sample
rows (their count is known, so only the samples). A batch that fails with an SQL error is split
by the caller; this round its members run one by one so each error lands on its own rule.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone

from watchdog.compiler.batch import Batch
from watchdog.compiler.probe import Probe, bind_params
from watchdog.config.model import Target
from watchdog.evaluation.units import Unit
from watchdog.probing.connection import Connection, ProbeFailure
from watchdog.probing.dsn import scrub
from watchdog.results.judge import ShapeError, Verdict, judge, judge_count
from watchdog.results.model import Result

Clock = Callable[[], datetime]
Results = dict[int, Result]


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


def timeout_of(probes: Iterable[Probe], target: Target) -> float:
    return min(p.rule.statement_timeout or target.statement_timeout for p in probes)


def run_probe(conn: Connection, probe: Probe, target: Target, clock: Clock, secrets: Iterable[str] = (),
              held: set[int] | None = None) -> Result:
    """One evaluation of one rule. A connection failure is raised (the caller treats the target);
    anything else wrong with the probe is its error result. `held`: the probes found holding last
    time. A row-level rule that held runs its count alone (and its samples only if needed); one
    that did not, or was never evaluated, runs the one statement that brings count and samples:
    `watchdog check` knows nothing yet, and on a database in trouble the count alone would be
    followed by the samples, a second pass over the offending rows (a second aggregation, for
    the grouped kinds)."""
    now = clock()
    if probe.count_sql is not None and held is not None and id(probe) in held:
        result = _counted(conn, probe, target, now, secrets)
    else:
        result = _whole(conn, probe, target, now, secrets)
    if held is not None:
        (held.add if result.status == "ok" else held.discard)(id(probe))
    return result


def _counted(conn: Connection, probe: Probe, target: Target, now: datetime, secrets: Iterable[str]) -> Result:
    """The count alone; the sample rows only when there is something to show."""
    started = time.perf_counter()
    try:
        [row] = conn.query(probe.count_sql or "", probe.bind(now), timeout_of((probe,), target), probe.guarded)
    except ProbeFailure as exc:
        if exc.kind == "connection":
            raise
        return error_result(probe, scrub(str(exc), secrets), now, time.perf_counter() - started)
    verdict = judge_count(probe, int(row["wd_count"] or 0))
    if verdict.violated and probe.samples_sql:
        return _with_samples(conn, probe, verdict, target, now, time.perf_counter() - started, secrets)
    return verdict_result(probe, verdict, now, time.perf_counter() - started)


def _whole(conn: Connection, probe: Probe, target: Target, now: datetime, secrets: Iterable[str]) -> Result:
    started = time.perf_counter()
    try:
        verdict = judge(probe, conn.query(probe.sql, probe.bind(now), timeout_of((probe,), target), probe.guarded), now)
    except ProbeFailure as exc:
        if exc.kind == "connection":
            raise
        return error_result(probe, scrub(str(exc), secrets), now, time.perf_counter() - started)
    except ShapeError as exc:
        return error_result(probe, scrub(str(exc), secrets), now, time.perf_counter() - started)
    return verdict_result(probe, verdict, now, time.perf_counter() - started)


def run_batch(conn: Connection, batch: Batch, target: Target, clock: Clock, secrets: Iterable[str] = ()) -> Results:
    """Counts for all members in one scan, then samples for the violated ones. Raises the batch
    query's ProbeFailure (the caller decides: a connection problem, or split the batch)."""
    now = clock()
    started = time.perf_counter()
    row = conn.query(batch.sql, bind_params(batch.params, batch.dialect, now), timeout_of(batch.members, target),
                     any(p.guarded for p in batch.members))[0]
    elapsed = time.perf_counter() - started
    results: Results = {}
    for probe, column in zip(batch.members, batch.columns):
        verdict = judge_count(probe, int(row[column] or 0))
        if verdict.violated and probe.samples_sql:
            results[id(probe)] = _with_samples(conn, probe, verdict, target, now, elapsed, secrets)
        else:
            results[id(probe)] = verdict_result(probe, verdict, now, elapsed)
    return results


def _with_samples(conn: Connection, probe: Probe, verdict: Verdict, target: Target, now: datetime,
                  elapsed: float, secrets: Iterable[str]) -> Result:
    started = time.perf_counter()
    try:
        rows = conn.query(probe.samples_sql or "", probe.bind(now), timeout_of((probe,), target), probe.guarded)
    except ProbeFailure as exc:
        if exc.kind == "connection":
            raise
        return error_result(probe, scrub(f"sample rows: {exc}", secrets), now, elapsed + time.perf_counter() - started)
    verdict = judge_count(probe, verdict.violations, tuple(rows))
    return verdict_result(probe, verdict, now, elapsed + time.perf_counter() - started)


def run_unit(conn: Connection, unit: Unit, target: Target, clock: Clock, secrets: Iterable[str] = (),
             on_split: Callable[[Unit, str], None] | None = None) -> Results:
    """The results of a unit's probes, keyed by id(probe); a batch failing with an SQL error is
    split (reported through `on_split`) and its members run one by one. A rule with
    `min_population` that sees fewer rows gets an error instead of its verdict."""
    results = _run_unit(conn, unit, target, clock, secrets, on_split)
    for probe in unit.probes:
        if probe.population_sql and results[id(probe)].status != "error":
            results[id(probe)] = _vacuity(conn, probe, results[id(probe)], target, clock, secrets)
    return results


def _vacuity(conn: Connection, probe: Probe, result: Result, target: Target, clock: Clock,
             secrets: Iterable[str]) -> Result:
    """The verdict, or an error when the rule judged fewer rows than its min_population."""
    now = clock()
    try:
        rows = conn.query(probe.population_sql or "", probe.bind(now), timeout_of((probe,), target), probe.guarded)
    except ProbeFailure as exc:
        if exc.kind == "connection":
            raise
        return error_result(probe, scrub(f"population: {exc}", secrets), now, result.duration_seconds)
    population, wanted = int(rows[0]["wd_population"] or 0), probe.rule.min_population or 0
    if population >= wanted:
        return result
    return error_result(probe, f"the rule sees {population} matching row{'s' if population != 1 else ''}, fewer than its "
                               f"min_population {wanted}: it cannot hold on what it does not see (missing grants, "
                               f"row-level security, a wrong table or filter?)", now, result.duration_seconds)


def _run_unit(conn: Connection, unit: Unit, target: Target, clock: Clock, secrets: Iterable[str],
              on_split: Callable[[Unit, str], None] | None) -> Results:
    batch = unit.batch
    if batch is not None:
        try:
            return run_batch(conn, batch, target, clock, secrets)
        except ProbeFailure as exc:
            if exc.kind != "sql":
                if exc.kind == "connection":
                    raise
                return {id(p): error_result(p, scrub(str(exc), secrets), clock()) for p in batch.members}
            unit.split = True
            if on_split is not None:
                on_split(unit, scrub(str(exc), secrets))
    return {id(p): run_probe(conn, p, target, clock, secrets, unit.held) for p in unit.probes}
