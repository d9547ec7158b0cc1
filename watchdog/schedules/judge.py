"""Judging a job's runs against its expected fires: missed, overlong and duplicate slots.

Matching rule: a run belongs to the latest fire at or before its start, that is to the slot
[fire, next fire). Runs that start before the first fire belong to a slot outside the judged
range and are ignored. `missed` looks at starts, not slots: a fire is met by any run that
started within [fire, fire + grace], so with a grace longer than the gap between fires one run
can meet several fires.

Fires and runs are walked once each, in order of time (a run's overlong test is made once, not per
fire), so judging a month of a busy job costs O(fires + runs).
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from operator import attrgetter, itemgetter

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


_START = attrgetter("start")
_SLOT_ORDER = itemgetter(0, 1)


def judge(fires: Sequence[Fire], runs: Iterable[Run], limits: Limits, now: datetime,
          created: datetime | None = None) -> list[Breach]:
    """The breaches among `fires` at `now`, in order of fire time.

    A fire before `created` is not judged (the job did not exist); a fire whose grace has not
    elapsed at `now` is not judged as missed yet. Without `created`, every fire given is judged,
    so a job that never ran is reported missed.
    """
    ordered = sorted(runs, key=_START)  # linear when already in order
    return judge_columns(fires, [run.start for run in ordered], [run.finish for run in ordered], limits, now,
                         created, ordered)


def judge_columns(fires: Sequence[Fire], starts: list[datetime], finishes: list[datetime | None], limits: Limits,
                  now: datetime, created: datetime | None = None, runs: Sequence[Run] | None = None) -> list[Breach]:
    """judge() on runs given as two columns in order of start, as a probe returns them: a Run is
    built only for the runs a breach names (`runs`, when given, supplies them instead)."""
    run_at = runs.__getitem__ if runs is not None else (lambda j: Run(starts[j], finishes[j]))
    times = [fire.utc for fire in fires]
    # bounds[i]:bounds[i + 1] are the runs of slot i, [fire i, fire i + 1); the last slot runs on.
    bounds = [bisect_left(starts, at) for at in times] + [len(starts)]
    judged = range(len(times)) if created is None else range(bisect_left(times, created), len(times))
    found: list[tuple[int, int, Breach]] = []  # (slot, order within the slot, breach)
    grace, judged_until, after = limits.grace, now - limits.grace, len(starts)
    found += [(i, 0, _missed(fires[i], grace)) for i in judged
              if times[i] <= judged_until and (bounds[i] == after or starts[bounds[i]] > times[i] + grace)]
    if limits.max_runtime is not None:
        long_runs = [j for j, (start, finish) in enumerate(zip(starts, finishes)) if (finish or now) - start > limits.max_runtime]
        found += _overlong(fires, times, [run_at(j) for j in long_runs], limits.max_runtime, now, judged)
    if limits.at_most is not None:
        found += [(i, 2, _duplicate(fires[i], [run_at(j) for j in range(bounds[i], bounds[i + 1])], limits.at_most))
                  for i in judged if bounds[i + 1] - bounds[i] > limits.at_most]
    found.sort(key=_SLOT_ORDER)
    return [breach for _, _, breach in found]


def _missed(fire: Fire, grace: timedelta) -> Breach:
    return Breach(BreachKind.MISSED, fire, f"no run started within {format_duration(grace.total_seconds())} of the fire")


def _overlong(fires: Sequence[Fire], times: list[datetime], long_runs: list[Run], max_runtime: timedelta,
              now: datetime, judged: range) -> list[tuple[int, int, Breach]]:
    """The overlong runs (each tested once, not per fire) by the slot they belong to."""
    by_slot: dict[int, list[Run]] = {}
    for run in long_runs:
        slot = bisect_right(times, run.start) - 1
        if slot in judged:
            by_slot.setdefault(slot, []).append(run)
    limit = format_duration(max_runtime.total_seconds())
    found = []
    for slot, slot_runs in by_slot.items():
        first = slot_runs[0]
        ran = format_duration(round(((first.finish or now) - first.start).total_seconds()))
        state = "still running after" if first.finish is None else "ran"
        reason = f"{state} {ran}, longer than max_runtime {limit}"
        if len(slot_runs) > 1:
            reason += f" ({len(slot_runs)} runs)"
        found.append((slot, 1, Breach(BreachKind.OVERLONG, fires[slot], reason, tuple(slot_runs))))
    return found


def _duplicate(fire: Fire, slot_runs: list[Run], at_most: int) -> Breach:
    reason = f"{len(slot_runs)} runs started for one fire, at most {at_most} allowed"
    return Breach(BreachKind.DUPLICATE, fire, reason, tuple(slot_runs))
