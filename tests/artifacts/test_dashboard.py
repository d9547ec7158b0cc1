"""dashboards/watchdog.json imports anywhere: fixed uid, current schemaVersion, the datasource chosen at
import through a variable (never a hard-coded uid), and PromQL that promtool parses."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from artifacts.tools import dashboard_expressions, load_dashboard, run_tool, walk_panels

SCHEMA_VERSION = 41  # Grafana 12.0; newer Grafana migrates it on load
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
METRICS = {"watchdog_rule_violations", "watchdog_rule_up", "watchdog_rule_value", "watchdog_target_up",
           "watchdog_rule_last_evaluation_timestamp_seconds", "watchdog_probe_duration_seconds_bucket",
           "watchdog_probe_errors_total", "watchdog_notifications_total", "watchdog_build_info"}


def test_identity_schema_and_import_input() -> None:
    dashboard = load_dashboard()
    assert dashboard["uid"] == "watchdog-invariants"
    assert dashboard["schemaVersion"] == SCHEMA_VERSION
    assert dashboard["id"] is None
    assert [i["name"] for i in dashboard["__inputs"]] == ["DS_PROMETHEUS"]
    assert dashboard["__inputs"][0]["pluginId"] == "prometheus"


def test_variables_datasource_then_target_rule_severity_from_label_values() -> None:
    variables = {v["name"]: v for v in load_dashboard()["templating"]["list"]}
    assert list(variables) == ["datasource", "target", "rule", "severity"]
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    for name in ("target", "rule", "severity"):
        assert variables[name]["query"]["query"].startswith("label_values("), name
        assert variables[name]["datasource"] == DATASOURCE and variables[name]["allValue"] == ".*"


def test_no_datasource_uid_is_hard_coded() -> None:
    dashboard = load_dashboard()
    variable = dashboard["templating"]["list"][0]  # the import input only preselects this variable
    assert variable["current"] == {"text": "${DS_PROMETHEUS}", "value": "${DS_PROMETHEUS}"}
    variable["current"] = {}
    text = json.dumps(dashboard)
    assert "${DS_PROMETHEUS}" not in text
    uids = set(re.findall(r'"uid": "([^"]*)"', text)) - {"watchdog-invariants"}
    assert uids == {"${datasource}"}


def test_every_panel_and_query_uses_the_datasource_variable() -> None:
    panels = list(walk_panels(load_dashboard()["panels"]))
    assert len({p["id"] for p in panels}) == len(panels)
    for panel in panels:
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == DATASOURCE, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE, panel["title"]


def test_the_asked_for_panels_and_a_row_repeated_per_rule() -> None:
    panels = list(walk_panels(load_dashboard()["panels"]))
    titles = {p["title"] for p in panels}
    assert {"Rule status", "Violations over time", "Probe duration (p50, p95)", "Probe errors",
            "Notifications", "Target up"} <= titles
    [row] = [p for p in panels if p.get("repeat")]
    assert row["type"] == "row" and row["repeat"] == "rule"
    status = next(p for p in panels if p["title"] == "Rule status")
    columns = status["transformations"][-1]["options"]["renameByName"].values()
    assert set(columns) == {"Rule", "Target", "Status", "Violations", "Value", "Last evaluated"}


def test_every_metric_of_the_contract_is_shown() -> None:
    expressions = " ".join(dashboard_expressions(load_dashboard()).values())
    assert METRICS <= set(re.findall(r"watchdog_\w+", expressions))


@pytest.mark.e2e
def test_promtool_parses_every_expression(promtool: str, tmp_path: Path) -> None:
    """Each expression as a recording rule: `promtool check rules` parses them all, no server needed."""
    expressions = dashboard_expressions(load_dashboard())
    rules = [{"record": f"dashboard:expression_{i}", "expr": expr} for i, expr in enumerate(expressions.values())]
    path = tmp_path / "dashboard.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8")
    done = run_tool([promtool, "check", "rules", str(path)])
    assert f"SUCCESS: {len(rules)} rules found" in done.stdout
