"""How long to wait before the next attempt: exponential backoff with full jitter, or Retry-After."""
from __future__ import annotations

import random
from dataclasses import dataclass

MAX_RETRY_AFTER = 3600.0


@dataclass(frozen=True)
class Backoff:
    """Full jitter (uniform in [0, min(cap, base * 2**(failures-1))]) spreads retries of many
    alerts after an outage instead of sending them all at the same instant."""

    base: float = 1.0
    cap: float = 300.0

    def delay(self, failures: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait after the `failures`-th failure; a server's Retry-After is a minimum."""
        ceiling = min(self.cap, self.base * 2.0 ** min(max(failures - 1, 0), 62))
        jittered = rng.uniform(0.0, ceiling)
        return min(max(jittered, retry_after or 0.0), MAX_RETRY_AFTER)
