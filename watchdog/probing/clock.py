"""Whose clock a probe's time windows use: the database's, when it and this host disagree.

A rule's cutoffs ("queued for more than 10 minutes") are compared with times the database wrote,
by its own clock. A watchdog host whose clock runs an hour ahead would see every fresh job as an
hour old and page; one behind would miss the incident. So each connection measures how far the
server's clock is from this host's when it opens (one round trip, the midpoint of the request
taken as the moment the server read its clock), and again when its measure is older than
SKEW_MAX_AGE (clocks drift, and a pooled session lives for days); the evaluation's `now` is
shifted by that skew. Differences under SKEW_THRESHOLD are network and NTP noise and are not applied.

The host's time is read with clock_gettime(CLOCK_REALTIME), the kernel's clock: a test that fakes
watchdog's clock (freezegun) fakes what `now` is, not how far the server is from the machine.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

SKEW_THRESHOLD = 1.0  # seconds
SKEW_MAX_AGE = 600.0  # seconds between two measures on one session

Wall = Callable[[], float]


def host_wall() -> float:
    """This machine's real time, in epoch seconds."""
    return time.clock_gettime(time.CLOCK_REALTIME)


def measure_skew(server_epoch: Callable[[], float], wall: Wall = host_wall) -> float:
    """The server's clock minus this host's, in seconds; 0.0 when within SKEW_THRESHOLD."""
    before = wall()
    server = server_epoch()
    after = wall()
    skew = server - (before + after) / 2
    return skew if abs(skew) > SKEW_THRESHOLD else 0.0


class SkewMeter:
    """One session's skew, measured again once it is older than SKEW_MAX_AGE. A measure that fails
    keeps the last one: the probe that follows on the same session reports the failure itself."""

    def __init__(self, server_epoch: Callable[[], float], wall: Wall = host_wall,
                 monotonic: Callable[[], float] = time.monotonic, failure: type[BaseException] = Exception) -> None:
        self._server_epoch, self._wall, self._monotonic, self._failure = server_epoch, wall, monotonic, failure
        self._skew = measure_skew(server_epoch, wall)
        self._at = monotonic()

    def value(self) -> float:
        if self._monotonic() - self._at >= SKEW_MAX_AGE:
            self._at = self._monotonic()
            try:
                self._skew = measure_skew(self._server_epoch, self._wall)
            except self._failure:
                pass
        return self._skew


def shifted(clock: Callable[[], datetime], skew: float) -> Callable[[], datetime]:
    """`clock` moved onto the database's time."""
    if not skew:
        return clock
    delta = timedelta(seconds=skew)
    return lambda: clock() + delta
