"""Durations, intervals and timeouts out of range are located problems (exit 2), not a dead scheduler."""
from __future__ import annotations

import sqlite3

import pytest

from watchdog.cli import main
from watchdog.config.loader import load
from watchdog.errors import ConfigError

HEAD = """\
version: 1
targets:
  main: {dsn: "sqlite:///DB", statement_timeout: 5s}
rules:
"""


def problems(write_rules, body: str, head: str = HEAD) -> list[str]:
    path = write_rules(head + body)
    with pytest.raises(ConfigError) as caught:
        load(path, {})
    return [str(p).replace(str(path), "rules.yaml") for p in caught.value.problems]


@pytest.mark.parametrize("key, value, message", [
    ("interval", "0s", "must be at least 1s, got 0s"),
    ("interval", "0", "must be at least 1s, got 0"),
    ("interval", "500ms", "must be at least 1s, got 500ms"),
    ("interval", "99999999999d", "must be at most 3650d, got 99999999999d"),
    ("repeat_interval", "99999999999d", "must be at most 3650d, got 99999999999d"),
    ("repeat_interval", "0s", "must be at least 1s, got 0s"),
    ("statement_timeout", "99999999999d", "must be at most 1d, got 99999999999d"),
    ("statement_timeout", "0s", "must be at least 1ms, got 0s"),
    ("for", "99999999999d", "must be at most 3650d, got 99999999999d"),
    ("window", "99999999999d", "must be at most 3650d, got 99999999999d"),
    ("window", "0s", "must be at least 1ms, got 0s"),
])
def test_a_duration_out_of_range_is_a_located_problem(write_rules, key, value, message):
    body = f"  - {{name: a, check: count, table: t, time_column: c, {key}: {value}}}\n"
    column = body.index(f"{key}:") + len(key) + 3
    assert problems(write_rules, body) == [f"rules.yaml:5:{column}: rule 'a': {message}"]


def test_a_kinds_own_duration_is_bounded_too(write_rules):
    body = "  - {name: a, check: stuck, table: jobs, where: {status: running}, time_column: c, older_than: 99999999999d}\n"
    assert problems(write_rules, body) == ["rules.yaml:5:96: rule 'a': must be at most 3650d, got 99999999999d"]


@pytest.mark.parametrize("target, message", [
    ("statement_timeout: 0s", "rules.yaml:3:50: must be at least 1ms, got 0s"),
    ("statement_timeout: 30d", "rules.yaml:3:50: must be at most 1d, got 30d"),
    ("connect_timeout: 0s", "rules.yaml:3:48: must be at least 1s, got 0s"),
])
def test_target_timeouts_are_bounded(write_rules, target, message):
    head = f'version: 1\ntargets:\n  main: {{dsn: "sqlite:///DB", {target}}}\nrules:\n'
    assert problems(write_rules, "  - {name: a, check: count, table: t}\n", head) == [message]


def test_notifier_timeouts_are_bounded(write_rules):
    head = HEAD.replace("rules:\n", "notify: {webhook: {url: 'http://127.0.0.1:1/x', timeout: 0s}}\nrules:\n")
    assert problems(write_rules, "  - {name: a, check: count, table: t}\n", head) == [
        "rules.yaml:4:58: must be at least 1ms, got 0s"
    ]


def test_the_bounds_themselves_are_accepted(write_rules):
    body = "  - {name: a, check: count, table: t, time_column: c, interval: 1s, repeat_interval: 3650d, window: 3650d, statement_timeout: 1d}\n"
    rule = load(write_rules(HEAD + body), {}).rule_file.rules[0]
    assert (rule.interval, rule.repeat_interval, rule.window, rule.statement_timeout) == (1.0, 3650 * 86400.0, 3650 * 86400.0, 86400.0)


def test_a_huge_window_exits_2_at_check_not_3(write_rules, tmp_path, capsys):
    db = tmp_path / "x.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (c timestamp)")
    path = write_rules(HEAD.replace("DB", str(db)) + "  - {name: a, check: count, table: t, time_column: c, window: 99999999999d}\n")
    assert main(["check", "-c", str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"{path}:5:63: rule 'a': must be at most 3650d")
