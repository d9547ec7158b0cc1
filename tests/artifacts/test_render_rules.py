"""`watchdog render prometheus-rules`: one alert per rule, jinja text translated only where faithful,
and the output accepted (and evaluated) by the real promtool."""
from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from artifacts.tools import ROOT, run_tool
from watchdog.cli import main
from watchdog.plan import build_plan

HEADER = """
version: 1
targets:
  main: {dsn: "sqlite:///unused.db"}
rules:
"""


def render(capsys: pytest.CaptureFixture[str], path: Path) -> dict[str, Any]:
    assert main(["render", "prometheus-rules", "-c", str(path)]) == 0
    return yaml.safe_load(capsys.readouterr().out)


def one_alert(capsys: pytest.CaptureFixture[str], write_rules: Callable[[str], Path], rule: str) -> dict[str, Any]:
    document = render(capsys, write_rules(HEADER + textwrap.indent(textwrap.dedent(rule), "  ")))
    [alert] = document["groups"][0]["rules"]
    return alert


def test_an_alert_carries_the_rules_for_severity_labels_and_texts(capsys, write_rules) -> None:
    alert = one_alert(capsys, write_rules, """
        - name: jobs_stuck
          check: stuck
          table: jobs
          where: {status: pending}
          time_column: created_at
          older_than: 5m
          for: 90s
          severity: critical
          labels: {team: scheduling}
          summary: "{{ violations }} jobs pending on {{ target }}"
          description: "The {{ check }} rule {{ rule }} ({{ severity }})"
          runbook_url: https://example.org/runbooks/stuck
    """)
    assert alert == {
        "alert": "jobs_stuck",
        "expr": 'watchdog_rule_violations{rule="jobs_stuck",target="main"} > 0',
        "for": "90s",
        "labels": {"team": "scheduling", "severity": "critical"},
        "annotations": {"summary": "{{ $value }} jobs pending on main",
                        "description": "The stuck rule jobs_stuck (critical)",
                        "runbook_url": "https://example.org/runbooks/stuck"},
    }


def test_value_becomes_a_query_of_the_rules_value_and_number_filters_become_printf(capsys, write_rules) -> None:
    alert = one_alert(capsys, write_rules, """
        - name: failures
          check: ratio
          table: jobs
          failed: {status: failed}
          max: 0.1
          summary: "ratio {{ value | round(2) }}, {{ violations | int }} violated"
    """)
    assert alert["annotations"]["summary"] == (
        'ratio {{ with query "watchdog_rule_value{rule=\\"failures\\",target=\\"main\\"}" }}'
        '{{ . | first | value | printf "%.2f" }}{{ end }}, {{ $value | printf "%.0f" }} violated')
    assert "for" not in alert


@pytest.mark.parametrize("summary", [
    "{{ ((value or 0) * 100) | round(1) }}% failed",
    "{% if violations > 1 %}many{% endif %}",
    "{{ samples[0].job_id }} is stuck",
    "{{ violations | upper }}",
])
def test_what_has_no_faithful_translation_falls_back_to_the_default_text(capsys, write_rules, summary: str) -> None:
    alert = one_alert(capsys, write_rules, f"""
        - name: failures
          check: sql
          query: SELECT 1
          summary: {summary!r}
    """)
    assert alert["annotations"]["summary"] == "failures on main: {{ $value }} violations"
    assert alert["annotations"]["description"] == (
        "The sql check of rule failures on target main found {{ $value }} violations.")


def test_disabled_rules_get_no_alert_and_fractional_durations_are_milliseconds(capsys, write_rules) -> None:
    document = render(capsys, write_rules(HEADER + """
  - {name: kept, check: sql, query: SELECT 1, for: 1500ms}
  - {name: switched_off, check: sql, query: SELECT 1, enabled: false}
"""))
    assert [(a["alert"], a["for"]) for a in document["groups"][0]["rules"]] == [("kept", "1500ms")]


def test_a_bad_rule_file_exits_2_and_writes_nothing(capsys, write_rules) -> None:
    path = write_rules(HEADER + "  - {name: x, check: nope}\n")
    assert main(["render", "prometheus-rules", "-c", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "unknown check 'nope'" in captured.err


@pytest.mark.e2e
def test_promtool_accepts_the_rules_generated_from_the_example_rule_file(promtool: str, tmp_path: Path) -> None:
    output = tmp_path / "generated.rules.yml"
    assert main(["render", "prometheus-rules", "-c", str(ROOT / "rules.yaml"), "-o", str(output)]) == 0
    done = run_tool([promtool, "check", "rules", str(output)])
    enabled = [rule for rule in build_plan(ROOT / "rules.yaml", env={}).rules if rule.enabled]
    assert f"SUCCESS: {len(enabled)} rules found" in done.stdout


@pytest.mark.e2e
def test_a_generated_alert_waits_for_its_for_and_renders_its_value_in_promtool(promtool: str, write_rules, tmp_path: Path) -> None:
    """promtool evaluates the translated template, `with query` on watchdog_rule_value included."""
    rules = write_rules(HEADER + """
  - name: proof_started
    check: count
    table: events
    for: 2m
    severity: critical
    summary: "only {{ value | int }} started events ({{ violations }} violation)"
""")
    assert main(["render", "prometheus-rules", "-c", str(rules), "-o", str(tmp_path / "generated.yml")]) == 0
    labels = 'rule="proof_started",target="main"'
    (tmp_path / "test.yml").write_text(yaml.safe_dump({
        "rule_files": ["generated.yml"],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [
                {"series": f'watchdog_rule_violations{{{labels},check="count",severity="critical"}}', "values": "0 1 1 1 1"},
                {"series": f"watchdog_rule_value{{{labels}}}", "values": "3 0 0 0 0"},
            ],
            "alert_rule_test": [
                {"eval_time": "2m", "alertname": "proof_started", "exp_alerts": []},
                {"eval_time": "3m", "alertname": "proof_started", "exp_alerts": [{
                    "exp_labels": {"rule": "proof_started", "target": "main", "check": "count", "severity": "critical"},
                    "exp_annotations": {
                        "summary": "only 0 started events (1 violation)",
                        "description": "The count check of rule proof_started on target main found 1 violations.",
                    },
                }]},
            ],
        }],
    }), encoding="utf-8")
    run_tool([promtool, "test", "rules", "test.yml"], cwd=tmp_path)
