"""alerts/: the alerting rules pass promtool, every alert has a promtool unit test, and the
Alertmanager example passes amtool."""
from __future__ import annotations

import pytest
import yaml

from artifacts.tools import ALERTMANAGER_EXAMPLE, ALERTS, RULES_FILE, alert_rules, run_tool

UNIT_TESTS = sorted((ALERTS / "tests").glob("*.yml"))


def test_every_alert_has_a_promtool_unit_test() -> None:
    tested = {case["alertname"] for path in UNIT_TESTS for test in yaml.safe_load(path.read_text())["tests"]
              for case in test.get("alert_rule_test", ())}
    assert tested == set(alert_rules(RULES_FILE))


def test_every_alert_says_what_is_wrong_and_how_bad() -> None:
    for name, rule in alert_rules(RULES_FILE).items():
        assert {"summary", "description"} <= set(rule["annotations"]), name
        # the violated-invariant alert keeps the severity label the metric carries
        assert name == "WatchdogInvariantViolated" or rule["labels"]["severity"] in {"critical", "warning", "none"}, name


@pytest.mark.e2e
def test_promtool_checks_the_alert_rules(promtool: str) -> None:
    done = run_tool([promtool, "check", "rules", str(RULES_FILE)])
    assert f"SUCCESS: {len(alert_rules(RULES_FILE))} rules found" in done.stdout


@pytest.mark.e2e
def test_promtool_unit_tests_of_the_alert_rules_pass(promtool: str) -> None:
    assert UNIT_TESTS
    done = run_tool([promtool, "test", "rules", *(p.name for p in UNIT_TESTS)], cwd=ALERTS / "tests")
    assert "SUCCESS" in done.stdout


@pytest.mark.e2e
def test_amtool_checks_the_alertmanager_example_and_its_templates(amtool: str) -> None:
    done = run_tool([amtool, "check-config", str(ALERTMANAGER_EXAMPLE)])
    assert "1 templates" in done.stdout and "SUCCESS" in done.stdout
