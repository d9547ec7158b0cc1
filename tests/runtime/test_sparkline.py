"""The sparkline's geometry and the history behind it: the last 60 evaluations, newest at the right,
an error a dot on the baseline that breaks the line."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from runtime_helpers import rule

from watchdog.results.model import Result
from watchdog.runtime.ledger import HISTORY, Evaluation, Ledger
from watchdog.runtime.sparkline import HEIGHT, PAD, WIDTH, spark

T0 = datetime(2026, 2, 4, 17, 5, tzinfo=timezone.utc)


def evaluation(status: str, value: float | None, i: int = 0) -> Evaluation:
    return Evaluation(status, value, T0 + timedelta(minutes=i))


def test_the_newest_sits_at_the_right_edge_and_values_span_the_height() -> None:
    drawn = spark([evaluation("ok", 0, 0), evaluation("violated", 4, 1)])
    assert drawn is not None and drawn.count == 2 and (drawn.low, drawn.high) == (0, 4)
    oldest, newest = drawn.dots
    assert newest.x == WIDTH - PAD and oldest.x < newest.x
    assert (oldest.y, newest.y) == (HEIGHT - PAD, PAD)  # the lowest value at the bottom, the highest at the top
    assert [d.status for d in drawn.dots] == ["ok", "violated"]


def test_an_error_is_a_dot_on_the_baseline_that_breaks_the_line() -> None:
    drawn = spark([evaluation("ok", 1, 0), evaluation("ok", 2, 1), evaluation("error", None, 2),
                   evaluation("violated", 3, 3), evaluation("violated", 3, 4)])
    assert drawn is not None and len(drawn.lines) == 2
    assert drawn.dots[2].status == "error" and drawn.dots[2].y == HEIGHT - PAD


def test_no_history_draws_nothing() -> None:
    assert spark([]) is None


def test_the_ledger_keeps_the_last_history_evaluations_oldest_first() -> None:
    ledger = Ledger([rule()], [])
    for i in range(HISTORY + 5):
        ledger.record(Result("jobs_stuck", "main", "stuck", "ok", "critical", T0 + timedelta(minutes=i), value=float(i)))
    history = ledger.history("jobs_stuck", "main")
    assert len(history) == HISTORY and history[0].value == 5.0 and history[-1].value == HISTORY + 4.0
    assert ledger.history("no_such_rule", "main") == ()
