"""`watchdog packs` and `watchdog packs show NAME`."""
from __future__ import annotations

import yaml

from watchdog.cli import main


def test_packs_lists_every_pack_with_its_parameters_and_defaults(capsys) -> None:
    assert main(["packs"]) == 0
    out = capsys.readouterr().out
    for name in ("apscheduler", "celery", "pg_cron", "procrastinate"):
        assert f"\n{name}: " in f"\n{out}"
    assert "  max_runtime (duration, default 1h): A run still running after this is reported." in out
    assert "  required_jobs (strings, default (none)): " in out


def test_packs_show_prints_the_expanded_rules_as_yaml(capsys) -> None:
    assert main(["packs", "show", "procrastinate"]) == 0
    rules = {r["name"]: r for r in yaml.safe_load(capsys.readouterr().out)["rules"]}
    assert rules["procrastinate_periodic_stopped"]["older_than"] == "10m"
    assert rules["procrastinate_periodic_stopped"]["tags"] == ["procrastinate"]
    assert "make_interval(secs => 30)" in rules["procrastinate_job_worker_dead"]["query"]


def test_packs_show_of_an_unknown_pack_exits_2_listing_the_packs(capsys) -> None:
    assert main(["packs", "show", "cron"]) == 2
    assert capsys.readouterr().err == "watchdog: error: no pack named 'cron' (packs: apscheduler, celery, pg_cron, procrastinate)\n"
