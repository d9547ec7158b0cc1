"""Evaluating a shipped pack's rules against a real database, as a rule file that includes it."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from watchdog.evaluation.evaluator import evaluate
from watchdog.plan import build_plan
from watchdog.results.model import Result


def evaluate_pack(folder: Path, dsn: str, pack: str, params: dict[str, Any] | None = None,
                  rules: dict[str, dict[str, Any]] | None = None) -> dict[str, Result]:
    """Every enabled rule of `pack` (with `params`, and `rules` overrides) evaluated once on `dsn`, by name."""
    include: dict[str, Any] = {"pack": pack, "with": params or {}}
    if rules:
        include["rules"] = rules
    path = folder / f"{pack}-rules.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "targets": {"main": {"dsn": dsn, "statement_timeout": "20s"}},
                                    "include": [include], "rules": []}))
    plan = build_plan(path, env={})
    return {result.rule: result for result in evaluate(plan.probes, plan.targets, secrets=plan.secrets)}


def sample_values(result: Result, column: str) -> list[Any]:
    """The values of `column` in the result's sample rows."""
    return [row.get(column) for row in result.samples]
