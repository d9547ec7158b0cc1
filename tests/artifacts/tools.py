"""What the artifact and end-to-end tests share: finding the real binaries, the repository's files,
and the PromQL expressions of the dashboard and the alert rules."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "alerts"
RULES_FILE = ALERTS / "watchdog.rules.yml"
ALERTMANAGER_EXAMPLE = ALERTS / "alertmanager.example.yml"
DASHBOARD = ROOT / "dashboards" / "watchdog.json"
INSTALL_HINT = "apt-get install prometheus prometheus-alertmanager"

# What Grafana puts in place of its variables; `.*` stands for "All" of a multi-value variable.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "5m",
                     "$target": ".*", "$rule": ".*", "$severity": ".*"}


def require_binary(*names: str) -> str:
    """The path of the first of `names` on PATH (Debian names Alertmanager `prometheus-alertmanager`);
    none skips the test, or fails it when WATCHDOG_REQUIRE_E2E=1."""
    path = next(filter(None, map(shutil.which, names)), None)
    if path is None:
        reason = f"{' or '.join(names)} not on PATH ({INSTALL_HINT})"
        if os.environ.get("WATCHDOG_REQUIRE_E2E") == "1":
            pytest.fail(f"{reason}, and WATCHDOG_REQUIRE_E2E=1 requires it")
        pytest.skip(reason)
    return path


def run_tool(argv: Sequence[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a tool; a non-zero exit fails the test with everything it printed."""
    done = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def load_dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def walk_panels(panels: Sequence[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    """Every panel, rows' collapsed children included."""
    for panel in panels:
        yield panel
        yield from walk_panels(panel.get("panels", ()))


def dashboard_expressions(dashboard: Mapping[str, Any]) -> dict[str, str]:
    """Every PromQL expression of the dashboard, by where it is: panels' targets and query variables
    (`label_values(X, L)` becomes `count by (L) (X)`), Grafana's variables replaced."""
    found: dict[str, str] = {}
    for panel in walk_panels(dashboard["panels"]):
        for target in panel.get("targets", ()):
            found[f"panel '{panel['title']}' {target['refId']}"] = grafana_to_promql(target["expr"])
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
            found[f"variable {variable['name']}"] = grafana_to_promql(label_values_to_promql(query))
    return found


def label_values_to_promql(query: str) -> str:
    match = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", query.strip())
    assert match, f"not a label_values(metric, label) query: {query}"
    return f"count by ({match[2]}) ({match[1]})"


def grafana_to_promql(expr: str) -> str:
    for name in sorted(GRAFANA_VARIABLES, key=len, reverse=True):
        expr = expr.replace(name, GRAFANA_VARIABLES[name])
    assert "$" not in expr, f"a Grafana variable is left in {expr}"
    return expr


def alert_rules(path: Path) -> dict[str, Mapping[str, Any]]:
    """The alerting rules of a Prometheus rule file, by alert name."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {rule["alert"]: rule for group in document["groups"] for rule in group["rules"] if "alert" in rule}
