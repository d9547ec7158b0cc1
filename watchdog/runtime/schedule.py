"""When each unit of work runs (`watchdog.evaluation.units`): on its own interval at a stable offset.

Every unit runs once at start (the target's pool bounds
how many at a time; units due at the same moment are handed over together, so the evaluator can
send their statements together), so /metrics is complete soon; after that each runs in its own slot, offset
within its interval by a hash of its name, so a thousand rules spread over the minute instead of
hitting the database together, and a rule keeps its slot across restarts (Prometheus spreads
scrapes the same way). A unit still running when it falls due again is skipped, never run twice.
`update()` (a reload) keeps the next due time of every unit it is handed again and runs the new
ones at once.
"""
from __future__ import annotations

import heapq
import itertools
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator

from watchdog.evaluation.units import Unit


class Scheduler:
    """One thread that hands due units to `submit` (those due at once in one list) and calls `tick`
    every `tick_every` seconds."""

    def __init__(self, units: Iterable[Unit], submit: Callable[[list[Unit]], None], tick: Callable[[], None],
                 tick_every: float = 5.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._units = list(units)
        self._submit = submit
        self._tick = tick
        self._tick_every = tick_every
        self._monotonic = monotonic
        self._stop = threading.Event()
        self._wake = threading.Event()  # set by stop() and update(): the loop looks again at once
        self._lock = threading.Lock()  # self._units and self._changed, between update() and the loop
        self._changed = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="watchdog-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def update(self, units: Iterable[Unit]) -> None:
        """From now on schedule `units`: those scheduled already (the same objects) keep their next
        due time, new ones are due at once, the others are dropped."""
        with self._lock:
            self._units, self._changed = list(units), True
        self._wake.set()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        start = self._monotonic()
        order = itertools.count()  # ties in due time never compare units
        with self._lock:
            self._changed = False
            queue = [(start, next(order), unit) for unit in self._units]
        next_tick = start + self._tick_every
        while not self._stop.is_set():
            self._wake.clear()
            now = self._monotonic()
            with self._lock:
                if self._changed:
                    self._changed = False
                    queue = _requeue(queue, self._units, now, order)
            due: list[Unit] = []
            while queue and queue[0][0] <= now:
                _, _, unit = heapq.heappop(queue)
                due.append(unit)
                heapq.heappush(queue, (next_slot(start + unit.offset(), unit.interval, now), next(order), unit))
            if due:
                self._submit(due)
            if now >= next_tick:
                self._tick()
                next_tick = now + self._tick_every
            wake = min(queue[0][0] if queue else next_tick, next_tick)
            self._wake.wait(max(0.0, wake - self._monotonic()))


def _requeue(queue: list[tuple[float, int, Unit]], units: list[Unit], now: float,
             order: Iterator[int]) -> list[tuple[float, int, Unit]]:
    """The queue for `units`: the entries of those it holds already, the others due `now`."""
    wanted = {id(unit) for unit in units}
    kept = [entry for entry in queue if id(entry[2]) in wanted]
    held = {id(entry[2]) for entry in kept}
    kept += [(now, next(order), unit) for unit in units if id(unit) not in held]
    heapq.heapify(kept)
    return kept


def next_slot(base: float, interval: float, now: float) -> float:
    """The first of base + k * interval (k >= 1) after now: a loop that fell behind skips slots
    rather than running a burst to catch up."""
    k = max(1, math.floor((now - base) / interval) + 1)
    return base + k * interval
