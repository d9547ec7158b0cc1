"""Which silences quiet which alert in `watchdog run`, read from the rule file passed at each call."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest
from runtime_helpers import rule

from watchdog.config.model import RuleFile
from watchdog.model.silences import Match, OneOff, Silence
from watchdog.runtime.alerts import PROBE_FAILING, RULE_STALE, STATE_UNWRITABLE, TARGET_DOWN, Alert
from watchdog.runtime.quiet import SilenceLog, alert_silences, silenced_rules

UTC = timezone.utc
DURING = datetime(2026, 12, 3, 9, tzinfo=UTC)
AFTER = datetime(2026, 12, 3, 13, tzinfo=UTC)
WINDOW = OneOff(datetime(2026, 12, 3, 8, tzinfo=UTC), datetime(2026, 12, 3, 12, tzinfo=UTC))


def rule_file(*silences: Silence) -> RuleFile:
    return RuleFile(path="rules.yaml", version=1, targets={}, rules=(rule("jobs_stuck", tags=("nightly",)), rule("other")),
                    silences=silences)


def alert(alertname: str, rule_name: str = "jobs_stuck", target: str = "main") -> Alert:
    return Alert(alertname, rule_name, target, "firing", DURING)


def names(silences: list[Silence]) -> list[str]:
    return [s.name for s in silences]


def test_a_rules_own_alert_probe_failing_and_rule_stale_follow_the_rule() -> None:
    file = rule_file(Silence("nightly", Match(tag=("nightly",)), WINDOW))
    for alertname in ("jobs_stuck", PROBE_FAILING, RULE_STALE):
        assert names(alert_silences(file, alert(alertname), DURING)) == ["nightly"]
        assert alert_silences(file, alert(alertname), AFTER) == []
    assert alert_silences(file, alert("other", "other"), DURING) == []
    assert alert_silences(file, alert(TARGET_DOWN, ""), DURING) == []  # a silence of some rules is not of the target


def test_target_down_is_quieted_only_by_a_silence_of_the_target_alone_and_state_unwritable_never() -> None:
    file = rule_file(Silence("db", Match(target=("main",)), WINDOW))
    assert names(alert_silences(file, alert(TARGET_DOWN, ""), DURING)) == ["db"]
    assert alert_silences(file, alert(TARGET_DOWN, "", target="replica"), DURING) == []
    assert alert_silences(file, alert(STATE_UNWRITABLE, "", target="state.db"), DURING) == []


def test_silenced_rules_and_a_log_line_when_a_silence_starts_and_ends(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="watchdog")
    file = rule_file(Silence("nightly", Match(tag=("nightly",)), WINDOW))
    log = SilenceLog()
    during = silenced_rules(file, file.rules, DURING)
    assert during == {("jobs_stuck", "main"): ("nightly",)}
    log.update(during)
    log.update(silenced_rules(file, file.rules, DURING))  # no change, no line
    log.update(silenced_rules(file, file.rules, AFTER))
    assert [r.getMessage() for r in caplog.records] == [
        "rule jobs_stuck on main: silenced by nightly: pages are held back",
        "rule jobs_stuck on main: silence nightly ended: pages resume"]
