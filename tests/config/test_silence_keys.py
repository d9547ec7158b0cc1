"""`silences:` in the rule file: typed values for a good file, located problems (exit 2) for a bad one."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest

from silence_rules import CONTRACT_SILENCES, HEAD

from watchdog.cli import main
from watchdog.config.loader import load
from watchdog.model.silences import Match, OneOff, Recurring, Silence

UTC = timezone.utc


def test_the_contract_example_loads_as_typed_silences(write_rules: Callable[..., Path]) -> None:
    path = write_rules(HEAD + CONTRACT_SILENCES + """\
    comment: sitemap processor off during the migration
  - name: local-times
    match: {severity: [warning, critical], target: main}
    from: "2026-03-29 01:30"
    until: 2026-03-29 03:30
    timezone: Europe/Berlin
""")
    nightly, migration, local = load(path, {}).rule_file.silences
    assert nightly == Silence("nightly-maintenance", Match(target=("main",)), Recurring("0 2 * * *", 3600.0, "Europe/Berlin"),
                              location=nightly.location)
    assert (nightly.location.line, nightly.location.col) == (7, 5)
    assert migration.window == OneOff(datetime(2026, 12, 3, 8, tzinfo=UTC), datetime(2026, 12, 3, 12, tzinfo=UTC))
    assert (migration.match, migration.comment) == (Match(tag=("seed-004",)), "sitemap processor off during the migration")
    # Without an offset, a time is read on the silence's clock: 01:30 CET and 03:30 CEST, one hour apart.
    assert local.window == OneOff(datetime(2026, 3, 29, 0, 30, tzinfo=UTC), datetime(2026, 3, 29, 1, 30, tzinfo=UTC))
    assert local.match == Match(target=("main",), severity=("warning", "critical"))


BAD = [
    ("""\
  - name: a
    match: {target: main}
    cron: "0 25 * * *"
    duration: 1h
""", ["rules.yaml:9:11: silence 'a': bad cron schedule: '0 25 * * *': bad hour field '25'"]),
    ("""\
  - name: a
    match: {target: main}
    cron: "0 2 * * *"
    duration: 1h
    from: 2026-12-03T08:00:00Z
    until: 2026-12-03T12:00:00Z
""", ["rules.yaml:11:5: silence 'a': give either 'cron' + 'duration' (recurring) or 'from' + 'until' (one-off), not both"]),
    ("""\
  - name: a
    match: {target: main}
    from: 2026-12-03T12:00:00Z
    until: 2026-12-03T08:00:00Z
""", ["rules.yaml:10:12: silence 'a': 'until' (2026-12-03T08:00:00Z) is not after 'from' (2026-12-03T12:00:00Z)"]),
    ("""\
  - name: a
    match: {target: main}
    cron: "0 2 * * *"
""", ["rules.yaml:7:5: silence 'a': missing 'duration' (a recurring silence needs cron and duration)"]),
    ("""\
  - name: a
    match: {target: main}
    from: 2026-12-03T12:00:00Z
""", ["rules.yaml:7:5: silence 'a': missing 'until' (a one-off silence needs from and until)"]),
    ("""\
  - name: a
    match: {tags: seed-004}
    from: 2026-12-03T08:00:00Z
    until: 2026-12-03T12:00:00Z
""", ["rules.yaml:8:13: silence 'a': unknown key 'tags' (did you mean 'tag'?)"]),
    ("""\
  - name: a
    match: {}
    from: 2026-12-03T08:00:00Z
    until: 2026-12-03T12:00:00Z
""", ["rules.yaml:8:12: silence 'a': 'match' needs at least one of rule, target, tag, severity "
      "(a silence of everything would hide every page)"]),
    ("""\
  - {name: a, match: {target: main}, from: 2026-12-03T08:00:00Z, until: 2026-12-03T12:00:00Z}
  - {name: a, match: {target: main}, from: 2026-12-04T08:00:00Z, until: 2026-12-04T12:00:00Z}
""", ["rules.yaml:8:12: silence 'a': duplicate silence name (first defined at line 7)"]),
    ("""\
  - name: a
    match: {severity: loud}
    cron: "@daily"
    duration: 30s
    timezone: Europe/Berlinn
""", ["rules.yaml:8:23: silence 'a': 'loud' is not one of info, warning, critical",
      "rules.yaml:10:15: silence 'a': must be at least 1m, got 30s",
      "rules.yaml:11:15: silence 'a': unknown time zone 'Europe/Berlinn' (use an IANA name such as America/New_York or UTC)"]),
    ("""\
  - name: a
    match: {target: main}
    from: 2026-12-03
    until: tomorrow
""", ["rules.yaml:9:11: silence 'a': expected a date and time such as 2026-12-03T08:00:00Z, got a date without a time",
     "rules.yaml:10:12: silence 'a': 'tomorrow' is not a date and time (write 2026-12-03T08:00:00Z, or a local "
     "2026-12-03 08:00 read in the silence's timezone)"]),
    ("  - {match: {target: main}}\n",
     ["rules.yaml:7:5: missing required key 'name'",
      "rules.yaml:7:5: no window: give 'cron' + 'duration' (recurring) or 'from' + 'until' (one-off)"]),
]


@pytest.mark.parametrize(("body", "expected"), BAD)
def test_a_bad_silence_is_a_located_problem_and_exits_2(write_rules: Callable[..., Path], capsys: pytest.CaptureFixture[str],
                                                         body: str, expected: list[str]) -> None:
    path = write_rules(HEAD + body)
    assert main(["validate", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    lines = [line.replace(str(path), "rules.yaml") for line in err.splitlines()]
    assert sorted(lines[:-1]) == sorted(expected)
    assert lines[-1].endswith("nothing was run.") and "Traceback" not in err
