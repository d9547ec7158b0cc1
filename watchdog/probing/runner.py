"""Run probes once, target by target; a failure of one probe or target never stops the others."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone

from watchdog.compiler.probe import Probe
from watchdog.config.model import Target
from watchdog.probing.connection import Connection, ProbeFailure, connect
from watchdog.probing.dsn import scrub
from watchdog.results.judge import ShapeError, judge
from watchdog.results.model import Result

Clock = Callable[[], datetime]
Connector = Callable[[str, float], Connection]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def error_result(probe: Probe, message: str, now: datetime, duration: float = 0.0) -> Result:
    rule = probe.rule
    return Result(rule=rule.name, target=rule.target, check=rule.check, status="error", severity=rule.severity,
                  evaluated_at=now, duration_seconds=duration, error=message)


def run_probe(conn: Connection, probe: Probe, target: Target, clock: Clock, secrets: Iterable[str] = ()) -> Result:
    """One evaluation: bind the time cutoffs to now, run, judge. Never raises for a database problem."""
    rule = probe.rule
    now = clock()
    timeout = rule.statement_timeout or target.statement_timeout
    started = time.perf_counter()
    try:
        rows = conn.query(probe.sql, probe.bind(now), timeout)
        verdict = judge(probe, rows)
    except (ProbeFailure, ShapeError) as exc:
        return error_result(probe, scrub(str(exc), secrets), now, time.perf_counter() - started)
    return Result(
        rule=rule.name, target=rule.target, check=rule.check,
        status="violated" if verdict.violated else "ok", severity=rule.severity, evaluated_at=now,
        violations=verdict.violations, value=verdict.value, samples=verdict.samples,
        duration_seconds=time.perf_counter() - started,
    )


def evaluate(probes: Iterable[Probe], targets: dict[str, Target], clock: Clock = utc_now,
             connector: Connector = connect, secrets: Iterable[str] = ()) -> list[Result]:
    """Every probe once, in order, one connection per target (re-opened if it breaks)."""
    probes = list(probes)
    secrets = set(secrets)
    by_target: dict[str, list[Probe]] = {}
    for probe in probes:
        by_target.setdefault(probe.rule.target, []).append(probe)
    results: dict[int, Result] = {}
    for name, group in by_target.items():
        target = targets[name]
        conn: Connection | None = None
        for probe in group:
            if conn is None or conn.broken:
                try:
                    conn = connector(target.dsn, target.connect_timeout)
                except ProbeFailure as exc:
                    reason = scrub(f"target '{name}' unreachable: {exc}", secrets)
                    for rest in group[group.index(probe):]:
                        results[id(rest)] = error_result(rest, reason, clock())
                    break
            results[id(probe)] = run_probe(conn, probe, target, clock, secrets)
        if conn is not None:
            conn.close()
    return [results[id(p)] for p in probes]
