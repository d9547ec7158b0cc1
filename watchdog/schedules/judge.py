"""Judging a job's runs against its expected fires: missed, overlong and duplicate slots.

Matching rule: a run belongs to the latest fire at or before its start, that is to the slot
[fire, next fire). Runs that start before the first fire belong to a slot outside the judged
range and are ignored. `missed` looks at starts, not slots: a fire is met by any run that
started within [fire, fire + grace], so with a grace longer than the gap between fires one run
can meet several fires.

Fires and runs are walked once each, in order of time, so judging a month of a busy job costs
O(fires + runs).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from watchdog.model.durations import format_duration
from watchdog.schedules.cron import Fire


class BreachKind(str, Enum):
    """What was wrong with one slot."""

    MISSED = "missed"
    OVERLONG = "overlong"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class Run:
    """One run as the scheduler's table records it; `ident` is whatever names it in samples."""

    start: datetime
    finish: datetime | None = None
    ident: object = None


@dataclass(frozen=True, slots=True)
class Limits:
    """What a job promises: a run starts within `grace` of each fire, lasts at most
    `max_runtime`, and at most `at_most` runs start per slot. None means not checked."""

    grace: timedelta
    max_runtime: timedelta | None = None
    at_most: int | None = None


@dataclass(frozen=True, slots=True)
class Breach:
    """One slot in breach: its fire (UTC and local), what was wrong, and the runs involved."""

    kind: BreachKind
    fire: Fire
    reason: str
    runs: tuple[Run, ...] = ()


def judge(fires: Sequence[Fire], runs: Iterable[Run], limits: Limits, now: datetime,
          created: datetime | None = None) -> list[Breach]:
    """The breaches among `fires` at `now`, in order of fire time.

    A fire before `created` is not judged (the job did not exist); a fire whose grace has not
    elapsed at `now` is not judged as missed yet. Without `created`, every fire given is judged,
    so a job that never ran is reported missed.
    """
    ordered = sorted(runs, key=lambda run: run.start)  # linear when already in order
    breaches: list[Breach] = []
    first_at_or_after = 0  # index of the first run starting at or after the current fire
    for index, fire in enumerate(fires):
        while first_at_or_after < len(ordered) and ordered[first_at_or_after].start < fire.utc:
            first_at_or_after += 1
        slot_end = fires[index + 1].utc if index + 1 < len(fires) else None
        slot_runs = _runs_before(ordered, first_at_or_after, slot_end)
        if created is not None and fire.utc < created:
            continue
        if fire.utc + limits.grace <= now:
            breaches.extend(_missed(fire, ordered, first_at_or_after, limits.grace))
        breaches.extend(_overlong(fire, slot_runs, limits.max_runtime, now))
        breaches.extend(_duplicate(fire, slot_runs, limits.at_most))
    return breaches


def _runs_before(ordered: list[Run], begin: int, end: datetime | None) -> list[Run]:
    stop = begin
    while stop < len(ordered) and (end is None or ordered[stop].start < end):
        stop += 1
    return ordered[begin:stop]


def _missed(fire: Fire, ordered: list[Run], first: int, grace: timedelta) -> list[Breach]:
    if first < len(ordered) and ordered[first].start <= fire.utc + grace:
        return []
    reason = f"no run started within {format_duration(grace.total_seconds())} of the fire"
    return [Breach(BreachKind.MISSED, fire, reason)]


def _overlong(fire: Fire, slot_runs: list[Run], max_runtime: timedelta | None,
              now: datetime) -> list[Breach]:
    if max_runtime is None:
        return []
    long_runs = tuple(run for run in slot_runs if (run.finish or now) - run.start > max_runtime)
    if not long_runs:
        return []
    limit = format_duration(max_runtime.total_seconds())
    first = long_runs[0]
    ran = format_duration(round(((first.finish or now) - first.start).total_seconds()))
    state = "still running after" if first.finish is None else "ran"
    reason = f"{state} {ran}, longer than max_runtime {limit}"
    if len(long_runs) > 1:
        reason += f" ({len(long_runs)} runs)"
    return [Breach(BreachKind.OVERLONG, fire, reason, long_runs)]


def _duplicate(fire: Fire, slot_runs: list[Run], at_most: int | None) -> list[Breach]:
    if at_most is None or len(slot_runs) <= at_most:
        return []
    reason = f"{len(slot_runs)} runs started for one fire, at most {at_most} allowed"
    return [Breach(BreachKind.DUPLICATE, fire, reason, tuple(slot_runs))]
