"""`watchdog compile` lists each probe's SQL and parameters, never a variable's value."""
from __future__ import annotations

from watchdog.cli import main


def test_values_from_variables_are_masked_in_parameters_and_sql(write_rules, capsys, monkeypatch):
    monkeypatch.setenv("TENANT", "acme-tenant-secret")
    monkeypatch.setenv("CODE", "7")
    monkeypatch.setenv("NOTE", "hush-hush")
    path = write_rules("""
        version: 1
        targets: {main: {dsn: "postgresql://app@db/x"}}
        rules:
          - {name: a, check: count, table: t, where: {tenant: "${TENANT}", code: ["${CODE}", plain]}, where_sql: "note <> '${NOTE}'"}
    """)
    assert main(["compile", "-c", str(path)]) == 0
    out = capsys.readouterr().out
    assert "acme-tenant-secret" not in out and "hush-hush" not in out
    assert "note <> '***'" in out
    assert out.endswith(
        "-- parameters:\n"
        "--   p0 = *** (from a variable)\n"
        "--   p1 = *** (from a variable)\n"
        "--   p2 = 'plain'\n"
    )
