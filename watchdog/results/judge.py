"""Turn a probe's rows into a verdict. Thresholds (`expect`) are judged here, not in SQL."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from datetime import datetime, timedelta
from typing import Any

from watchdog.compiler.frames import per_frame
from watchdog.compiler.probe import Probe
from watchdog.model.values import Expectation
from watchdog.results.fires import ScheduleShapeError, judge_schedule
from watchdog.results.normalized import merged_duplicates


class ShapeError(Exception):
    """The query did not return the shape its kind promises (a custom kind's template bug)."""


@dataclass(slots=True)  # one per rule per cycle: cheap to build (see Result)
class Verdict:
    violated: bool
    violations: int
    value: float | None
    samples: tuple[dict[str, Any], ...]


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None if value is None else float(value)
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    return None


def judge(probe: Probe, rows: list[dict[str, Any]], now: datetime) -> Verdict:
    expect: Expectation | None = probe.rule.params.get("expect")
    if probe.shape == "rows" and probe.rule.params.get("normalize"):
        count, samples = merged_duplicates(rows, probe.rule.params["key"], probe.rule.params["normalize"], probe.rule.samples)
        return Verdict(count > 0, count, float(count), samples)
    if probe.shape == "rows":
        if probe.counted_here:
            rows = [{"wd_count": len(rows), **row} for row in rows[:max(probe.rule.samples, 1)]]
        return _rows(rows, expect)
    if probe.shape == "schedule":
        try:
            count, samples = judge_schedule(probe.rule.params, probe.rule.time_unit, probe.rule.timezone, rows, now,
                                            probe.rule.samples)
        except ScheduleShapeError as exc:
            raise ShapeError(str(exc)) from None
        return Verdict(count > 0, count, float(count), samples)
    if probe.rule.per is not None and probe.kind.shape == "aggregate":
        return _per_bucket(probe, rows, now, expect)
    if probe.rule.group_by:
        return _grouped(rows, expect, probe.rule.group_by, probe.rule.expect_groups, probe.rule.samples)
    return _aggregate(rows, expect)


def judge_count(probe: Probe, count: int, samples: tuple[dict[str, Any], ...] = ()) -> Verdict:
    """The verdict of a batch member from its row count (and the sample rows fetched after it)."""
    expect: Expectation | None = probe.rule.params.get("expect")
    if expect is None:
        return Verdict(count > 0, count, float(count), samples)
    violated = not expect.holds(count)
    return Verdict(violated, int(violated), float(count), ())


def _rows(rows: list[dict[str, Any]], expect: Expectation | None) -> Verdict:
    """Rows each carrying the total as wd_count; none at all when a one-pass probe found nothing."""
    if rows and "wd_count" not in rows[0]:
        raise ShapeError("a row-shaped probe returned no count")
    count = int(rows[0]["wd_count"]) if rows else 0
    samples = tuple({k: v for k, v in row.items() if k != "wd_count"} for row in rows) if count else ()
    if expect is None:
        return Verdict(count > 0, count, float(count), samples)
    value = float(count)
    if count == 1 and len(samples) == 1 and len(samples[0]) == 1:
        lone = _number(next(iter(samples[0].values())))
        value = lone if lone is not None else value
    violated = not expect.holds(value)
    return Verdict(violated, int(violated), value, samples if violated else ())


def _per_bucket(probe: Probe, rows: list[dict[str, Any]], now: datetime, expect: Expectation | None) -> Verdict:
    """Each local bucket that lies wholly inside the window judged alone (the one under way, and one
    cut by the window's start, would be judged on part of their rows)."""
    rule = probe.rule
    if len(rows) != 1:
        raise ShapeError(f"a per-bucket probe must return one row (got {len(rows)})")
    start = now - timedelta(seconds=rule.window or 0)
    frame = per_frame(rule.window or 0, rule.per or "day", rule.timezone)
    breaches = []
    for index, bucket in enumerate(frame.intervals(now)):
        if bucket.start < start or bucket.end > now or bucket.start >= bucket.end:
            continue
        count = _number(rows[0].get(f"wd_b{index}")) or 0.0
        if expect is not None and not expect.holds(count):
            breaches.append({"bucket": bucket.label, "start": bucket.start.isoformat(), "end": bucket.end.isoformat(),
                             "value": int(count)})
    return Verdict(bool(breaches), len(breaches), float(len(breaches)), tuple(breaches[:rule.samples]))


def _grouped(rows: list[dict[str, Any]], expect: Expectation | None, group_by: tuple[str, ...],
             expected: tuple[tuple[Any, ...], ...] | None, samples: int) -> Verdict:
    """Each group (one row) judged alone; a group in `expect_groups` with no row is in breach too:
    a job that disappears is a violation, not silence. `value` is the number of groups in breach."""
    breaches: list[dict[str, Any]] = []
    seen: set[tuple[str, ...]] = set()
    for row in rows:
        verdict = _aggregate([row], expect, keep=group_by)
        seen.add(tuple(str(row.get(c)) for c in group_by))
        if verdict.violated:
            breaches.append(verdict.samples[0] if verdict.samples else {c: row.get(c) for c in group_by})
    for group in expected or ():
        if tuple(str(v) for v in group) not in seen:
            breaches.append({**dict(zip(group_by, group)), "value": None, "missing": True})
    return Verdict(bool(breaches), len(breaches), float(len(breaches)), tuple(breaches[:samples]))


def _aggregate(rows: list[dict[str, Any]], expect: Expectation | None, keep: tuple[str, ...] = ()) -> Verdict:
    if len(rows) != 1 or "value" not in rows[0]:
        raise ShapeError(f"an aggregate probe must return one row with a 'value' column (got {len(rows)} rows)")
    row = rows[0]
    value = _number(row["value"])
    if "violated" in row:
        violated = bool(row["violated"])
    elif expect is not None:
        violated = not expect.holds(value)
    else:
        raise ShapeError("an aggregate probe needs a 'violated' column or an 'expect' parameter")
    details = {k: v for k, v in row.items() if k not in ("value", "violated")}
    if keep:  # a group's sample shows its columns first, then its value
        details = {**{k: row.get(k) for k in keep}, "value": row["value"], **{k: v for k, v in details.items() if k not in keep}}
    return Verdict(violated, int(violated), value, (details,) if violated and details else ())
