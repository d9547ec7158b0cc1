"""Running units on one connection: bind the cutoffs to now, run, judge; never raise for the database.

A batch returns every member's count in one scan; members found violated then fetch their sample
rows (their count is known, so only the samples). A batch that fails with an SQL error is split
by the caller; this round its members run one by one so each error lands on its own rule.

A unit's work is written as steps (a generator): each statement it needs is yielded, and its rows
(or its ProbeFailure, thrown in) come back. So units run side by side on one connection
(`run_units`): the statements they want next go to it together, and a connection that can
pipeline (PostgreSQL) sends them in one round trip, each still its own autocommit transaction.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, cast

from watchdog.compiler.batch import Batch
from watchdog.compiler.probe import Probe, bind_params
from watchdog.config.model import Target
from watchdog.evaluation.units import Unit
from watchdog.probing.connection import Connection, Pipelining, ProbeFailure, Rows, Statement
from watchdog.probing.dsn import scrub
from watchdog.results.judge import ShapeError, Verdict, judge, judge_count
from watchdog.results.model import Result

Clock = Callable[[], datetime]
Results = dict[int, Result]
Steps = Generator[Statement, Rows, Any]  # yields the statements it needs, is sent their rows
#: Around each round trip: what the caller does while statements are out (the evaluator's client-side deadline).
Guard = Callable[[Sequence[Statement]], AbstractContextManager[None]]

#: At most this many statements go out together: a database that answers nothing is given up on
#: after the statement_timeouts of one round trip (plus a grace), so a round stays short.
ROUND_MAX = 8


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


def probe_steps(probe: Probe, target: Target, clock: Clock, secrets: Iterable[str] = (),
                held: set[int] | None = None) -> Steps:
    """One evaluation of one rule. A connection failure is raised (the caller treats the target);
    anything else wrong with the probe is its error result. `held`: the probes found holding last
    time. A row-level rule that held runs its count alone (and its samples only if needed); one
    that did not, or was never evaluated, runs the one statement that brings count and samples:
    `watchdog check` knows nothing yet, and on a database in trouble the count alone would be
    followed by the samples, a second pass over the offending rows (a second aggregation, for
    the grouped kinds)."""
    now = clock()
    if probe.count_sql is not None and held is not None and id(probe) in held:
        result = yield from _counted(probe, target, now, secrets)
    else:
        result = yield from _whole(probe, target, now, secrets)
    if held is not None:
        (held.add if result.status == "ok" else held.discard)(id(probe))
    return result


def _statement(probe: Probe, sql: str | None, target: Target, now: datetime) -> Statement:
    return Statement(sql or "", probe.bind(now), timeout_of((probe,), target), probe.guarded)


def _counted(probe: Probe, target: Target, now: datetime, secrets: Iterable[str]) -> Steps:
    """The count alone; the sample rows only when there is something to show."""
    started = time.perf_counter()
    try:
        [row] = yield _statement(probe, probe.count_sql, target, now)
    except ProbeFailure as exc:
        if exc.kind == "connection":
            raise
        return error_result(probe, scrub(str(exc), secrets), now, time.perf_counter() - started)
    verdict = judge_count(probe, int(row["wd_count"] or 0))
    if verdict.violated and probe.samples_sql:
        return (yield from _with_samples(probe, verdict, target, now, time.perf_counter() - started, secrets))
    return verdict_result(probe, verdict, now, time.perf_counter() - started)


def _whole(probe: Probe, target: Target, now: datetime, secrets: Iterable[str]) -> Steps:
    started = time.perf_counter()
    try:
        verdict = judge(probe, (yield _statement(probe, probe.sql, target, now)), now)
    except ProbeFailure as exc:
        if exc.kind == "connection":
            raise
        return error_result(probe, scrub(str(exc), secrets), now, time.perf_counter() - started)
    except ShapeError as exc:
        return error_result(probe, scrub(str(exc), secrets), now, time.perf_counter() - started)
    return verdict_result(probe, verdict, now, time.perf_counter() - started)


def _batch(batch: Batch, target: Target, clock: Clock, secrets: Iterable[str] = ()) -> Steps:
    """Counts for all members in one scan, then samples for the violated ones. Raises the batch
    query's ProbeFailure (the caller decides: a connection problem, or split the batch)."""
    now = clock()
    started = time.perf_counter()
    row = (yield Statement(batch.sql, bind_params(batch.params, batch.dialect, now), timeout_of(batch.members, target),
                           any(p.guarded for p in batch.members)))[0]
    elapsed = time.perf_counter() - started
    results: Results = {}
    for probe, column in zip(batch.members, batch.columns):
        verdict = judge_count(probe, int(row[column] or 0))
        if verdict.violated and probe.samples_sql:
            results[id(probe)] = yield from _with_samples(probe, verdict, target, now, elapsed, secrets)
        else:
            results[id(probe)] = verdict_result(probe, verdict, now, elapsed)
    return results


