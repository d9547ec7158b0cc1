"""Backoff: full jitter under an exponential ceiling, capped; Retry-After is a floor."""
from __future__ import annotations

import random

from watchdog.notify.backoff import MAX_RETRY_AFTER, Backoff


def test_full_jitter_stays_under_the_exponential_ceiling_and_the_cap() -> None:
    rng, backoff = random.Random(7), Backoff(base=1.0, cap=300.0)
    for failures, ceiling in [(1, 1.0), (2, 2.0), (5, 16.0), (9, 256.0), (10, 300.0), (10_000, 300.0)]:
        delays = [backoff.delay(failures, None, rng) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2


def test_retry_after_is_a_floor_within_reason() -> None:
    rng = random.Random(7)
    assert Backoff().delay(1, 30.0, rng) == 30.0
    assert Backoff().delay(1, 10 * MAX_RETRY_AFTER, rng) == MAX_RETRY_AFTER
