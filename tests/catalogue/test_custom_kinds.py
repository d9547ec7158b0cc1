"""Users add kinds with `check_paths`: one NAME.yaml + NAME.sql, no change to the package."""
from __future__ import annotations

import sqlite3
import textwrap

from watchdog.catalogue.registry import load_registry
from watchdog.cli import main


def test_builtin_catalogue_has_every_kind_of_the_contract():
    registry, problems = load_registry()
    assert problems == []
    assert set(registry.names()) >= {"duplicate", "stuck", "absent", "allowlist", "stale_heartbeat", "orphan", "ratio", "count", "sql",
                                     "schedule"}
    for kind in registry.kinds.values():
        assert kind.shape in ("rows", "aggregate", "schedule") and kind.description


def test_a_user_kind_from_check_paths_runs(tmp_path, write_rules, capsys):
    kinds = tmp_path / "my_checks"
    kinds.mkdir()
    (kinds / "future_runs.yaml").write_text(textwrap.dedent("""
        description: Runs scheduled further ahead than `horizon` (a clock set wrong).
        shape: rows
        uses: [table, where, time_column, time_unit]
        requires: [table, time_column]
        params:
          horizon: {type: duration, required: true}
    """))
    (kinds / "future_runs.sql").write_text("SELECT * FROM {{ table }}\n{{ where(time_column ~ ' > ' ~ cutoff(-horizon)) }}\n")
    db = tmp_path / "s.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, run_at TEXT)")
    conn.execute("INSERT INTO runs (run_at) VALUES ('2999-01-01 00:00:00'), ('2000-01-01 00:00:00')")
    conn.commit()
    conn.close()
    path = write_rules(f"""
        version: 1
        check_paths: [my_checks]
        targets: {{main: {{dsn: "sqlite:///{db}"}}}}
        rules:
          - {{name: runs_in_future, check: future_runs, table: runs, time_column: run_at, horizon: 1d}}
    """)
    assert main(["check", "-c", str(path)]) == 1
    assert "id=1, run_at=2999-01-01 00:00:00" in capsys.readouterr().out


def test_a_broken_user_kind_is_a_located_error(tmp_path, write_rules, capsys):
    kinds = tmp_path / "my_checks"
    kinds.mkdir()
    (kinds / "bad.yaml").write_text("description: x\nshape: table\nparams: {n: {type: numbr}}\n")
    (kinds / "bad.sql").write_text("SELECT 1\n")
    path = write_rules("version: 1\ncheck_paths: [my_checks]\ntargets: {main: {dsn: 'sqlite:///x'}}\nrules: []\n")
    assert main(["validate", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{kinds / 'bad.yaml'}:3:" in err and "unknown parameter type 'numbr'" in err
    assert "shape must be one of rows, aggregate" in err
