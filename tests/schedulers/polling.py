"""Bounded waiting on real processes: poll a condition until it holds or a deadline passes.

The schedulers under test run on their own clocks (pg_cron fires at minute boundaries, procrastinate
workers poll and beat), so a test waits for what it needs to see, never for a fixed time.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(probe: Callable[[], T], timeout: float, what: str, interval: float = 0.1) -> T:
    """The first truthy value `probe` returns; past `timeout` seconds, an AssertionError naming
    `what` and the last value seen, so a test that times out says what never happened."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last seen: {value!r})")
        time.sleep(interval)
