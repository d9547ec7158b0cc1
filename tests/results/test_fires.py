"""judge_schedule on rows as probes return them: in the order the database gave, whatever the type of
their times. The verdict must not depend on the rows arriving grouped and sorted by instant."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from watchdog.results.fires import ScheduleShapeError, judge_schedule

NOW = datetime(2026, 2, 4, 12, 0, 30, tzinfo=timezone.utc)
# Fires judged: 11:00, 11:15, 11:30, 11:45 (12:00's grace has not run out at NOW).
PARAMS: dict[str, Any] = {"max_runs": 1000, "grace": 120, "max_runtime": 600, "at_most": 1, "lookback": 3700,
                          "cron": None, "jobs": {"timezone": None}}
STARTS_ONLY = {**PARAMS, "max_runtime": None}


def row(job: int, start: Any, finish: Any = None, schedule: str = "*/15 * * * *") -> dict[str, Any]:
    return {"wd_job": job, "wd_schedule": schedule, "wd_timezone": None, "wd_name": f"job-{job}", "wd_created": None,
            "wd_start": start, "wd_finish": finish}


def verdict(rows: list[dict[str, Any]], params: dict[str, Any] = PARAMS) -> tuple[int, list[tuple[Any, str, str]]]:
    count, samples = judge_schedule(params, "timestamp", None, rows, NOW, 50)
    return count, sorted((s["job"], s["problem"], s["fire_utc"]) for s in samples)


def fires_at(minutes: list[int], late: int = 5) -> list[datetime]:
    return [datetime(2026, 2, 4, 11, tzinfo=timezone.utc) + timedelta(minutes=m, seconds=late) for m in minutes]


def test_rows_out_of_order_and_split_between_jobs_give_the_ordered_verdict() -> None:
    # Job 1: 11:00 ran 20 minutes, 11:30 ran twice, 11:45 did not run. Job 2 kept every fire.
    one = [row(1, start, start + timedelta(minutes=20 if start.minute == 0 else 1))
           for start in [*fires_at([0, 15, 30]), *fires_at([30], late=35)]]
    two = [row(2, start, start + timedelta(minutes=1)) for start in fires_at([0, 15, 30, 45])]
    ordered = verdict(one + two)
    assert ordered == (3, [(1, "duplicate", "2026-02-04T11:30:00+00:00"), (1, "missed", "2026-02-04T11:45:00+00:00"),
                           (1, "overlong", "2026-02-04T11:00:00+00:00")])
    shuffled = [one[2], two[1], one[0], two[3], one[3], one[1], two[0], two[2]]
    assert verdict(shuffled) == ordered


def test_text_times_in_other_offsets_are_read_as_instants_and_put_in_order() -> None:
    # SQLite returns text: sorted as text, '11:14:00-01:00' (12:14 UTC) comes before '11:20:05+00:00'.
    rows = [row(1, "2026-02-04 11:00:05+00:00"), row(1, "2026-02-04 11:14:00-01:00"), row(1, "2026-02-04 11:15:05+00:00"),
            row(1, "2026-02-04 11:30:05+00:00"), row(1, "2026-02-04 11:45:05+00:00")]
    assert verdict(rows, STARTS_ONLY) == (0, [])  # the 12:14 run belongs to 12:00's slot
    moved = [*rows[:1], row(1, "2026-02-04T12:15:05+01:00"), *rows[2:]]  # 11:15:05 UTC: a second run for 11:15
    assert verdict(moved, STARTS_ONLY) == (1, [(1, "duplicate", "2026-02-04T11:15:00+00:00")])


def test_times_in_another_zone_are_converted() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    rows = [row(1, t.astimezone(berlin)) for t in fires_at([0, 15, 30])]
    assert verdict(rows, STARTS_ONLY) == (1, [(1, "missed", "2026-02-04T11:45:00+00:00")])


def test_a_probe_without_the_job_column_is_a_shape_error() -> None:
    rows = [{k: v for k, v in row(1, fires_at([0])[0]).items() if k != "wd_job"}]
    with pytest.raises(ScheduleShapeError, match="'wd_job'"):
        judge_schedule(PARAMS, "timestamp", None, rows, NOW, 5)
