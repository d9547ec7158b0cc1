"""A target's units waiting for its connections, handed out in shrinking chunks (guided self-scheduling).

A chunk runs on one connection with its statements sent together (one round trip per round on
PostgreSQL), so large chunks save round trips. But a chunk's connection is busy until its slowest
unit is done: with units dealt out in fixed shares, the two heavy probes of an incident can land on
one connection while the other idles (a quarter of `watchdog check`'s probe time on the bench's
incident data). So each take is a share of what is left, ceil(left / (2 x connections)): large
while much is left, single units at the end, when a connection that is free takes the rest. And a
share is taken across the queue (every k-th unit), not from its head: the rule file lists rules of
one table and kind together, and those are the ones that are slow together.
"""
from __future__ import annotations

import math
import threading
from collections.abc import Sequence

from watchdog.evaluation.units import Unit


class Chunks:
    def __init__(self, units: Sequence[Unit], connections: int) -> None:
        self._left = list(units)
        self._connections = max(1, min(connections, len(units)))
        self._lock = threading.Lock()

    @property
    def connections(self) -> int:
        """How many connections should drain this queue: at most one a unit."""
        return self._connections

    def take(self) -> list[Unit]:
        """The next chunk for a connection that is free; empty when nothing is left."""
        with self._lock:
            left = len(self._left)
            if self._connections == 1 or left == 0:
                taken, self._left = self._left, []
                return taken
            size = math.ceil(left / (2 * self._connections))
            stride = left // size
            taken = self._left[0:size * stride:stride]
            del self._left[0:size * stride:stride]
            return taken
