"""Judging the `schedule` shape: each job's runs against its expected fires (watchdog.schedules).

The probe returns runs (declared schedule) or job rows joined to their runs (schedules per job,
LEFT JOIN so a job that never ran is there too). Every fire of the lookback is judged: missed,
overlong, duplicated. A job whose stored schedule or time zone cannot be read is a breach too —
a schedule nobody can evaluate is not a schedule that holds.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import groupby
from operator import attrgetter, gt, itemgetter
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from watchdog.model.values import Record
from watchdog.results.instants import UTC, to_instant
from watchdog.schedules.cron import Fire, FireLimitExceeded, Schedule, fires, parse
from watchdog.schedules.judge import Breach, Limits, judge_columns

FIRE_LIMIT = 100_000
_JOB_KEY = itemgetter("wd_job")
_TZINFO = attrgetter("tzinfo")
_DATETIME_OR_NONE = {datetime, type(None)}


class ScheduleShapeError(ValueError):
    """The probe's rows cannot be judged (too many, or not the columns the shape promises)."""


@dataclass
class _Job:
    key: Any
    schedule: str | None
    zone: str | None
    name: Any = None
    created: datetime | None = None
    starts: list[datetime] = field(default_factory=list)  # its runs, as columns in order of start
    finishes: list[datetime | None] = field(default_factory=list)


@lru_cache(maxsize=4096)
def _schedule(text: str) -> Schedule:
    return parse(text)


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def judge_schedule(params: Record, unit: str, timezone: str | None, rows: Sequence[dict[str, Any]], now: datetime,
                   samples: int) -> tuple[int, tuple[dict[str, Any], ...]]:
    """(fires in breach, sample rows describing the first `samples` of them)."""
    if len(rows) > params["max_runs"]:
        raise ScheduleShapeError(f"more than {params['max_runs']} rows in the lookback: shorten 'lookback' or raise 'max_runs'")
    limits = Limits(timedelta(seconds=params["grace"]),
                    timedelta(seconds=params["max_runtime"]) if params["max_runtime"] is not None else None,
                    params["at_most"])
    start = now - timedelta(seconds=params["lookback"])
    breaches: list[tuple[_Job, Breach | str]] = []
    # Jobs with the same schedule, zone and range share one fire list (pg_cron installations
    # repeat a few schedules over many jobs); judging only reads it.
    shared: dict[tuple[Any, ...], list[Fire]] = {}
    for job in _jobs(params, unit, timezone, rows):
        try:
            zone = _zone(job.zone or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            breaches.append((job, f"unknown time zone '{job.zone}'"))
            continue
        try:
            schedule = _schedule(job.schedule or "")
            since = max(start, job.created or start)
            key = (schedule.cron, schedule.every_seconds, zone, since)
            if key not in shared:
                shared[key] = fires(schedule, zone, since, now, FIRE_LIMIT)
        except FireLimitExceeded as exc:
            raise ScheduleShapeError(f"job {job.key!r}: {exc}") from None
        except ValueError as exc:
            breaches.append((job, f"schedule cannot be read: {exc}"))
            continue
        breaches += [(job, b) for b in judge_columns(shared[key], job.starts, job.finishes, limits, now, job.created)]
    breaches.sort(key=lambda jb: (jb[1].fire.utc if isinstance(jb[1], Breach) else start))
    return len(breaches), tuple(_sample(job, b, "jobs" in params and params["jobs"] is not None) for job, b in breaches[:samples])


def _jobs(params: Record, unit: str, timezone: str | None, rows: Sequence[dict[str, Any]]) -> list[_Job]:
    """The jobs and their runs. Rows are taken a job at a time (the probe orders them by job, then
    start) and their times a column at a time: a month of runs is a million rows."""
    if params["jobs"] is None:
        job = _Job(None, params["cron"], timezone)
        _add_runs(job, rows, unit)
        return [job]
    fixed_zone = params["jobs"]["timezone"]
    jobs: dict[Any, _Job] = {}
    try:
        grouped = [(key, list(group)) for key, group in groupby(rows, key=_JOB_KEY)]
    except KeyError:
        raise ScheduleShapeError("a schedule probe with 'jobs' must return a 'wd_job' column") from None
    for key, job_rows in grouped:
        job = jobs.get(key)
        if job is None:
            first = job_rows[0]
            job = jobs[key] = _Job(key, first.get("wd_schedule"), first.get("wd_timezone") or fixed_zone,
                                   first.get("wd_name"), _instant(first.get("wd_created"), "wd_created", "timestamp"))
        _add_runs(job, job_rows, unit)
    return list(jobs.values())


def _add_runs(job: _Job, rows: list[dict[str, Any]], unit: str) -> None:
    """Append the rows' runs (a job without any has one row with no start: the LEFT JOIN's)."""
    starts, finishes = _column(rows, "wd_start", unit), _column(rows, "wd_finish", unit)
    if None in starts:
        finishes = [finish for start, finish in zip(starts, finishes) if start is not None]
        starts = [start for start in starts if start is not None]
    job.starts += starts
    job.finishes += finishes
    if any(map(gt, job.starts, job.starts[1:])):  # not in order of start: a template of one's own
        pairs = sorted(zip(job.starts, job.finishes), key=itemgetter(0))
        job.starts, job.finishes = [start for start, _ in pairs], [finish for _, finish in pairs]


def _column(rows: list[dict[str, Any]], column: str, unit: str) -> list[Any]:
    """One time column of the rows as UTC instants."""
    try:
        values = [row[column] for row in rows]
    except KeyError:
        raise ScheduleShapeError(f"a schedule probe must return a '{column}' column") from None
    if unit == "timestamp" and set(map(type, values)) <= _DATETIME_OR_NONE and set(map(_TZINFO, filter(None, values))) <= {UTC}:
        return values  # what PostgreSQL sessions (TimeZone=UTC) return: nothing to convert (tested in C, not per row)
    return [_instant(value, column, unit) for value in values]


def _instant(value: Any, column: str, unit: str) -> datetime | None:
    try:
        return to_instant(value, unit)
    except ValueError as exc:
        raise ScheduleShapeError(f"{column}: {exc}") from None


def _sample(job: _Job, breach: Breach | str, per_job: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"job": job.key} if per_job else {}
    if per_job and job.name is not None:
        out["name"] = job.name
    if isinstance(breach, str):
        return {**out, "problem": "bad_schedule", "schedule": job.schedule, "detail": breach}
    out |= {"problem": breach.kind.value, "fire_utc": breach.fire.utc.isoformat(),
            "fire_local": breach.fire.local.isoformat(), "detail": breach.reason}
    if per_job:
        out["schedule"] = job.schedule
    if breach.runs:
        out["runs"] = len(breach.runs)
        out["started"] = [run.start.isoformat() for run in breach.runs[:3]]
    return out
