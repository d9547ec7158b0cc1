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
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from watchdog.model.values import Record
from watchdog.results.instants import to_instant
from watchdog.schedules.cron import FireLimitExceeded, Schedule, fires, parse
from watchdog.schedules.judge import Breach, Limits, Run, judge

FIRE_LIMIT = 100_000


class ScheduleShapeError(ValueError):
    """The probe's rows cannot be judged (too many, or not the columns the shape promises)."""


@dataclass
class _Job:
    key: Any
    schedule: str | None
    zone: str | None
    name: Any = None
    created: datetime | None = None
    runs: list[Run] = field(default_factory=list)


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
    for job in _jobs(params, unit, timezone, rows):
        try:
            zone = _zone(job.zone or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            breaches.append((job, f"unknown time zone '{job.zone}'"))
            continue
        try:
            expected = fires(_schedule(job.schedule or ""), zone, max(start, job.created or start), now, FIRE_LIMIT)
        except FireLimitExceeded as exc:
            raise ScheduleShapeError(f"job {job.key!r}: {exc}") from None
        except ValueError as exc:
            breaches.append((job, f"schedule cannot be read: {exc}"))
            continue
        breaches += [(job, b) for b in judge(expected, job.runs, limits, now, job.created)]
    breaches.sort(key=lambda jb: (jb[1].fire.utc if isinstance(jb[1], Breach) else start))
    return len(breaches), tuple(_sample(job, b, "jobs" in params and params["jobs"] is not None) for job, b in breaches[:samples])


def _jobs(params: Record, unit: str, timezone: str | None, rows: Sequence[dict[str, Any]]) -> list[_Job]:
    if params["jobs"] is None:
        job = _Job(None, params["cron"], timezone)
        job.runs = [Run(_instant(r, "wd_start", unit), _instant(r, "wd_finish", unit)) for r in rows]  # type: ignore[arg-type]
        return [job]
    fixed_zone = params["jobs"]["timezone"]
    jobs: dict[Any, _Job] = {}
    for row in rows:
        key = row.get("wd_job")
        if key not in jobs:
            jobs[key] = _Job(key, row.get("wd_schedule"), row.get("wd_timezone") or fixed_zone, row.get("wd_name"),
                             _instant(row, "wd_created", "timestamp"))
        start = _instant(row, "wd_start", unit)
        if start is not None:
            jobs[key].runs.append(Run(start, _instant(row, "wd_finish", unit)))
    return list(jobs.values())


def _instant(row: dict[str, Any], column: str, unit: str) -> datetime | None:
    if column not in row:
        raise ScheduleShapeError(f"a schedule probe must return a '{column}' column")
    try:
        return to_instant(row[column], unit)
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