def _with_samples(probe: Probe, verdict: Verdict, target: Target, now: datetime, elapsed: float,
                  secrets: Iterable[str]) -> Steps:
    started = time.perf_counter()
    try:
        rows = yield _statement(probe, probe.samples_sql, target, now)
    except ProbeFailure as exc:
        if exc.kind == "connection":
            raise
        return error_result(probe, scrub(f"sample rows: {exc}", secrets), now, elapsed + time.perf_counter() - started)
    verdict = judge_count(probe, verdict.violations, tuple(rows))
    return verdict_result(probe, verdict, now, elapsed + time.perf_counter() - started)


def run_units(conn: Connection, units: Sequence[Unit], target: Target, clock: Clock, secrets: Iterable[str] = (),
              on_split: Callable[[Unit, str], None] | None = None, guard: Guard | None = None) -> list[Results]:
    """The results of several units on one connection (unit_steps, in rounds). A connection
    failure is raised: the caller treats the target."""
    steps = [unit_steps(unit, target, clock, secrets, on_split) for unit in units]
    results: list[Results] = _rounds(conn, steps, guard)
    return results


def _rounds(conn: Connection, steps: Sequence[Steps], guard: Guard | None = None) -> list[Any]:
    """Run every `steps` to its end, in rounds: each round hands the connection, together, the
    statement each of at most ROUND_MAX started ones wants next (Pipelining.query_many: one round
    trip on PostgreSQL), under `guard`, and gives each its answer; a finished one's place goes to
    the next not started yet, which binds its cutoffs to now only then. Their values, in order."""
    done: dict[int, Any] = {}
    wanted: dict[int, Statement] = {}
    waiting = iter(range(len(steps)))

    def advance(i: int, answer: Rows | ProbeFailure | None) -> None:
        try:
            if answer is None:
                wanted[i] = next(steps[i])
            elif isinstance(answer, ProbeFailure):
                wanted[i] = steps[i].throw(answer)
            else:
                wanted[i] = steps[i].send(answer)
        except StopIteration as finished:
            done[i] = finished.value

    def start() -> None:
        while len(wanted) < ROUND_MAX and (i := next(waiting, None)) is not None:
            advance(i, None)

    start()
    while wanted:
        asked, wanted = list(wanted.items()), {}
        statements = [statement for _, statement in asked]
        with guard(statements) if guard is not None else nullcontext():
            answers = _answers(conn, statements)
        for (i, _), answer in zip(asked, answers):
            advance(i, answer)
        start()
    return [done[i] for i in range(len(steps))]


@lru_cache(maxsize=None)
def _pipelines(kind: type) -> bool:
    """Whether connections of this class send statements together (a protocol check walks the
    class's attributes: once per class, not once per round)."""
    return issubclass(kind, Pipelining)


def _answers(conn: Connection, statements: list[Statement]) -> list[Rows | ProbeFailure]:
    """Each statement's rows, or its failure; a connection failure is raised."""
    if len(statements) > 1 and _pipelines(type(conn)):
        answers = cast(Pipelining, conn).query_many(statements)
    else:
        answers = [_answer(conn, statement) for statement in statements]
    for answer in answers:
        if isinstance(answer, ProbeFailure) and answer.kind == "connection":
            raise answer
    return answers


def _answer(conn: Connection, statement: Statement) -> Rows | ProbeFailure:
    try:
        return conn.query(statement.sql, statement.params, statement.timeout, statement.guarded)
    except ProbeFailure as exc:
        return exc


def unit_steps(unit: Unit, target: Target, clock: Clock, secrets: Iterable[str] = (),
               on_split: Callable[[Unit, str], None] | None = None) -> Steps:
    """A unit's evaluation: its probes' results keyed by id(probe). A batch failing with an SQL
    error is split (reported through `on_split`) and its members run one by one. A rule with
    `min_population` that sees fewer rows gets an error instead of its verdict."""
    results = yield from _unit(unit, target, clock, secrets, on_split)
    for probe in unit.probes:
        if probe.population_sql and results[id(probe)].status != "error":
            results[id(probe)] = yield from _vacuity(probe, results[id(probe)], target, clock, secrets)
    return results


def _vacuity(probe: Probe, result: Result, target: Target, clock: Clock, secrets: Iterable[str]) -> Steps:
    """The verdict, or an error when the rule judged fewer rows than its min_population."""
    now = clock()
    try:
        rows = yield _statement(probe, probe.population_sql, target, now)
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


def _unit(unit: Unit, target: Target, clock: Clock, secrets: Iterable[str],
          on_split: Callable[[Unit, str], None] | None) -> Steps:
    batch = unit.batch
    if batch is not None:
        try:
            return (yield from _batch(batch, target, clock, secrets))
        except ProbeFailure as exc:
            if exc.kind != "sql":
                if exc.kind == "connection":
                    raise
                return {id(p): error_result(p, scrub(str(exc), secrets), clock()) for p in batch.members}
            unit.split = True
            if on_split is not None:
                on_split(unit, scrub(str(exc), secrets))
    results: Results = {}
    for probe in unit.probes:
        results[id(probe)] = yield from probe_steps(probe, target, clock, secrets, unit.held)
    return results
