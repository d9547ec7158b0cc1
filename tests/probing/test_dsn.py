import pytest

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
    with pytest.raises(DsnError, match="unsupported DSN 'oracle://u:\\*\\*\\*@h/db'"):
        dialect_of("oracle://u:pw@h/db")
    with pytest.raises(DsnError, match="^an SQLite DSN looks like sqlite:///relative/path.db or sqlite:////absolute/path.db$"):
        dialect_of("sqlite:x.db")
