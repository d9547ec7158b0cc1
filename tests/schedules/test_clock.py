"""Wall clock to UTC across the gaps and repeats of daylight saving."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from watchdog.schedules.clock import first_instant_at

UTC = timezone.utc
NY = ZoneInfo("America/New_York")


def test_a_skipped_wall_time_maps_to_the_end_of_the_gap() -> None:
    assert first_instant_at(datetime(2026, 3, 8, 2, 30), NY) == datetime(2026, 3, 8, 7, tzinfo=UTC)
    # Santiago skips midnight itself (00:00 -> 01:00) in September
    santiago = first_instant_at(datetime(2026, 9, 6), ZoneInfo("America/Santiago"))
    assert santiago == datetime(2026, 9, 6, 4, tzinfo=UTC)


def test_a_repeated_wall_time_maps_to_its_first_occurrence() -> None:
    assert first_instant_at(datetime(2026, 11, 1, 1, 30), NY) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_an_ordinary_wall_time_maps_to_its_instant() -> None:
    assert first_instant_at(datetime(2026, 7, 1, 3), NY) == datetime(2026, 7, 1, 7, tzinfo=UTC)
