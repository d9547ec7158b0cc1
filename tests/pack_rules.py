"""Evaluating a shipped pack's rules against a real database, as a rule file that includes it."""
from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import yaml
from psycopg.conninfo import conninfo_to_dict

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


def as_role(conninfo: str, role: str | None = None, user: str | None = None) -> str:
    """A postgresql:// URL for the libpq `conninfo`, logged in as `user` (default: its own), whose
    session runs as `role` if given (the login user must be a member, as the tests' superuser is):
    the grants a pack needs, proven through watchdog itself."""
    params = conninfo_to_dict(conninfo)
    auth = quote(user or str(params.get("user", "postgres"))) + (f":{quote(str(params['password']))}" if params.get("password") and not user else "")
    where = f"{params.get('host', '127.0.0.1')}:{params.get('port', 5432)}/{params['dbname']}"
    return f"postgresql://{auth}@{where}" + (f"?{urlencode({'options': f'-crole={role}'})}" if role else "")
