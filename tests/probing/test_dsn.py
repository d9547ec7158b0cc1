"""DSNs: the driver they name, and their passwords never shown, even in a mistyped one."""
from __future__ import annotations

import pytest

from watchdog.cli import main
from watchdog.probing.dsn import DsnError, dialect_of, redact, scrub, secrets_of, sqlite_path


def test_redact_hides_passwords_in_urls_and_keywords():
    assert redact("postgresql://app:s3cr3t@db:5432/prod") == "postgresql://app:***@db:5432/prod"
    assert redact("host=db password=s3cr3t user=app") == "host=db password=*** user=app"
    assert redact("sqlite:///x.db") == "sqlite:///x.db"


def test_redact_and_secrets_hold_for_urls_urllib_cannot_parse():
    for dsn, shown in [("postgresql://app:s3cr3t@[::1/db", "postgresql://app:***@[::1/db"),
                       ("postgresql://app:s3cr3t@db:port/x", "postgresql://app:***@db:port/x"),
                       ("postgresql://app:s3:cr@t@db/x", "postgresql://app:***@db/x")]:
        assert redact(dsn) == shown
        assert scrub(dsn, secrets_of(dsn)) == shown
    assert redact("postgresql://app@db:5432/x") == "postgresql://app@db:5432/x"


def test_secrets_and_scrub():
    secrets = secrets_of("postgresql://app:s3cr3t@db/prod")
    assert scrub("failed for app:s3cr3t@db", secrets) == "failed for app:***@db"


def test_dialects_and_sqlite_paths():
    assert dialect_of("postgres://h/db").name == "postgresql"
    assert sqlite_path("sqlite:///rel/x.db") == "rel/x.db"
    assert sqlite_path("sqlite:////abs/x.db") == "/abs/x.db"
    with pytest.raises(DsnError, match="^unsupported DSN scheme 'oracle': "):
        dialect_of("oracle://u:pw@h/db")
    with pytest.raises(DsnError, match="^an SQLite DSN looks like sqlite:///relative/path.db or sqlite:////absolute/path.db$"):
        dialect_of("sqlite:x.db")


@pytest.mark.parametrize("dsn", [
    "postgresq://app:pa/ss?w#rd@db/x",
    "postgres ://app:pa/ss?w#rd@db/x",
    "postgresql+psycopg://app:pa/ss?w#rd@db/x",
    "host=db password='pa/ss?w#rd' user=app",
    "host=db password=pa/ss?w#rd:x user=app",
    "app:pa/ss?w#rd@db/x",
])
def test_a_mistyped_dsn_is_never_echoed(dsn):
    with pytest.raises(DsnError) as caught:
        dialect_of(dsn)
    assert "pa/ss" not in str(caught.value) and "w#rd" not in str(caught.value)


@pytest.mark.parametrize("dsn, secret", [
    ("postgresql://app:pa/ss?w#rd@db/x", "pa/ss?w#rd"),
    ("postgresql:/app:pa/ss@db/x", "pa/ss"),
    ("postgresql://app:p@ss@db/x", "p@ss"),
    ("host=db password='pa ss' user=app", "pa ss"),
])
def test_secrets_of_a_malformed_dsn_cover_its_password(dsn, secret):
    assert secret in secrets_of(dsn)
    assert secret not in scrub(f"missing \"=\" after \"{dsn}\" in connection info string", secrets_of(dsn))


@pytest.mark.parametrize("dsn", ["postgresq://app:hunter2secret@127.0.0.1:1/db", "postgresql:/app:hunter2secret@127.0.0.1:1/db",
                                 "postgresql:app:hunter2secret@127.0.0.1/db", "postgresql://app:hunter2/secret@127.0.0.1:1/db"])
def test_a_mistyped_dsn_through_the_cli_never_shows_its_password(write_rules, capsys, dsn):
    path = write_rules("""
        version: 1
        targets: {main: {dsn: "sqlite:///x.db"}}
        rules:
          - {name: a, check: count, table: t}
    """)
    assert main(["check", "-c", str(path), "--dsn", dsn, "--format", "json"]) in (2, 3)
    captured = capsys.readouterr()
    assert "hunter2" not in captured.out + captured.err and "secret" not in captured.out + captured.err
    mistyped = path.parent / "mistyped.yaml"
    mistyped.write_text(path.read_text().replace("sqlite:///x.db", dsn))
    assert main(["check", "-c", str(mistyped), "--format", "json"]) in (2, 3)
    captured = capsys.readouterr()
    assert "hunter2" not in captured.out + captured.err and "secret" not in captured.out + captured.err
