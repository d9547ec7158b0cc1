"""pytest's own clock stays real under freezegun (tests/conftest.py), so `--durations` is true."""
from __future__ import annotations

import time

from _pytest import timing
from freezegun import freeze_time

FROZEN = "2026-02-04 17:05:00"


def test_pytest_measures_real_time_while_the_test_has_frozen_it() -> None:
    before = timing.Instant()
    with freeze_time(FROZEN) as clock:
        started = timing.Instant()
        clock.tick(3600)
        time.sleep(0.05)  # real time the frozen clock does not see, and pytest must
        elapsed = started.elapsed().seconds
        across = before.elapsed().seconds
    assert 0.05 <= elapsed < 5
    assert 0.05 <= across < 5  # a phase that began before the freeze and ended inside it


def test_the_code_under_test_still_sees_the_frozen_clock() -> None:
    with freeze_time(FROZEN) as clock:
        start = time.perf_counter()
        clock.tick(90)
        assert time.perf_counter() - start == 90
        assert time.monotonic() - start == 90
