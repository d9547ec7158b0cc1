"""When each unit of work runs (`watchdog.evaluation.units`): on its own interval at a stable offset.

Every unit runs once at start (the target's pool bounds
how many at a time), so /metrics is complete soon; after that each runs in its own slot, offset
within its interval by a hash of its name, so a thousand rules spread over the minute instead of
hitting the database together, and a rule keeps its slot across restarts (Prometheus spreads
scrapes the same way). A unit still running when it falls due again is skipped, never run twice.
"""
from __future__ import annotations

import heapq
import math
import threading
import time
from collections.abc import Callable, Iterable

from watchdog.evaluation.units import Unit


class Scheduler:
    """One thread that hands due units to `submit` and calls `tick` every `tick_every` seconds."""

    def __init__(self, units: Iterable[Unit], submit: Callable[[Unit], None], tick: Callable[[], None],
                 tick_every: float = 5.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._units = list(units)
        self._submit = submit
        self._tick = tick
        self._tick_every = tick_every
        self._monotonic = monotonic
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="watchdog-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        start = self._monotonic()
        queue = [(start, index) for index in range(len(self._units))]
        next_tick = start + self._tick_every
        while not self._stop.is_set():
            now = self._monotonic()
            while queue and queue[0][0] <= now:
                _, index = heapq.heappop(queue)
                unit = self._units[index]
                self._submit(unit)
                heapq.heappush(queue, (next_slot(start + unit.offset(), unit.interval, now), index))
            if now >= next_tick:
                self._tick()
                next_tick = now + self._tick_every
            wake = min(queue[0][0] if queue else next_tick, next_tick)
            self._stop.wait(max(0.0, wake - self._monotonic()))


def next_slot(base: float, interval: float, now: float) -> float:
    """The first of base + k * interval (k >= 1) after now: a loop that fell behind skips slots
    rather than running a burst to catch up."""
    k = max(1, math.floor((now - base) / interval) + 1)
    return base + k * interval
