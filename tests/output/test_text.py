"""The text report: sample rows lead with what identifies them and why they are in breach."""
from __future__ import annotations

from datetime import datetime, timezone

from watchdog.config.model import Rule
from watchdog.output.text import render
from watchdog.results.model import Result

NOW = datetime(2026, 2, 4, 17, 5, tzinfo=timezone.utc)


def violated(check: str, samples: tuple[dict, ...]) -> Result:
    return Result(rule="r", target="main", check=check, status="violated", severity="warning", evaluated_at=NOW,
                  violations=len(samples), value=float(len(samples)), samples=samples)


def sample_line(result: Result, rules: dict[str, Rule] | None = None) -> str:
    return render([result], rules=rules).splitlines()[4].strip()


def test_computed_columns_lead_and_are_never_cut() -> None:
    row = {"id": 7, "payload": "x" * 200, "status": "doing", "age_seconds": 4242.0}
    line = sample_line(violated("stuck", (row,)))
    assert line == "age_seconds=4242.0, id=7, …"


def test_the_rules_key_leads_then_the_count() -> None:
    rule = Rule(name="r", check="duplicate", target="main", params={"key": ("task_name", "args")})
    row = {"queue": "work", "copies": 2, "args": {"item": 7}, "task_name": "noop"}
    assert sample_line(violated("duplicate", (row,)), {"r": rule}) == 'task_name=noop, args={"item": 7}, copies=2, queue=work'


def test_structured_values_print_as_json() -> None:
    row = {"id": 1, "args": {"timestamp": 1795905905, "tags": ["a", "b"]}, "note": None}
    assert sample_line(violated("sql", (row,))) == 'id=1, args={"timestamp": 1795905905, "tags": ["a", "b"]}, note=null'
