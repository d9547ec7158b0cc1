"""`${file:PATH}` beside `${VAR}`: secrets read from files (Kubernetes Secrets, systemd credentials),
kept out of every output like variables' values."""
from __future__ import annotations

import sqlite3

from watchdog.cli import main


def test_a_secret_from_a_file_is_used_and_never_shown(tmp_path, write_rules, capsys):
    db = tmp_path / "jobs.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE jobs (id int, owner text)")
        conn.execute("INSERT INTO jobs VALUES (1, 'hunter2-token')")
    (tmp_path / "owner.secret").write_text("hunter2-token\n")  # as `echo ... > file` writes it
    path = write_rules(f"""
        version: 1
        targets: {{main: {{dsn: "sqlite:///{db}"}}}}
        rules:
          - {{name: owned, check: count, table: jobs, where: {{owner: "${{file:owner.secret}}"}}, expect: "== 0"}}
    """)
    assert main(["check", "-c", str(path), "--format", "json"]) == 1  # the file's text, without its newline, matched
    assert main(["compile", "-c", str(path)]) == 0
    out = capsys.readouterr().out
    assert '"value": 1' in out and "hunter2-token" not in out


def test_an_unreadable_secret_file_is_a_located_problem(tmp_path, write_rules, capsys):
    path = write_rules("""
        version: 1
        targets: {main: {dsn: "sqlite:///x.db"}}
        rules:
          - {name: owned, check: count, table: jobs, where: {owner: "${file:missing.secret}"}}
    """)
    assert main(["validate", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:4:" in err and "cannot read secret file 'missing.secret': No such file or directory" in err
