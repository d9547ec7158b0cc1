"""`watchdog validate` warns of silences that are valid but most likely not meant: on stderr, exit 0."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from freezegun import freeze_time

from silence_rules import CONTRACT_SILENCES, HEAD

from watchdog.cli import main

RULES = HEAD + CONTRACT_SILENCES


def validate(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["validate", "-c", str(path)])
    captured = capsys.readouterr()
    assert captured.out == ""
    return code, [line.replace(str(path), "rules.yaml") for line in captured.err.splitlines()]


def test_good_silences_print_nothing(write_rules: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    with freeze_time("2026-11-29T01:00:00Z"):
        assert validate(write_rules(RULES), capsys) == (0, [])


def test_a_one_off_silence_whose_end_has_passed_is_warned_about(write_rules: Callable[..., Path],
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = write_rules(RULES)
    with freeze_time("2026-12-03T11:59:59Z"):
        assert validate(path, capsys) == (0, [])
    with freeze_time("2026-12-03T12:00:00Z"):
        assert validate(path, capsys) == (0, [
            "rules.yaml:12:5: silence 'migration-2026-12-03': warning: expired at 2026-12-03T12:00:00Z: "
            "it quiets nothing any more (remove it)"])


def test_a_silence_matching_no_rule_is_warned_about(write_rules: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    path = write_rules(RULES.replace("{tag: seed-004}", "{tag: seed-04}").replace("{target: main}", "{target: main, rule: sitemap}"))
    with freeze_time("2026-11-29T01:00:00Z"):
        code, lines = validate(path, capsys)
    unmatched = "warning: matches no rule of the file (a misspelt rule, tag or target?): the pages it should quiet will come"
    assert (code, lines) == (0, [f"rules.yaml:7:5: silence 'nightly-maintenance': {unmatched}",
                                 f"rules.yaml:12:5: silence 'migration-2026-12-03': {unmatched}"])


def test_a_silence_longer_than_a_week_or_one_that_never_ends_is_warned_about(write_rules: Callable[..., Path],
                                                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = write_rules(RULES.replace("2026-12-03T12:00:00Z", "2026-12-10T08:00:01Z").replace("duration: 1h", "duration: 24h"))
    with freeze_time("2026-11-29T01:00:00Z"):
        code, lines = validate(path, capsys)
    assert (code, lines) == (0, [
        "rules.yaml:7:5: silence 'nightly-maintenance': warning: never ends: each window lasts 1d but '0 2 * * *' fires again within 1d",
        "rules.yaml:12:5: silence 'migration-2026-12-03': warning: lasts 604801s, longer than 1w: a silence that long hides real incidents",
    ])
    # A day less one minute ends every night; a week to the second is within the bound.
    path = write_rules(RULES.replace("2026-12-03T12:00:00Z", "2026-12-10T08:00:00Z").replace("duration: 1h", "duration: 23h59m"))
    with freeze_time("2026-11-29T01:00:00Z"):
        assert validate(path, capsys) == (0, [])


def test_only_across_the_spring_change_a_23h30m_window_overlaps_the_next(write_rules: Callable[..., Path],
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    # Around 25 October 2026 the nightly fires are 24 and 25 real hours apart (02:00 CEST, then 02:00
    # CET); around the spring change, 29 March's fire (03:00 CEST, where the skipped 02:00 goes) and
    # 30 March's (02:00 CEST) are 23 hours apart: a 23h30m window is still open when the next opens.
    path = write_rules(RULES.replace("duration: 1h", "duration: 23h30m"))
    with freeze_time("2026-10-20T00:00:00Z"):
        assert validate(path, capsys) == (0, [])
    with freeze_time("2026-03-25T00:00:00Z"):
        assert validate(path, capsys) == (0, [
            "rules.yaml:7:5: silence 'nightly-maintenance': warning: never ends: each window lasts 1410m but "
            "'0 2 * * *' fires again within 23h"])
