"""Client-side deadlines: a database that does not answer at all must not hold a probe forever.

statement_timeout is enforced by the server; a server that is frozen (SIGSTOP, a hung host, a
network black hole) never enforces it. One watcher thread per evaluator keeps a heap of deadlines;
when one passes, its callback aborts the connection (the statement under way fails at once).
Registering and clearing a deadline is a lock and a heap push (cleared ones leave the heap when the
watcher next wakes): cheap enough for every probe, and no thread switch per probe.
"""
from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable


class Deadlines:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._heap: list[tuple[float, int]] = []
        self._callbacks: dict[int, Callable[[], None]] = {}
        self._ids = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._wakes_at: float | None = None  # when the watcher wakes by itself (None: only when told)

    def add(self, seconds: float, callback: Callable[[], None]) -> int:
        """Call `callback` in `seconds` unless cleared first; returns the handle to clear."""
        handle = next(self._ids)
        with self._cond:
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(target=self._loop, name="watchdog-deadlines", daemon=True)
                self._thread.start()
            self._callbacks[handle] = callback
            due = self._monotonic() + seconds
            heapq.heappush(self._heap, (due, handle))
            if self._wakes_at is None or due < self._wakes_at:  # else it wakes in time by itself: no switch
                self._cond.notify()
        return handle

    def clear(self, handle: int) -> None:
        with self._cond:
            self._callbacks.pop(handle, None)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def _loop(self) -> None:
        while True:
            with self._cond:
                if self._stopped:
                    return
                while self._heap and self._heap[0][1] not in self._callbacks:
                    heapq.heappop(self._heap)
                wait = self._heap[0][0] - self._monotonic() if self._heap else None
                if wait is None or wait > 0:
                    self._wakes_at = None if wait is None else self._heap[0][0]
                    self._cond.wait(wait)
                    self._wakes_at = None
                    continue
                _, handle = heapq.heappop(self._heap)
                callback = self._callbacks.pop(handle)
            callback()
