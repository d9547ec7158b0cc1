"""`watchdog init --pack NAME ...`: a starter rule file that loads as it is."""
from __future__ import annotations

from pathlib import Path

from watchdog.cli import main
from watchdog.config.loader import load


def test_init_writes_a_file_that_includes_the_packs_and_validates(tmp_path: Path, capsys) -> None:
    assert main(["init", "--pack", "procrastinate", "--pack", "apscheduler"]) == 0
    path = tmp_path / "rules.yaml"
    path.write_text(capsys.readouterr().out)
    rule_file = load(path, {"DATABASE_URL": "postgresql://watchdog@db/app"}).rule_file
    assert {r.name.split("_")[0] for r in rule_file.rules} == {"procrastinate", "apscheduler"}
    assert rule_file.targets["main"].dsn == "postgresql://watchdog@db/app"
    text = path.read_text()
    assert "      heartbeat_timeout: 30s  # A worker whose heartbeat is older is dead" in text
    assert "# Grants: USAGE on the schema holding procrastinate's tables" in text


def test_init_to_a_file_never_overwrites_it(tmp_path: Path, capsys) -> None:
    path = tmp_path / "rules.yaml"
    assert main(["init", "--pack", "apscheduler", "-o", str(path)]) == 0
    written = path.read_text()
    assert "- pack: apscheduler" in written
    assert main(["init", "--pack", "celery", "-o", str(path)]) == 2
    assert "exists; init never overwrites a file" in capsys.readouterr().err
    assert path.read_text() == written


def test_init_with_an_unknown_pack_exits_2(capsys) -> None:
    assert main(["init", "--pack", "sidekiq"]) == 2
    assert "no pack named 'sidekiq'" in capsys.readouterr().err
