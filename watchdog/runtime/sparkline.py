"""A rule's recent evaluations as the geometry of a small SVG: a line through the values, a dot per
evaluation coloured by its status. Drawn by the page's template; no script, no external asset."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from watchdog.runtime.ledger import HISTORY, Evaluation

WIDTH, HEIGHT, PAD = 300, 48, 4


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    status: str


@dataclass(frozen=True)
class Spark:
    width: int
    height: int
    lines: tuple[str, ...]  # polyline `points`, one per run of evaluations that have a value
    dots: tuple[Dot, ...]
    low: float | None
    high: float | None
    count: int


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def spark(history: Sequence[Evaluation]) -> Spark | None:
    """None for no evaluation yet. The newest sits at the right edge, slots fixed at HISTORY, so
    a young history fills from the right. An evaluation without a value (an error) is a dot on
    the baseline and breaks the line."""
    if not history:
        return None
    values = [v for v in (_finite(e.value) for e in history) if v is not None]
    low, high = (min(values), max(values)) if values else (None, None)
    step = (WIDTH - 2 * PAD) / (HISTORY - 1)
    lines: list[str] = []
    run: list[str] = []
    dots = []
    for i, evaluation in enumerate(history):
        x = round(WIDTH - PAD - (len(history) - 1 - i) * step, 2)
        value = _finite(evaluation.value)
        if value is None or low is None or high is None:
            y = float(HEIGHT - PAD)
            if len(run) > 1:
                lines.append(" ".join(run))
            run = []
        else:
            share = 0.5 if high == low else (value - low) / (high - low)
            y = round(HEIGHT - PAD - share * (HEIGHT - 2 * PAD), 2)
            run.append(f"{x},{y}")
        dots.append(Dot(x, y, evaluation.status))
    if len(run) > 1:
        lines.append(" ".join(run))
    return Spark(WIDTH, HEIGHT, tuple(lines), tuple(dots), low, high, len(history))
